"""Fault 6: a soak. Sockets connect, subscribe, move cursors and leave, over and over, while the API takes
writes — 60 s in the CI subset, 10 minutes in full mode. Measured at rest after a warm-up and again at
rest after the soak: every process's resident memory, every service's asyncio task count (/metrics) and
Redis's key count are back within 10 %.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis
from websockets.asyncio.client import connect

from .conftest import FULL
from .faults import marker, report, rest_operations
from .load import Load, Operation

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SOAK_S = 600 if FULL else 60
WARM_UP_S = 60 if FULL else 10
SETTLE_S = 5.0
CHURNERS = 16
TOLERANCE = 0.10
MEMORY_SLACK_BYTES = 2 * 1024 * 1024  # allocator granularity on a ~60-90 MB process: well under 10 %


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def task_count(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith("asyncio_tasks "))


class Churn:
    """Sockets that come and go on a team and a mind map, each doing a little on the way."""

    def __init__(self, url: str, cookies: list[str], channels: list[str]) -> None:
        self.url, self.cookies, self.channels = url, cookies, channels
        self.cycles = 0
        self.errors: list[str] = []
        self._running = threading.Event()
        self._quit = False
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="churn", daemon=True)
        self._thread.start()

    async def _cycle(self, rng: random.Random) -> None:
        headers = {"Cookie": rng.choice(self.cookies), "Origin": self.url}
        async with connect(
            self.url.replace("http://", "ws://") + "/ws/",
            additional_headers=headers,
            open_timeout=10,
            ping_interval=None,
            close_timeout=2,
        ) as ws:
            for channel in self.channels:
                await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
            await ws.send(
                json.dumps(
                    {
                        "op": "publish",
                        "channel": self.channels[-1],
                        "type": "cursor",
                        "data": {"x": rng.randint(0, 500), "y": rng.randint(0, 500)},
                    }
                )
            )
            await ws.send(json.dumps({"op": "ping"}))
            deadline = time.monotonic() + rng.uniform(0.2, 1.5)
            while time.monotonic() < deadline:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                except TimeoutError:
                    break
                if frame.get("op") == "error" and frame.get("code") != "rate_limited":
                    self.errors.append(frame.get("code", "?"))
            if rng.random() < 0.5:
                await ws.send(json.dumps({"op": "unsubscribe", "channel": self.channels[0]}))

    async def _worker(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self._quit:
            if not self._running.is_set():
                await asyncio.sleep(0.1)
                continue
            try:
                await self._cycle(rng)
                self.cycles += 1
            except Exception as exc:  # recorded: the test fails on any
                self.errors.append(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    async def _main(self) -> None:
        await asyncio.gather(*(self._worker(seed) for seed in range(CHURNERS)))

    def resume(self) -> None:
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def quit(self) -> None:
        self._quit = True
        self._running.clear()
        self._thread.join(timeout=30)


def _measure(rstack, redis_client) -> dict:
    ports = {e["name"]: e["port"] for e in rstack.entries() if e["name"] != "nginx"}
    return {
        "rss": {e["name"]: rss_bytes(e["pid"]) for e in rstack.entries()},
        "tasks": {name: task_count(port) for name, port in ports.items() if name != "health"},
        "redis_keys": redis_client.dbsize(),
    }


def test_a_soak_of_churn_and_writes_leaves_memory_tasks_and_redis_keys_where_they_were(rstack):
    users = [rstack.account("soak") for _ in range(4)]
    team = rstack.team(users[0], *users[1:])
    with rstack.http() as http:
        mindmap = http.post(f"/api/v1/teams/{team['id']}/mindmaps/", json={"title": "Soak"}, headers=users[0].headers).json()
        node = http.post(
            f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/nodes/", json={"title": "moved"}, headers=users[0].headers
        ).json()
    tag = marker()
    operations = [
        op for op in rest_operations(team["id"], users[0].headers, users[1].headers, tag) if op.name != "team.create"
    ]  # a map holds at most 1,000 nodes: the soak moves one instead
    operations.append(
        Operation(
            "node.move",
            "PATCH",
            f"/api/v1/teams/{team['id']}/mindmaps/{mindmap['id']}/nodes/{node['id']}/",
            users[2].headers,
            body=lambda n: {"x": n % 900, "y": 120},
        )
    )
    churn = Churn(rstack.url, [u.cookie_header for u in users], [f"team.{team['id']}", f"mindmap.{mindmap['id']}"])
    redis_client = redis.Redis(port=rstack.redis.port)
    try:
        warm = Load(rstack.url, operations, workers=3, pause_s=0.05)
        churn.resume()
        with warm.running():
            time.sleep(WARM_UP_S)
        churn.pause()
        time.sleep(SETTLE_S)
        before = _measure(rstack, redis_client)
        soak = Load(rstack.url, operations, workers=3, pause_s=0.05)
        churn.resume()
        with soak.running():
            time.sleep(SOAK_S)
        churn.pause()
        time.sleep(SETTLE_S)
        after = _measure(rstack, redis_client)
    finally:
        churn.quit()
        redis_client.close()

    failed = [o for o in soak.outcomes if not o.ok]
    assert not failed, [(o.operation, o.status, o.body[:200]) for o in failed[:10]]
    assert not churn.errors, churn.errors[:10]
    grown = {
        name: (before["rss"][name], rss)
        for name, rss in after["rss"].items()
        if rss > before["rss"][name] * (1 + TOLERANCE) + MEMORY_SLACK_BYTES
    }
    assert not grown, grown
    more_tasks = {
        name: (before["tasks"][name], count)
        for name, count in after["tasks"].items()
        if count > before["tasks"][name] * (1 + TOLERANCE) + 1
    }
    assert not more_tasks, more_tasks
    assert after["redis_keys"] <= before["redis_keys"] * (1 + TOLERANCE) + 1, (before["redis_keys"], after["redis_keys"])
    growth = {
        name: round((after["rss"][name] - before["rss"][name]) / before["rss"][name] * 100, 1) for name in after["rss"]
    }
    report(
        f"soak {SOAK_S} s",
        soak,
        failed=len(failed),
        lost=0,
        recovery_s=None,
        notes=f"{churn.cycles} socket cycles (connect, subscribe ×2, cursor, leave); RSS change % {growth}; "
        f"tasks {before['tasks']} → {after['tasks']}; Redis keys {before['redis_keys']} → "
        f"{after['redis_keys']}",
    )
