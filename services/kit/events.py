"""Domain events after commit: publish over broadcaster, with a bounded per-channel history.

Embedded mode uses ``memory://`` (one process). Production uses ``ResilientRedisBackend``:
broadcaster's own Redis backend neither reconnects nor works with redis-py 8 (docs/dependencies.md).

An event is a JSON string ``{"channel", "type", "data", "version"?, "ts"}``. Events that carry a
``version`` (mind maps) are also appended to a bounded history at publish time, so a client that
reconnects can be replayed exactly what it missed, whatever the subscribers were doing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from broadcaster import Broadcast, BroadcastBackend, Event
from redis.asyncio.client import PubSub

from .settings import Settings

log = logging.getLogger("teammoa.events")
HISTORY_MAX_EVENTS = 500  # per channel; older gaps get "resync"
HISTORY_TTL_S = 24 * 3600
PUBLISH_TIMEOUT_S = 2.0
VERSION_TIMEOUT_S = 0.5  # a read that cannot check versions answers without caches instead of waiting
RECONNECT_MAX_DELAY_S = 5.0


def members_key(team_id: int) -> str:
    """The version key of a team's members, host and time zone (bumped by teams, read by schedule)."""
    return f"team.{team_id}.members"


def availability_key(team_id: int) -> str:
    """The version key of a team's stored availability (bumped and read by schedule)."""
    return f"team.{team_id}.availability"


def encode(channel: str, type_: str, data: Any, version: int | None = None) -> str:
    event = {"channel": channel, "type": type_, "data": data, "ts": round(time.time(), 3)}
    if version is not None:
        event["version"] = version
    return json.dumps(event, separators=(",", ":"), default=str)


class ResilientRedisBackend(BroadcastBackend):
    """Redis pub/sub that reconnects with capped backoff and resubscribes every channel.

    ``healthy`` is False while the subscription is down; ``on_state`` is called with True/False on
    every change so the realtime service can close sockets and tell clients to recover.
    """

    def __init__(self, url: str, *, prefix: str = "", on_state: Callable[[bool], None] | None = None) -> None:
        self._url, self._prefix, self._on_state = url, prefix + "ev:", on_state
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self.healthy = False
        self._stopping = False
        self._up = asyncio.Event()

    async def connect(self) -> None:
        self._publisher = aioredis.from_url(
            self._url, socket_timeout=PUBLISH_TIMEOUT_S, socket_connect_timeout=PUBLISH_TIMEOUT_S
        )
        self._task = asyncio.create_task(self._listen(), name="redis-listener")
        try:
            await asyncio.wait_for(self._up.wait(), 5)
        except TimeoutError:
            log.warning("redis subscription not up yet; retrying in the background")

    async def disconnect(self) -> None:
        """Stop the listener; a cancel that lands inside redis-py's read can be swallowed, so repeat it."""
        self._stopping = True
        while self._task and not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=0.5)
        await self._publisher.aclose()

    def _set_state(self, up: bool) -> None:
        if up != self.healthy:
            self.healthy = up
            (self._up.set if up else self._up.clear)()
            log.warning("redis subscription %s", "up" if up else "DOWN")
            if self._on_state:
                self._on_state(up)

    async def _listen(self) -> None:
        delay = 0.1
        control = self._prefix + "_control"
        while not self._stopping:
            client = aioredis.from_url(self._url, socket_connect_timeout=2, health_check_interval=2, socket_keepalive=True)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(control, *(self._prefix + c for c in self._channels))
                self._pubsub = pubsub
                self._set_state(True)
                delay = 0.1
                while not self._stopping:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is None:
                        await pubsub.ping()
                        continue
                    if message["type"] != "message":
                        continue
                    channel, data = message["channel"], message["data"]
                    if isinstance(channel, bytes) and isinstance(data, bytes):
                        self._queue.put_nowait(Event(channel=channel.decode()[len(self._prefix) :], message=data.decode()))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._pubsub = None
                self._set_state(False)
                log.warning("redis subscription lost (%r); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY_S)
            finally:
                self._pubsub = None
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # the connection is already gone
                    pass

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(self._prefix + channel)
            except Exception:  # the listener reconnects and resubscribes every channel
                pass

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(self._prefix + channel)
            except Exception:
                pass

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(self._prefix + channel, message)

    async def publish_with_history(self, channel: str, message: str, version: int) -> None:
        key = self._prefix + "h:" + channel
        async with self._publisher.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {message: version})
            pipe.zremrangebyrank(key, 0, -HISTORY_MAX_EVENTS - 1)
            pipe.expire(key, HISTORY_TTL_S)
            pipe.publish(self._prefix + channel, message)
            await pipe.execute()

    async def bump(self, key: str) -> int:
        return int(await self._publisher.incr(self._prefix + "v:" + key))

    async def versions(self, keys: list[str]) -> list[int]:
        raw = await self._publisher.mget([self._prefix + "v:" + key for key in keys])
        return [int(value) if value is not None else 0 for value in raw]

    async def history(self, channel: str, since: int) -> list[str]:
        raw = await self._publisher.zrangebyscore(self._prefix + "h:" + channel, f"({since}", "+inf")
        return [item.decode() for item in raw if isinstance(item, bytes)]  # bytes: no decode_responses

    async def next_published(self) -> Event:
        return await self._queue.get()


