"""A rolling restart of the whole local stack (tools/stack/rolling_restart.py) under load, through Nginx:
no request fails, and the WebSocket clients connected before it reconnect, resume from their last
version and end with the map the REST API shows.

The load is bounded (a few async workers with a short pause between requests, on a 2-core machine):
authenticated reads of every service, todo creation, and node moves that the sockets must follow.
The figures (requests, failures, reconnects, restart and cold-start times) are printed for the record.

The workers' HTTP client does what a browser's network stack does and httpx does not: a request whose
keep-alive connection the server closed (EOF or reset) before any answer came is sent again, once, on a
new connection. Every nginx reload closes its old workers' idle keep-alive connections, and a request
already on its way over one of them is lost that way without ever reaching a service. POSTs carry an
``Idempotency-Key``, so a retried one is never applied twice. Such retries are counted and printed
apart; a retry that fails is a failure, and so is any answer other than the expected one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.e2e.accounts import Account, create_team, sign_up
from tests.realtime.harness import Replica

pytestmark = [pytest.mark.stack, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
WORKERS = 6
HEALTH_PROBE = "GET /health/"
PAUSE_S = 0.02  # between a worker's requests: bounded load, the restart needs the cores too
CONVERGE_S = 30  # a reload ends sockets on old nginx workers after worker_shutdown_timeout (10 s)


@dataclass
class World:
    """What the load works on: two members of a team, its mind map and one node per worker."""

    url: str
    host: Account
    mate: Account
    team_id: int
    map_id: int
    node_ids: list[int]
    week: str


@dataclass
class Tally:
    requests: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def record(self, name: str, problem: str | None) -> None:
        self.requests[name] += 1
        if problem:
            self.failures.append(f"{self.clock()} {name}: {problem}")

    def clock(self) -> str:
        return f"{time.monotonic() - self.started:6.1f}s"


UNANSWERED = "Server disconnected without sending a response."  # httpcore: EOF before any byte of an answer


def _unanswered(exc: httpx.HTTPError) -> bool:
    """The connection died before any answer: closed (EOF) or reset while sending or waiting."""
    if isinstance(exc, httpx.RemoteProtocolError):
        return str(exc) == UNANSWERED
    return isinstance(exc, (httpx.ReadError, httpx.WriteError))


async def _send(
    http: httpx.AsyncClient, name: str, method: str, path: str, body: dict | None, tally: Tally
) -> httpx.Response:
    """Send a request; once more on a new connection if the server closed it before answering at all."""
    headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
    try:
        return await http.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        if not _unanswered(exc):
            raise
        tally.retried.append(f"{tally.clock()} {name} ({type(exc).__name__})")
        return await http.request(method, path, json=body, headers=headers)


@pytest.fixture(name="world", scope="module")
def fx_world(stack) -> World:
    with httpx.Client(base_url=stack.url, timeout=10) as http:
        host, mate = sign_up(http, stack.data_dir, "roll"), sign_up(http, stack.data_dir, "roll")
        team = create_team(http, host, mate)
        r = http.post(f"/api/v1/teams/{team['id']}/mindmaps/", headers=host.bearer, json={"title": "Rolling"})
        assert r.status_code == 201, r.text
        map_id = r.json()["id"]
        node_ids = []
        for n in range(WORKERS):
            r = http.post(
                f"/api/v1/teams/{team['id']}/mindmaps/{map_id}/nodes/",
                headers=host.bearer,
                json={"title": f"Node {n}", "x": 100 * n, "y": 100},
            )
            assert r.status_code == 201, r.text
            node_ids.append(r.json()["id"])
    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    return World(
        url=stack.url, host=host, mate=mate, team_id=team["id"], map_id=map_id, node_ids=node_ids, week=monday.isoformat()
    )


def _plan(world: World, worker: int, step: int) -> tuple[str, str, str, dict | None, int]:
    """The ``step``-th request of a worker: (name, method, path, body, expected status)."""
    t, m = world.team_id, world.map_id
    plan = [
        ("GET todos", "GET", f"/api/v1/teams/{t}/todos/?page_size=20", None, 200),
        ("GET me", "GET", "/api/v1/users/me/", None, 200),
        ("POST todo", "POST", f"/api/v1/teams/{t}/todos/", {"content": f"load {worker}.{step}"}, 201),
        ("GET map", "GET", f"/api/v1/teams/{t}/mindmaps/{m}/", None, 200),
        (
            "PATCH node",
            "PATCH",
            f"/api/v1/teams/{t}/mindmaps/{m}/nodes/{world.node_ids[worker]}/",
            {"x": 100 * worker + step % 50, "y": 100 + step % 50},
            200,
        ),
        ("GET week", "GET", f"/api/v1/teams/{t}/schedules/me/?week={world.week}", None, 200),
        ("GET team", "GET", f"/api/v1/teams/{t}/", None, 200),
        (HEALTH_PROBE, "GET", "/health/", None, 200),
    ]
    return plan[step % len(plan)]


async def _work(world: World, worker: int, stop: asyncio.Event, tally: Tally) -> None:
    """One browser tab's worth of API calls until told to stop; every answer must be the expected one."""
    account = world.host if worker % 2 == 0 else world.mate
    step = worker  # workers start at different places in the plan
    async with httpx.AsyncClient(base_url=world.url, timeout=10, headers=account.bearer) as http:
        while not stop.is_set():
            name, method, path, body, expected = _plan(world, worker, step)
            try:
                r = await _send(http, name, method, path, body, tally)
                problem = None if r.status_code == expected else f"HTTP {r.status_code} {r.text[:1000]}"
            except httpx.HTTPError as exc:
                problem = repr(exc)
            tally.record(name, problem)
            step += 1
            await asyncio.sleep(PAUSE_S)


