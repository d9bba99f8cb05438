"""Accounts whose access tokens stop before they expire (deactivation), honoured by every verifier.

An access token lives 15 minutes and is checked by signature alone, so deactivating an account must
tell every service at once. Auth calls ``revoke``: the user id and the time go

- into this process's table at once (embedded mode shares one table between all services: immediate);
- into a Redis sorted set (``<prefix>revoked``), kept for the lifetime of a token;
- out on the event bus (channel ``auth.revocations``), which every service listens to.

Every service's ``TokenVerifier`` refuses a token of a listed user issued at or before the listed time.
A service that missed a message (it was starting, or its subscription was down) finds the entry in Redis:
it loads the set at startup and again every ``RELOAD_INTERVAL_S``. Listeners (realtime) are told too,
so open sockets of the account close.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

log = logging.getLogger("teammoa.revocations")
CHANNEL = "auth.revocations"
KEEP_S = 20 * 60  # longer than an access token lives (15 min) plus leeway
RELOAD_INTERVAL_S = 5.0


class Revocations:
    """The revoked users of this process: user id -> the time before which their tokens are void."""

    def __init__(self, redis: Any = None, prefix: str = "") -> None:
        self._at: dict[int, float] = {}
        self._redis, self._key = redis, prefix + "revoked"
        self._listeners: list[Callable[[int], None]] = []

    def on_revoke(self, listener: Callable[[int], None]) -> None:
        self._listeners.append(listener)

    def revoked(self, user_id: int, issued_at: float) -> bool:
        """Whether a token of this user issued at ``issued_at`` is void."""
        at = self._at.get(user_id)
        return at is not None and issued_at <= at

    def apply(self, user_id: int, at: float) -> None:
        """Record a revocation heard from elsewhere (or made here)."""
        known = self._at.get(user_id)
        if known is not None and known >= at:
            return
        self._at[user_id] = at
        self._prune()
        for listener in self._listeners:
            try:
                listener(user_id)
            except Exception:
                log.exception("revocation listener failed")

    def _prune(self) -> None:
        if len(self._at) > 1000:
            cutoff = time.time() - KEEP_S
            self._at = {uid: at for uid, at in self._at.items() if at > cutoff}

    async def revoke(self, user_id: int, bus: Any = None) -> None:
        """Void every token of a user issued until now, everywhere (auth, on deactivation)."""
        at = time.time() + 1  # tokens minted in this very second are void too (iat is whole seconds)
        self.apply(user_id, at)
        if self._redis is not None:
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.zadd(self._key, {str(user_id): at})
                    pipe.zremrangebyscore(self._key, "-inf", time.time() - KEEP_S)
                    await pipe.execute()
            except Exception as exc:  # the bus and the 15-minute expiry still hold
                log.warning("revocation of user %s not stored in Redis: %r", user_id, exc)
        if bus is not None:
            await bus.publish(CHANNEL, "user.revoked", {"user_id": user_id, "at": at})

    async def reload(self) -> None:
        """Take every revocation stored in Redis (missed messages, a fresh start)."""
        if self._redis is None:
            return
        entries = await self._redis.zrangebyscore(self._key, time.time() - KEEP_S, "+inf", withscores=True)
        for member, score in entries:
            self.apply(int(member), float(score))

    @contextlib.asynccontextmanager
    async def listening(self, bus: Any) -> AsyncIterator[None]:
        """Apply revocations from the bus and from Redis while the service runs."""
        with contextlib.suppress(Exception):  # Redis down at startup: the reload loop tries again
            await self.reload()
        tasks = [asyncio.create_task(self._listen(bus), name="revocations-listener")]
        if self._redis is not None:
            tasks.append(asyncio.create_task(self._reload_loop(), name="revocations-reload"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self, bus: Any) -> None:
        while True:
            try:
                async with bus.subscribe(CHANNEL) as subscriber:
                    async for event in subscriber:
                        data = json.loads(event.message).get("data", {})
                        self.apply(int(data["user_id"]), float(data["at"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("revocation listener stopped (%r); listening again", exc)
            await asyncio.sleep(1.0)

    async def _reload_loop(self) -> None:
        while True:
            try:
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("revocations not reloaded: %r", exc)
            await asyncio.sleep(RELOAD_INTERVAL_S)
