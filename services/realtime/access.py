"""Who may subscribe where, asked of the teams service and cached briefly.

A socket may subscribe to ``team.<t>`` only when its user is a member of team t, and to ``mindmap.<m>``
only when map m belongs to a team the user is a member of. Answers are cached for ``MEMBERSHIP_TTL_S``;
membership events heard on ``team.<t>`` drop the cached answers of that team at once, and every change of
a team's membership bumps its ``epoch`` so a subscription checked just before a removal is checked again.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.kit.errors import Unavailable
from services.kit.peers import Peers, TTLCache

MEMBERSHIP_TTL_S = 10  # brief: removals also arrive as events, which drop the cache at once


class Access:
    """Membership and map lookups through the teams service."""

    def __init__(self, peers: Peers, *, ttl_s: float = MEMBERSHIP_TTL_S) -> None:
        self._peers = peers
        self._members = TTLCache(ttl_s)
        self.epochs: dict[int, int] = defaultdict(int)

    async def is_member(self, team_id: int, user_id: int, *, fresh: bool = False) -> bool:
        """Whether a user is a member of a team (a missing team answers no)."""
        key = (team_id, user_id)
        cached = None if fresh else self._members.get(key)
        if cached is not None:
            return cached
        response = await self._peers.request("teams", "GET", f"/internal/teams/{team_id}/members/{user_id}/")
        if response.status_code not in (200, 404):
            raise Unavailable("Cannot check team membership right now.")
        answer = response.status_code == 200
        self._members.set(key, answer)
        return answer

    async def mindmap(self, map_id: int) -> dict[str, Any] | None:
        """A map's team and current version, or None when there is no such map (never cached: the
        version must be current)."""
        response = await self._peers.request("teams", "GET", f"/internal/mindmaps/{map_id}/")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Unavailable("Cannot look the mind map up right now.")
        body = response.json()
        return {"team_id": int(body["team_id"]), "version": int(body["version"])}

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
