"""Rate limits while Redis is unreachable: counted in the process instead (never a 500, never open
gates), shared again when Redis answers; and the task count every service exposes in /metrics."""

from __future__ import annotations

import os

import pytest
import redis.asyncio as aioredis
from broadcaster import Broadcast
from starlette.testclient import TestClient

from services.kit.app import Shared
from services.kit.events import EventBus
from services.kit.ratelimit import AttemptLimiter, FallbackCounters, RedisCounters
from services.kit.settings import Settings
from tests.conftest import PASSWORD

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.anyio
async def test_counters_fall_back_to_the_process_while_redis_is_unreachable():
    dead = aioredis.from_url(DEAD_REDIS, socket_connect_timeout=0.5)
    counters = FallbackCounters(RedisCounters(dead, "t:"))
    limiter = AttemptLimiter(counters, window_s=60)
    try:
        for _ in range(3):
            await limiter.check({"k": 3})
            await limiter.fail("k")
        with pytest.raises(Exception) as refused:
            await limiter.check({"k": 3})
        assert type(refused.value).__name__ == "RateLimited"
        assert counters.degraded is True
    finally:
        await dead.aclose()


@pytest.mark.anyio
@pytest.mark.redis
async def test_failures_counted_during_an_outage_still_count_when_redis_is_back():
    url = os.environ.get("TEAMMOA_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs TEAMMOA_TEST_REDIS_URL")
    dead = aioredis.from_url(DEAD_REDIS, socket_connect_timeout=0.5)
    live = aioredis.from_url(url)
    counters = FallbackCounters(RedisCounters(dead, "t:"))
    try:
        await counters.incr("back", 60)
        await counters.incr("back", 60)
        counters.primary = RedisCounters(live, f"teammoa-test-{os.getpid()}:")  # Redis "returns"
        count, _ = await counters.get("back")
        assert count == 2 and counters.degraded is False
    finally:
        await live.delete(f"teammoa-test-{os.getpid()}:rl:back")
        await dead.aclose()
        await live.aclose()


def test_login_keeps_limiting_when_redis_is_unreachable(environ, signup):
    """The auth service with a Redis URL that answers nothing: wrong passwords still end in 429."""
    from services.auth.app import create_app

    quiet_bus = Shared(events=EventBus(Broadcast("memory://")))  # the outage under test is the counters'
    signup("victim")  # the account exists (created through the embedded TeamMoa)
    env = {**environ, "TEAMMOA_REDIS_URL": DEAD_REDIS}
    with TestClient(create_app(Settings("auth", env), quiet_bus)) as auth:
        answers = [
            auth.post("/api/v1/users/login/", json={"login": "victim", "password": "wrong-password"}).status_code
            for _ in range(7)
        ]
        right = auth.post("/api/v1/users/login/", json={"login": "victim", "password": PASSWORD})
    assert answers[:5] == [401] * 5
    assert answers[5:] == [429, 429]
    assert right.status_code == 429  # the gates stay shut, even for the right password


def test_every_service_exposes_its_task_count_and_memory_in_metrics(environ):
    from services.schedule.app import create_app

    with TestClient(create_app(Settings("schedule", environ))) as client:
        text = client.get("/metrics").text
    tasks = [line for line in text.splitlines() if line.startswith("asyncio_tasks ")]
    assert tasks and float(tasks[0].split()[1]) >= 1
    assert "process_resident_memory_bytes" in text
