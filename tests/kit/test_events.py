"""Events over the in-memory broker and over the real Redis with the resilient backend."""

import asyncio
import json
import os
import subprocess
import time

import pytest
from broadcaster import Broadcast

from services.kit.errors import RateLimited
from services.kit.events import HISTORY_MAX_EVENTS, EventBus, ResilientRedisBackend
from services.kit.ratelimit import AttemptLimiter, MemoryCounters, RedisCounters
from tests.servers import free_port, redis_server_command

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("TEAMMOA_TEST_REDIS_URL", "")


def _need_redis():
    if not REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("TEAMMOA_TEST_REDIS_URL is required in CI")
        pytest.skip("TEAMMOA_TEST_REDIS_URL not set: Redis tests need a real Redis")


async def _receive(subscriber, n, timeout=5.0):
    out = []
    for _ in range(n):
        event = await asyncio.wait_for(subscriber.get(), timeout)
        out.append(json.loads(event.message))
    return out


async def test_memory_bus_delivers_in_order_and_keeps_versioned_history():
    bus = EventBus(Broadcast("memory://"))
    await bus.connect()
    try:
        async with bus.subscribe("mindmap.1") as subscriber:
            for version in range(1, 4):
                assert await bus.publish("mindmap.1", "node.created", {"n": version}, version=version)
            received = await _receive(subscriber, 3)
        assert [e["version"] for e in received] == [1, 2, 3]
        assert [e["version"] for e in await bus.history("mindmap.1", since=1)] == [2, 3]
    finally:
        await bus.disconnect()


async def test_memory_history_is_bounded():
    bus = EventBus(Broadcast("memory://"))
    await bus.connect()
    try:
        for version in range(1, HISTORY_MAX_EVENTS + 11):
            await bus.publish("mindmap.2", "node.updated", {}, version=version)
        history = await bus.history("mindmap.2", since=0)
        assert len(history) == HISTORY_MAX_EVENTS
        assert history[0]["version"] == 11
    finally:
        await bus.disconnect()


async def test_memory_counters_block_at_the_limit_and_tell_when_to_retry():
    limiter = AttemptLimiter(MemoryCounters(), window_s=60)
    for _ in range(3):
        await limiter.check({"k": 3})
        await limiter.fail("k")
    with pytest.raises(RateLimited) as caught:
        await limiter.check({"k": 3})
    assert 1 <= caught.value.retry_after_s <= 60


async def test_redis_counters_are_shared_between_instances():
    _need_redis()
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    prefix = f"teammoa-test:{time.time_ns()}:"
    first = AttemptLimiter(RedisCounters(client, prefix), window_s=60)
    second = AttemptLimiter(RedisCounters(client, prefix), window_s=60)
    try:
        await first.fail("acct")
        await second.fail("acct")
        with pytest.raises(RateLimited):
            await first.check({"acct": 2})
    finally:
        await client.aclose()


def _start_redis(port):
    return subprocess.Popen(redis_server_command(port), stdout=subprocess.DEVNULL)


async def _wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_the_redis_backend_reconnects_and_resubscribes_after_a_restart():
    """broadcaster's own backend goes silent forever after a Redis restart; ours must not."""
    _need_redis()
    port = free_port()
    server = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        backend = ResilientRedisBackend(url, prefix="t:")
        bus = EventBus(Broadcast(backend=backend), backend)
        await asyncio.sleep(0.3)
        await bus.connect()
        try:
            async with bus.subscribe("team.1") as subscriber:
                await bus.publish("team.1", "todo.created", {"n": 1})
                assert (await _receive(subscriber, 1))[0]["data"] == {"n": 1}
                server.terminate()
                server.wait(5)
                assert await _wait_until(lambda: not bus.healthy, 5), "the outage was not noticed"
                assert not await bus.publish("team.1", "todo.created", {"n": 2})  # reported, not raised
                server = _start_redis(port)
                assert await _wait_until(lambda: bus.healthy, 10), "the backend did not reconnect"
                await bus.publish("team.1", "todo.created", {"n": 3})
                assert (await _receive(subscriber, 1))[0]["data"] == {"n": 3}
        finally:
            await bus.disconnect()
    finally:
        server.terminate()
        server.wait(5)


async def test_redis_history_replays_exactly_the_missed_versions():
    _need_redis()
    backend = ResilientRedisBackend(REDIS_URL, prefix=f"teammoa-test:{time.time_ns()}:")
    bus = EventBus(Broadcast(backend=backend), backend)
    await bus.connect()
    try:
        for version in range(1, 11):
            await bus.publish("mindmap.9", "node.updated", {"v": version}, version=version)
        assert [e["version"] for e in await bus.history("mindmap.9", since=7)] == [8, 9, 10]
    finally:
        await bus.disconnect()