class Tab:
    """A browser tab on the map: one socket, reconnected with backoff and jitter, resumed with ``since``,
    the map rebuilt from a snapshot and the events (resync: the snapshot again)."""

    def __init__(self, world: World, account: Account, snapshot: dict, tally: Tally) -> None:
        self.world, self.account, self.tally = world, account, tally
        self.replica = Replica.of(snapshot)
        self.channel = f"mindmap.{world.map_id}"
        self.connects, self.resyncs, self.closes, self.problems = 0, 0, [], []
        self.subscribed = asyncio.Event()
        self.stopping = False
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        attempt = 0
        url = self.world.url.replace("http://", "ws://") + "/ws/"
        headers = {"Cookie": self.account.cookie_header}
        while not self.stopping:
            try:
                async with connect(
                    url, origin=self.world.url, additional_headers=headers, open_timeout=5, ping_interval=None
                ) as ws:
                    self.connects += 1
                    await ws.send(json.dumps({"op": "subscribe", "channel": self.channel, "since": self.replica.version}))
                    try:
                        async for text in ws:
                            attempt = 0
                            await self._handle(json.loads(text))
                    finally:
                        self.subscribed.clear()
                        if not self.stopping:
                            self.closes.append(ws.close_code or 1006)
            except ConnectionClosed:
                pass  # recorded above
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                self.tally.record("socket handshake", repr(exc))
            if not self.stopping:
                await asyncio.sleep(random.uniform(0, min(2.0, 0.25 * 2**attempt)))  # full jitter
                attempt += 1

    async def _handle(self, frame: dict) -> None:
        if frame.get("channel") != self.channel:
            return
        if frame["op"] == "subscribed":
            self.subscribed.set()
        elif frame["op"] == "event":
            try:
                self.replica.apply(frame)
            except AssertionError as exc:
                self.problems.append(f"gap: {exc}")
        elif frame["op"] == "resync":
            self.resyncs += 1
            self.replica.load(await _snapshot(self.world, self.account, self.tally))
        elif frame["op"] == "error":
            self.problems.append(f"error frame: {frame}")

    async def close(self) -> None:
        self.stopping = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def _snapshot(world: World, account: Account, tally: Tally | None = None) -> dict:
    async with httpx.AsyncClient(base_url=world.url, timeout=10, headers=account.bearer) as http:
        r = await http.get(f"/api/v1/teams/{world.team_id}/mindmaps/{world.map_id}/")
    if tally is not None:
        tally.record("GET map (resync)", None if r.status_code == 200 else f"HTTP {r.status_code}")
    assert r.status_code == 200, r.text
    return r.json()