class EventBus:
    """Publish domain events after commit; subscribe to channels; read recent history."""

    def __init__(self, broadcast: Broadcast, backend: BroadcastBackend | None = None) -> None:
        self.broadcast = broadcast
        self._redis = backend if isinstance(backend, ResilientRedisBackend) else None
        self._memory_history: dict[str, deque[tuple[int, str]]] = defaultdict(lambda: deque(maxlen=HISTORY_MAX_EVENTS))
        self._memory_versions: dict[str, int] = {}

    @classmethod
    def create(cls, settings: Settings, *, on_state: Callable[[bool], None] | None = None) -> EventBus:
        if settings.redis_url:
            backend = ResilientRedisBackend(settings.redis_url, prefix=settings.redis_prefix, on_state=on_state)
            return cls(Broadcast(backend=backend), backend)
        return cls(Broadcast("memory://"))

    @property
    def healthy(self) -> bool:
        return self._redis.healthy if self._redis else True

    async def connect(self) -> None:
        await self.broadcast.connect()

    async def disconnect(self) -> None:
        await self.broadcast.disconnect()

    async def publish(self, channel: str, type_: str, data: Any, *, version: int | None = None) -> bool:
        """Publish one event; a broker outage is logged, never raised (the write is committed)."""
        message = encode(channel, type_, data, version)
        try:
            if version is not None and self._redis is not None:
                await asyncio.wait_for(self._redis.publish_with_history(channel, message, version), PUBLISH_TIMEOUT_S)
            else:
                if version is not None:
                    self._memory_history[channel].append((version, message))
                await asyncio.wait_for(self.broadcast.publish(channel, message), PUBLISH_TIMEOUT_S)
        except Exception as exc:
            log.warning("event %s on %s not published: %r", type_, channel, exc)
            return False
        return True

    async def bump(self, key: str) -> int | None:
        """Count one change of ``key`` where every instance reads it (Redis; this process when embedded).

        Called after a commit and before the write is acknowledged, so an instance that reads the
        version on its next request knows its cached copy is stale: invalidation synchronous with the
        write, unlike an event, which arrives a moment later. None when the broker is unreachable
        (readers that cannot read versions either do not cache).
        """
        try:
            if self._redis is not None:
                return await asyncio.wait_for(self._redis.bump(key), PUBLISH_TIMEOUT_S)
        except Exception as exc:
            log.warning("version of %s not bumped: %r", key, exc)
            return None
        self._memory_versions[key] = self._memory_versions.get(key, 0) + 1
        return self._memory_versions[key]

    async def versions(self, *keys: str) -> tuple[int, ...] | None:
        """The current versions of ``keys`` (0 when never bumped); None when they cannot be read."""
        try:
            if self._redis is not None:
                async with asyncio.timeout(VERSION_TIMEOUT_S):  # no extra task per call, unlike wait_for
                    return tuple(await self._redis.versions(list(keys)))
        except Exception as exc:
            log.warning("versions of %s unreadable: %r", keys, exc)
            return None
        return tuple(self._memory_versions.get(key, 0) for key in keys)

    async def history(self, channel: str, since: int) -> list[dict[str, Any]]:
        """Events of a channel with a version above ``since``, oldest first."""
        if self._redis is not None:
            raw = await self._redis.history(channel, since)
        else:
            raw = [message for version, message in self._memory_history.get(channel, ()) if version > since]
        return [json.loads(item) for item in raw]

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Any]:
        async with self.broadcast.subscribe(channel) as subscriber:
            yield subscriber
