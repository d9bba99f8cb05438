"""Who is on each channel, per connection, expiring by itself when an instance dies.

Production keeps, per channel, a Redis hash (connection id → user) and a sorted set (connection id →
expiry time). Each instance refreshes its own connections' expiry every heartbeat; the entries of an
instance that died stop being refreshed and drop out after ``ttl_s``, and every instance sees every
other's connections. Embedded mode (one process) keeps the same shape in memory.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis

from .connection import User

log = logging.getLogger("teammoa.realtime")
Entry = tuple[str, str, User]  # channel, connection id, user


def aggregate(users: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per user with the number of their connections, ordered by nickname."""
    by_user: dict[int, dict[str, Any]] = {}
    for user in users:
        line = by_user.setdefault(
            user["user_id"], {"user_id": user["user_id"], "nickname": user["nickname"], "connections": 0}
        )
        line["connections"] += 1
    return sorted(by_user.values(), key=lambda line: (str(line["nickname"]).lower(), line["user_id"]))


class MemoryPresence:
    """Presence in this process (embedded mode)."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._channels: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}

    async def refresh(self, entries: Iterable[Entry]) -> None:
        """Add or keep alive connections on channels."""
        expires = time.monotonic() + self.ttl_s
        for channel, conn_id, user in entries:
            self._channels.setdefault(channel, {})[conn_id] = (expires, user.stamp())

    async def remove(self, channel: str, conn_id: str) -> None:
        here = self._channels.get(channel)
        if here is not None:
            here.pop(conn_id, None)
            if not here:
                del self._channels[channel]

    async def members(self, channel: str) -> list[dict[str, Any]]:
        now = time.monotonic()
        here = self._channels.get(channel, {})
        for conn_id in [c for c, (expires, _) in here.items() if expires <= now]:
            del here[conn_id]
        return aggregate(user for _, user in here.values())


class RedisPresence:
    """Presence shared by every instance through Redis."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_s: float) -> None:
        self._redis, self._prefix, self.ttl_s = redis, prefix + "presence:", ttl_s
        self._key_ttl_s = max(1, int(ttl_s * 2))

    def _keys(self, channel: str) -> tuple[str, str]:
        return self._prefix + channel, self._prefix + channel + ":expiry"

    async def refresh(self, entries: Iterable[Entry]) -> None:
        """Add or keep alive connections on channels."""
        entries = list(entries)
        if not entries:
            return
        expires = time.time() + self.ttl_s
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, conn_id, user in entries:
                users, expiry = self._keys(channel)
                pipe.hset(users, conn_id, json.dumps(user.stamp()))
                pipe.zadd(expiry, {conn_id: expires})
                pipe.expire(users, self._key_ttl_s)
                pipe.expire(expiry, self._key_ttl_s)
            await pipe.execute()

    async def remove(self, channel: str, conn_id: str) -> None:
        users, expiry = self._keys(channel)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hdel(users, conn_id)
            pipe.zrem(expiry, conn_id)
            await pipe.execute()

    async def members(self, channel: str) -> list[dict[str, Any]]:
        users, expiry = self._keys(channel)
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(expiry, now, "+inf")
            pipe.hgetall(users)
            alive_raw, stored = await pipe.execute()
        alive = {item.decode() for item in alive_raw}
        lines, expired = [], []
        for field, value in stored.items():
            conn_id = field.decode()
            if conn_id in alive:
                lines.append(json.loads(value))
            else:
                expired.append(conn_id)
        if expired:  # connections of an instance that stopped refreshing them
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hdel(users, *expired)
                pipe.zremrangebyscore(expiry, "-inf", now)
                await pipe.execute()
        return aggregate(lines)