async def _converged(tabs: list[Tab], world: World) -> tuple[dict, list[bool]]:
    """The REST snapshot once every tab is subscribed again and holds exactly it (or the time is up),
    and which tabs were subscribed then."""
    deadline = time.monotonic() + CONVERGE_S
    while True:
        snapshot = await _snapshot(world, world.host)
        subscribed = [tab.subscribed.is_set() for tab in tabs]
        if (all(subscribed) and all(tab.replica.same_as(snapshot) for tab in tabs)) or time.monotonic() > deadline:
            return snapshot, subscribed
        await asyncio.sleep(0.2)


async def _restart(stack) -> tuple[int, str, float]:
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.stack.rolling_restart",
        cwd=ROOT,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 240)
    return process.returncode, output.decode(errors="replace"), time.monotonic() - began


@pytest.mark.anyio
async def test_a_rolling_restart_under_load_fails_no_request_and_sockets_resume(stack, world, capsys):
    tally = Tally()
    snapshot = await _snapshot(world, world.host)
    tabs = [Tab(world, account, snapshot, tally) for account in (world.host, world.mate, world.host, world.mate)]
    try:
        async with asyncio.timeout(10):
            await asyncio.gather(*(tab.subscribed.wait() for tab in tabs))
        connected_before = [tab.connects for tab in tabs]
        stop = asyncio.Event()
        workers = [asyncio.create_task(_work(world, n, stop, tally)) for n in range(WORKERS)]
        code, output, restart_s = await _restart(stack)
        await asyncio.sleep(1)  # a little load after the last step too
        stop.set()
        await asyncio.gather(*workers)

        async with httpx.AsyncClient(base_url=world.url, timeout=10, headers=world.host.bearer) as http:
            r = await http.patch(
                f"/api/v1/teams/{world.team_id}/mindmaps/{world.map_id}/nodes/{world.node_ids[0]}/",
                json={"title": "After the restart"},
            )
        assert r.status_code == 200, r.text
        final, subscribed = await _converged(tabs, world)
    finally:
        for tab in tabs:
            await tab.close()

    with capsys.disabled():
        print(f"\n[figures] stack cold start to all-healthy: {stack.cold_start_s:.1f} s")
        print(f"[figures] rolling restart: {restart_s:.1f} s, exit {code}")
        if code != 0:
            print(output[-5000:])
        print(
            f"[figures] requests during it: {sum(tally.requests.values())} ({dict(tally.requests)}), "
            f"failures: {len(tally.failures)}"
        )
        for failure in tally.failures[:20]:
            print(f"[figures]   {failure[:1000]}")
        print(
            f"[figures] sent again after a keep-alive connection closed unanswered: {len(tally.retried)} "
            f"{tally.retried[:10]}"
        )
        print(
            f"[figures] sockets: connects {[tab.connects for tab in tabs]}, closes {[tab.closes for tab in tabs]}, "
            f"resyncs {[tab.resyncs for tab in tabs]}, map version {final['version']}"
        )
    assert code == 0, output
    assert tally.failures == []
    assert sum(tally.requests.values()) > 200
    assert all(tab.problems == [] for tab in tabs), [tab.problems for tab in tabs]
    assert connected_before == [1] * len(tabs)
    assert all(tab.connects >= 2 for tab in tabs), "every tab lost its socket and reconnected"
    assert any(1012 in tab.closes for tab in tabs), "a restarting instance closes its sockets with 1012"
    assert subscribed == [True] * len(tabs), "every tab is subscribed again"
    assert [tab.replica.version for tab in tabs] == [final["version"]] * len(tabs)
    assert [tab.replica.same_as(final) for tab in tabs] == [True] * len(tabs)
    assert "After the restart" in {node["title"] for node in final["nodes"]}
    state = stack.reload_state()
    assert {entry["name"] for entry in state["processes"]} == {
        "auth-1",
        "teams-1",
        "teams-2",
        "schedule-1",
        "realtime-1",
        "realtime-2",
        "health",
        "nginx",
    }
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as http:
        assert (await http.get("/health/")).status_code == 200
