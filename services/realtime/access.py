"""Who may subscribe where, asked of the teams service and cached briefly.

A socket may subscribe to ``team.<t>`` only when its user is a member of team t, and to ``mindmap.<m>``
only when map m belongs to a team the user is a member of. Answers are cached for ``MEMBERSHIP_TTL_S``;
membership events heard on ``team.<t>`` drop the cached answers of that team at once, and every change of
a team's membership bumps its ``epoch`` so a subscription checked just before a removal is checked again.
A map's lookup (its team and version) is cached for ``MAP_TTL_S`` only. Concurrent misses for the same
key share one request, so a crowd reconnecting at once asks the teams service once, not once per socket.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, TypeVar

from services.kit.errors import Unavailable
from services.kit.peers import Peers, TTLCache

MEMBERSHIP_TTL_S = 10  # brief: removals also arrive as events, which drop the cache at once
T = TypeVar("T")
MAP_TTL_S = 1  # the version must be nearly current; the history replay covers anything newer


class Access:
    """Membership and map lookups through the teams service."""

    def __init__(self, peers: Peers, *, ttl_s: float = MEMBERSHIP_TTL_S) -> None:
        self._peers = peers
        self._members: TTLCache[tuple[int, int], bool] = TTLCache(ttl_s)
        self._maps: TTLCache[int, dict[str, Any]] = TTLCache(MAP_TTL_S)
        self._asking: dict[Hashable, asyncio.Task[Any]] = {}
        self.epochs: dict[int, int] = defaultdict(int)

    async def _once(self, key: Hashable, ask: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``ask`` for a key, sharing the one request in flight with every concurrent caller."""
        task: asyncio.Task[T] | None = self._asking.get(key)
        if task is None:
            task = self._asking[key] = asyncio.create_task(ask())
            task.add_done_callback(lambda done: self._asking.pop(key, None) if self._asking.get(key) is done else None)
        return await asyncio.shield(task)

    async def is_member(self, team_id: int, user_id: int, *, fresh: bool = False) -> bool:
        """Whether a user is a member of a team (a missing team answers no)."""
        key = (team_id, user_id)
        cached = None if fresh else self._members.get(key)
        if isinstance(cached, bool):
            return cached

        async def ask() -> bool:
            response = await self._peers.request("teams", "GET", f"/internal/teams/{team_id}/members/{user_id}/")
            if response.status_code not in (200, 404):
                raise Unavailable("Cannot check team membership right now.")
            self._members.set(key, response.status_code == 200)
            return response.status_code == 200

        return await self._once(("member", key, fresh), ask)

    async def mindmap(self, map_id: int, *, fresh: bool = False) -> dict[str, Any] | None:
        """A map's team and (nearly) current version, or None when there is no such map."""
        cached = None if fresh else self._maps.get(map_id)
        if isinstance(cached, dict):
            return cached or None

        async def ask() -> dict[str, Any] | None:
            response = await self._peers.request("teams", "GET", f"/internal/mindmaps/{map_id}/")
            if response.status_code not in (200, 404):
                raise Unavailable("Cannot look the mind map up right now.")
            body = response.json() if response.status_code == 200 else {}
            found = {"team_id": int(body["team_id"]), "version": int(body["version"])} if body else {}
            self._maps.set(map_id, found)
            return found or None

        return await self._once(("map", map_id, fresh), ask)

    async def member_throughout(self, team_id: int, user_id: int, meanwhile: Callable[[], Awaitable[None]]) -> bool:
        """Whether a user is a member: asked before ``meanwhile`` runs, and asked afresh after it when a
        membership event of the team arrived in between (the caller then hears every later one)."""
        epoch = self.epochs[team_id]
        if not await self.is_member(team_id, user_id):
            return False
        await meanwhile()
        return self.epochs[team_id] == epoch or await self.is_member(team_id, user_id, fresh=True)

    def membership_changed(self, team_id: int, user_id: int | None = None) -> None:
        """Forget cached answers for a team (one user, or everyone) and bump its epoch."""
        self.epochs[team_id] += 1
        if user_id is None:
            self._members.drop_where(lambda key: key[0] == team_id)
        else:
            self._members.drop((team_id, user_id))

    def forget_team(self, team_id: int) -> None:
        """Stop trusting cached answers for a team whose events this instance no longer hears."""
        self._members.drop_where(lambda key: key[0] == team_id)
        self.epochs.pop(team_id, None)
