"""Counters of failed attempts in fixed windows: Redis in production, process memory when embedded.

Used for login failures (auth) and join guesses (teams). A key blocks once its count in the current
window reaches the limit; ``Retry-After`` is the time left in that window.

While Redis is unreachable, ``FallbackCounters`` counts in this process instead of failing the request
or letting every attempt through: the limits keep holding per instance, and the shared counts take
over again when Redis answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from redis.asyncio import Redis

from .errors import RateLimited

R = TypeVar("R")

log = logging.getLogger("teammoa.ratelimit")


class Counters(Protocol):
    async def incr(self, key: str, window_s: int) -> int: ...
    async def get(self, key: str) -> tuple[int, float]: ...
    async def reset(self, key: str) -> None: ...


class MemoryCounters:
    """Windowed counters in this process (embedded mode: one process by definition)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    async def incr(self, key: str, window_s: int) -> int:
        now = time.monotonic()
        count, expires = self._counts.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + window_s
        self._counts[key] = (count + 1, expires)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        return count + 1

    async def get(self, key: str) -> tuple[int, float]:
        count, expires = self._counts.get(key, (0, 0.0))
        left = expires - time.monotonic()
        return (count, left) if left > 0 else (0, 0.0)

    async def reset(self, key: str) -> None:
        self._counts.pop(key, None)


class RedisCounters:
    """Windowed counters shared by every instance."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis, self._prefix = redis, prefix + "rl:"

    async def incr(self, key: str, window_s: int) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._prefix + key)
            pipe.expire(self._prefix + key, window_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def get(self, key: str) -> tuple[int, float]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._prefix + key)
            pipe.pttl(self._prefix + key)
            count, ttl_ms = await pipe.execute()
        return (int(count or 0), max(ttl_ms, 0) / 1000) if count else (0, 0.0)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class FallbackCounters:
    """Counters in Redis, or in this process while Redis cannot be reached (never open the gates)."""

    def __init__(self, primary: Counters, fallback: MemoryCounters | None = None) -> None:
        self.primary, self.fallback = primary, fallback or MemoryCounters()
        self.degraded = False

    async def _call(self, call: Callable[[Counters], Awaitable[R]]) -> R:
        try:
            result = await call(self.primary)
        except (OSError, TimeoutError, ConnectionError) as exc:
            self._note(True, exc)
        except Exception as exc:  # redis-py's ConnectionError/TimeoutError are not OSError subclasses
            if type(exc).__module__.split(".")[0] != "redis":
                raise
            self._note(True, exc)
        else:
            self._note(False)
            return result
        return await call(self.fallback)

    def _note(self, down: bool, exc: BaseException | None = None) -> None:
        if down != self.degraded:
            self.degraded = down
            if down:
                log.warning("rate-limit counters: Redis unreachable (%r), counting in this process", exc)
            else:
                log.warning("rate-limit counters: Redis is back")

    async def incr(self, key: str, window_s: int) -> int:
        return await self._call(lambda counters: counters.incr(key, window_s))

    async def get(self, key: str) -> tuple[int, float]:
        shared = await self._call(lambda counters: counters.get(key))
        local = await self.fallback.get(key)  # what was counted locally during an outage still counts
        return shared if shared[0] >= local[0] else local

    async def reset(self, key: str) -> None:
        await self.fallback.reset(key)
        await self._call(lambda counters: counters.reset(key))


class AttemptLimiter:
    """Refuse further attempts on any key that reached its limit of failures in the window."""

    def __init__(self, counters: Counters, *, window_s: int) -> None:
        self.counters, self.window_s = counters, window_s

    async def check(self, limits: dict[str, int], message: str | None = None) -> None:
        """Raise RateLimited when any key is at its limit."""
        for key, limit in limits.items():
            count, left = await self.counters.get(key)
            if count >= limit:
                raise RateLimited(left or self.window_s, message)

    async def fail(self, *keys: str) -> None:
        for key in keys:
            await self.counters.incr(key, self.window_s)
