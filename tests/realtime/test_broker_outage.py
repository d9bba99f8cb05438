"""The real Redis killed and restarted mid-session: the instances report unhealthy, close their sockets
with 1012, and the clients reconnect and converge without losing an acknowledged edit.

This test runs its own ``redis-server`` on a free port (never the machine's shared one)."""

import asyncio
import contextlib
import os
import shutil
import subprocess
import time

import pytest

from tests.servers import free_port, redis_server_command

from .conftest import make_crew
from .harness import Follower, eventually, running_stack

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
REDIS_SERVER = shutil.which("redis-server")


class OwnRedis:
    """A throwaway redis-server without persistence, which the test may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: ASYNC220 - a short-lived child, waited for below
            redis_server_command(self.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            assert time.monotonic() < deadline, "redis-server did not start"
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=5)


@pytest.fixture(name="own_redis")
async def fx_own_redis():
    if REDIS_SERVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    redis = OwnRedis()
    await redis.start()
    yield redis
    if redis.process and redis.process.poll() is None:
        redis.kill()


async def _health(stack, instance: int) -> int:
    path = "/health/realtime/" if instance == 0 else "/health"
    host = stack.socket_hosts[instance]
    response = await stack.http.get(f"http://{host}{path}")
    return response.status_code


async def test_a_redis_restart_closes_sockets_with_1012_and_clients_converge_without_losing_edits(environ, own_redis):
    environ = {**environ, "TEAMMOA_REDIS_URL": own_redis.url, "TEAMMOA_REDIS_PREFIX": "outage:"}
    async with running_stack(environ, instances=2) as stack:
        crew = await make_crew(stack)
        ids = {"team_id": crew.team["id"], "map_id": crew.mindmap["id"]}
        followers = [
            await Follower(stack, crew.alice, instance=0, **ids).start(),
            await Follower(stack, crew.host, instance=1, **ids).start(),
        ]
        acknowledged = [(await crew.add_node(title=f"before {n}"))["id"] for n in range(3)]
        for follower in followers:
            await follower.reaches(3)

        own_redis.kill()
        killed = time.monotonic()

        async def both_unhealthy() -> bool:
            return {await _health(stack, 0), await _health(stack, 1)} == {503}

        await eventually(both_unhealthy, timeout=5, every=0.1)
        assert time.monotonic() - killed < 5
        for follower in followers:
            assert (await eventually(lambda f=follower: f.close_codes))[0] == 1012

        acknowledged += [(await crew.add_node(title=f"during {n}"))["id"] for n in range(3)]

        await own_redis.start()
        acknowledged += [(await crew.add_node(title=f"after {n}"))["id"] for n in range(2)]
        final = await stack.snapshot(crew.team["id"], crew.mindmap["id"], crew.host)
        assert sorted(n["id"] for n in final["nodes"]) == sorted(acknowledged)
        for follower in followers:
            await follower.reaches(final["version"], timeout=20)
            assert follower.replica.same_as(final)
            await follower.stop()
        assert {await _health(stack, 0), await _health(stack, 1)} == {200}
