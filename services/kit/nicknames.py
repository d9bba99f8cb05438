"""Users' display names, asked of the auth service: the one lookup every service uses.

The auth service owns profiles; the other services store only user ids. The contract, the same for
every caller:

- **One call per lookup**: every id not cached goes in a single ``POST /internal/users/batch`` (a list
  of 50 members or 20 posts costs at most one call).
- **Cached for ``NICKNAME_TTL_S``** (30 s), so a renamed or deactivated user shows up within half a
  minute; ``forget(user_id)`` drops one entry at once (teams does so when auth reports a deactivation).
- **Every id asked is in the answer.** A deactivated user, or an id auth does not know, reads as
  ``FORMER_MEMBER``. When auth cannot answer, the ids it did not answer for map to ``None`` — a list
  still works, showing no name — and nothing is cached, so the next request asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

from .errors import Unavailable
from .peers import Peers, TTLCache

log = logging.getLogger("teammoa.nicknames")
NICKNAME_TTL_S = 30  # short: a renamed or deactivated user shows up within half a minute
FORMER_MEMBER = "Former member"  # what auth answers for deactivated users, and for ids it does not know


class Nicknames:
    """Look up users' nicknames through the auth service (see the module's contract)."""

    def __init__(self, peers: Peers) -> None:
        self._peers = peers
        self._cache: TTLCache[int, str] = TTLCache(NICKNAME_TTL_S)

    async def nicknames(self, user_ids: Iterable[int]) -> dict[int, str | None]:
        """Map each id to its nickname (None while auth cannot answer), fetching the uncached ones at once."""
        wanted = set(user_ids)
        missing = sorted(uid for uid in wanted if self._cache.get(uid) is None)
        if missing:
            await self._fetch(missing)
        return {uid: self._cache.get(uid) for uid in wanted}

    async def nickname(self, user_id: int) -> str | None:
        """One user's nickname (None while auth cannot answer)."""
        return (await self.nicknames([user_id]))[user_id]

    def forget(self, user_id: int) -> None:
        """Drop one cached name (the user was renamed or deactivated)."""
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
            active = user is not None and user.get("is_active", True) and user.get("nickname")
            self._cache.set(uid, user["nickname"] if active and user else FORMER_MEMBER)
