"""What the schedule service knows of teams and people, asked of their owners and cached briefly.

Teams (time zone, current members) come from the teams service, nicknames from auth (the kit's one
lookup, services/kit/nicknames.py). A team's entry
is cached only under the team's members version (``kit.events.members_key``), which the teams
service bumps after committing any change of members, host or time zone and before acknowledging it:
every request reads that version (one Redis round trip, shared with the availability version) and an
entry of another version is never used, so a removed member is refused by every instance on the
first request after the removal was acknowledged. When the version cannot be read nothing is cached.
The entry is also dropped at once by the team's ``member.*``, ``team.updated`` or ``team.disbanded``
events while this instance follows the team's channel, and the TTL bounds its age.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from services.kit.channels import MEMBER_PREFIX, TEAM_DISBANDED, TEAM_UPDATED, team_channel
from services.kit.errors import NotFound, Unavailable
from services.kit.events import EventBus
from services.kit.nicknames import Nicknames
from services.kit.peers import Peers, TTLCache

log = logging.getLogger("teammoa.schedule.directory")
TEAM_TTL_S = 60.0  # checked against the members version on every request; the TTL only bounds age
FOLLOW_IDLE_S = 10 * 60  # stop following a team nobody asked about for this long
FOLLOW_MAX = 1000  # teams followed at once by one instance
SUBSCRIBE_WAIT_S = 1.0
DROPPING_EVENTS = (MEMBER_PREFIX, TEAM_UPDATED, TEAM_DISBANDED)


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    time_zone: str
    members: frozenset[int]
    name: str | None = None
    host_id: int | None = None
    version: int | None = None  # the members version the facts were read under (None: not cacheable)


class TeamDirectory:
    """Team facts from the teams service, cached while the team's events are followed."""

    def __init__(self, *, peers: Peers, events: EventBus) -> None:
        self._peers, self._events = peers, events
        self._teams: TTLCache[int, Team] = TTLCache(TEAM_TTL_S)
        self._nicknames = Nicknames(peers)
        self._generation: dict[int, int] = {}
        self._follows: dict[int, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._last_used: dict[int, float] = {}
        self.listener: Callable[[int, str, dict[str, Any]], None] | None = None

    async def team(self, team_id: int, version: int | None) -> Team:
        """The team's time zone and current members; NotFound when there is no such team.

        ``version`` is the team's members version read for this request (None when unreadable: then
        the teams service is asked every time).
        """
        self._last_used[team_id] = time.monotonic()
        cached = self._teams.get(team_id)
        if cached is not None and version is not None and cached.version == version:
            return cached
        following = await self._follow(team_id)
        generation = self._generation.get(team_id, 0)
        try:
            team = await self._fetch(team_id)
        except NotFound:
            self._unfollow(team_id)  # nothing to follow: probing ids must not pile up subscriptions
            raise
        team = replace(team, version=version)
        if following and version is not None and self._generation.get(team_id, 0) == generation:
            self._teams.set(team_id, team)  # no event arrived while we asked
        return team

    async def member_team(self, team_id: int, user_id: int, version: int | None) -> Team:
        """The team, if ``user_id`` is a current member; NotFound otherwise (never reveal the team)."""
        team = await self.team(team_id, version)
        if user_id not in team.members:
            raise NotFound()
        return team

    async def _fetch(self, team_id: int) -> Team:
        response = await self._peers.request("teams", "GET", f"/internal/teams/{team_id}/members/")
        if response.status_code == 404:
            raise NotFound()
        if response.status_code != 200:
            raise Unavailable("The teams service failed.")
        body = response.json()
        members = frozenset(int(m["user_id"]) for m in body.get("members", []))
        host = next((int(m["user_id"]) for m in body.get("members", []) if m.get("role") == "host"), None)
        return Team(team_id, str(body.get("time_zone") or "UTC"), members, body.get("name"), host_id=host)

    async def nicknames(self, user_ids: list[int]) -> dict[int, str | None]:
        """Display names of users, by the kit's one lookup (services/kit/nicknames.py: None while auth
        cannot answer)."""
        return await self._nicknames.nicknames(user_ids)

    # Following team channels -------------------------------------------------------------------

    async def _follow(self, team_id: int) -> bool:
        """Make sure this instance hears the team's events; True once it does."""
        follow = self._follows.get(team_id)
        if follow is None or follow[0].done():
            if len(self._follows) >= FOLLOW_MAX:
                self._unfollow(min(self._follows, key=lambda t: self._last_used.get(t, 0.0)))
            ready = asyncio.Event()
            task = asyncio.create_task(self._listen(team_id, ready), name=f"schedule-follow-team-{team_id}")
            follow = self._follows[team_id] = (task, ready)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(follow[1].wait(), SUBSCRIBE_WAIT_S)
        return follow[1].is_set()

    async def _listen(self, team_id: int, ready: asyncio.Event) -> None:
        try:
            async with self._events.subscribe(team_channel(team_id)) as subscriber:
                ready.set()
                async for event in subscriber:
                    self.heard(team_id, event.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the bus is down: stop caching this team until we follow it again
            log.warning("cannot follow team.%s: %r", team_id, exc)
        finally:
            self._teams.drop(team_id)

    def heard(self, team_id: int, message: str) -> None:
        """React to one event of a team's channel (and pass it on to ``listener``, if set)."""
        try:
            event = json.loads(message)
            kind = str(event.get("type", ""))
        except (ValueError, AttributeError):
            return
        if kind.startswith(DROPPING_EVENTS):
            self._generation[team_id] = self._generation.get(team_id, 0) + 1
            self._teams.drop(team_id)
        if self.listener is not None:
            data = event.get("data")
            self.listener(team_id, kind, data if isinstance(data, dict) else {})

    async def keep(self, team_ids: list[int]) -> None:
        """Follow these teams whether or not anyone asks about them (they have meetings to look after)."""
        now = time.monotonic()
        for team_id in team_ids:
            self._last_used[team_id] = now
            await self._follow(team_id)

    def _unfollow(self, team_id: int) -> None:
        follow = self._follows.pop(team_id, None)
        self._last_used.pop(team_id, None)
        self._teams.drop(team_id)
        if follow is not None:
            follow[0].cancel()

    async def prune(self) -> None:
        """Stop following teams nobody asked about lately."""
        cutoff = time.monotonic() - FOLLOW_IDLE_S
        for team_id in [t for t, used in self._last_used.items() if used < cutoff]:
            self._unfollow(team_id)
            self._generation.pop(team_id, None)

    async def aclose(self) -> None:
        """Stop following every team (before the event bus disconnects)."""
        tasks = [task for task, _ in self._follows.values()]
        for team_id in list(self._follows):
            self._unfollow(team_id)
        await asyncio.gather(*tasks, return_exceptions=True)
