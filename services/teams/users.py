"""Nicknames from the auth service: one batched call for every id not cached, cached briefly.

The auth service owns profiles; this service stores only user ids. A list of 50 members or 20 posts
costs at most one ``POST /internal/users/batch``. When auth cannot answer, names come back as None
(the lists still work) and nothing is cached, so the next request asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

from services.kit.errors import Unavailable
from services.kit.peers import Peers, TTLCache

log = logging.getLogger("teammoa.teams")
NICKNAME_TTL_S = 30  # short: a renamed or deactivated user shows up within half a minute
FORMER_MEMBER = "Former member"  # what auth answers for deactivated users, and for ids it does not know


class Directory:
    """Look up users' nicknames through the auth service."""

    def __init__(self, peers: Peers) -> None:
        self._peers = peers
        self._cache: TTLCache[int, str] = TTLCache(NICKNAME_TTL_S)

    async def nicknames(self, user_ids: Iterable[int]) -> dict[int, str | None]:
        """Map each id to its nickname, fetching every uncached one in a single call."""
        wanted = set(user_ids)
        missing = sorted(uid for uid in wanted if self._cache.get(uid) is None)
        if missing:
            await self._fetch(missing)
        return {uid: self._cache.get(uid) for uid in wanted}

    async def nickname(self, user_id: int) -> str | None:
        return (await self.nicknames([user_id]))[user_id]

    def forget(self, user_id: int) -> None:
        self._cache.drop(user_id)

    async def _fetch(self, ids: list[int]) -> None:
        try:
            response = await self._peers.request("auth", "POST", "/internal/users/batch", json={"ids": ids})
            response.raise_for_status()
            found = {user["id"]: user for user in response.json()["users"]}
        except (Unavailable, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("nicknames unavailable: %r", exc)
            return
        for uid in ids:
            user = found.get(uid)
            self._cache.set(uid, user["nickname"] if user and user.get("is_active", True) else FORMER_MEMBER)
