"""Realtime fan-out: cursor-to-peer and edit-to-peer latency with 200 subscribers on one map across two
realtime instances, and the memory one idle socket costs with 5,000 of them — real uvicorn processes and
a real Redis.

    .venv/bin/python -m tools.bench.realtime_fanout [--subscribers 200] [--cursors 200] [--edits 200] [--idle 5000]

Starts its own redis-server on a free port (never the machine's shared one) and, on fresh SQLite files,
the auth and teams services and two realtime instances, each a uvicorn process with the flags of the
images (services/kit/serve.py). Signs users up through the API (a team holds at most 100 members, so the subscribers are 20
users with several tabs each), opens the sockets half on each instance and subscribes them to one map.
First one socket publishes ``--cursors`` cursor moves (20 a second) and every other socket records when
each arrived: latency = arrival − the moment the frame was sent (its instance, Redis, both instances'
fan-out and the client's own reading included). Then a node is moved through the teams API ``--edits``
times (20 a second): latency = arrival of the event − the moment the PATCH was sent (commit and publish
included). Then it opens ``--idle`` sockets on one instance and
reports its RSS growth per socket, connected only and then subscribed to the map. Not a test: figures
to watch. Everything (clients included) shares this machine's cores, which the figures include.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from services.kit.serve import WS_IMPLEMENTATION, uvicorn_command
from tools.common import ROOT, free_port
from tools.stack.processes import spawn, stop

PASSWORD = "Correct-Horse-42"
TEAM_PASSWORD = "bench-pass-1"
ORIGIN = "http://bench.local"
TABS_PER_USER = 10
EDIT_EVERY_S = 0.05


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_healthy(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy")


class Stack:
    """redis-server, auth, teams and two realtime instances, each its own process."""

    def __init__(self, data_dir: Path, *, deflate: bool, ws: str = WS_IMPLEMENTATION) -> None:
        self.data_dir, self.deflate, self.ws = data_dir, deflate, ws
        self.ports = {name: free_port() for name in ("redis", "auth", "teams", "rt_a", "rt_b")}
        self.entries: list[dict] = []
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
        self.env.update(
            {
                "TEAMMOA_DATA_DIR": str(data_dir),
                "TEAMMOA_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
                "TEAMMOA_AUTH_URL": f"http://127.0.0.1:{self.ports['auth']}",
                "TEAMMOA_TEAMS_URL": f"http://127.0.0.1:{self.ports['teams']}",
                "TEAMMOA_SITE_URL": ORIGIN,
                "TEAMMOA_LOG_REQUESTS": "false",
                "TEAMMOA_ARGON2_MEMORY_KIB": "1024",
                "TEAMMOA_ARGON2_TIME_COST": "1",
                "TEAMMOA_REALTIME_SOCKETS_PER_USER": "100000",  # the idle figure opens hundreds of tabs per user
                "TEAMMOA_REALTIME_SUBSCRIBE_BURST": "100000",  # ... and subscribes all of them at once
            }
        )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir()
        redis = shutil.which("redis-server") or sys.exit("redis-server is not installed")
        self.entries.append(
            spawn(
                [redis, "--port", str(self.ports["redis"]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=ROOT,
                env=self.env,
                log=logs / "redis.log",
            )
        )
        services = {"auth": "auth", "teams": "teams", "rt_a": "realtime", "rt_b": "realtime"}
        for name, service in services.items():
            deflate = ["--ws-per-message-deflate", "true" if self.deflate else "false"]
            extra = ["--log-level", "warning", *deflate, "--ws", self.ws]
            command = uvicorn_command(service, host="127.0.0.1", port=self.ports[name], extra=extra)
            self.entries.append(spawn(command, cwd=ROOT, env=self.env, log=logs / f"{name}.log"))
        for name in services:
            wait_healthy(self.url(name) + "/health")

    def pid(self, name: str) -> int:
        return self.entries[["redis", "auth", "teams", "rt_a", "rt_b"].index(name)]["pid"]

    def stop(self) -> None:
        stop(self.entries, timeout_s=10)


class World:
    """The users, team and map the measurements use, made through the real API."""

    def __init__(self, stack: Stack, http: httpx.AsyncClient) -> None:
        self.stack, self.http = stack, http

    async def user(self, name: str) -> dict:
        email = f"{name}@example.com"
        r = await self.http.post(
            self.stack.url("auth") + "/api/v1/users/register/",
            json={"username": name, "email": email, "nickname": name, "password": PASSWORD},
        )
        r.raise_for_status()
        await self.http.post(self.stack.url("auth") + "/api/v1/users/verify-email/", json={"token": self._token(email)})
        r = await self.http.post(self.stack.url("auth") + "/api/v1/users/login/", json={"login": name, "password": PASSWORD})
        r.raise_for_status()
        self.http.cookies.clear()
        token = r.json()["access_token"]
        return {"token": token, "headers": {"Authorization": f"Bearer {token}"}}

    def _token(self, email: str) -> str:
        for mail in sorted((self.stack.data_dir / "mail").glob("*.eml"), reverse=True):
            text = mail.read_text().replace("=\n", "")
            if f"To: {email}" in text and (found := re.search(r"/verify-email\?token=([\w-]+)", text)):
                return found.group(1)
        raise RuntimeError(f"no mail to {email}")

    async def setup(self, users: int) -> None:
        teams = self.stack.url("teams") + "/api/v1/teams/"
        self.host = await self.user("host")
        self.members = [self.host] + [await self.user(f"user{n}") for n in range(users - 1)]
        r = await self.http.post(
            teams, json={"name": "Bench", "capacity": 100, "join_password": TEAM_PASSWORD}, headers=self.host["headers"]
        )
        r.raise_for_status()
        team = r.json()
        for member in self.members[1:]:
            (
                await self.http.post(
                    teams + "join/",
                    json={"invite_code": team["invite_code"], "password": TEAM_PASSWORD},
                    headers=member["headers"],
                )
            ).raise_for_status()
        self.base = f"{teams}{team['id']}/mindmaps/"
        r = await self.http.post(self.base, json={"title": "Fan-out"}, headers=self.host["headers"])
        self.map_id = r.json()["id"]
        self.base += f"{self.map_id}/"
        r = await self.http.post(self.base + "nodes/", json={"title": "Moving"}, headers=self.host["headers"])
        self.node_id = r.json()["id"]


async def open_socket(stack: Stack, instance: str, token: str):
    host = stack.url(instance).removeprefix("http://")
    return await connect(
        f"ws://{host}/ws/",
        origin=ORIGIN,
        additional_headers={"Cookie": f"teammoa_access={token}"},
        open_timeout=30,
        ping_interval=None,
        max_queue=None,
    )


SUBSCRIBE_ATTEMPTS = 5
SUBSCRIBE_TIMEOUT_S = 180  # thousands subscribing at once on a busy machine: presence pushes to all queue up
resubscribed = 0  # subscriptions refused as unavailable (a peer too slow under load) and asked again


async def subscribe(ws, channel: str) -> None:
    """Subscribe; refused as unavailable (the teams service did not answer in time), ask again as a client does."""
    global resubscribed
    for attempt in range(SUBSCRIBE_ATTEMPTS):
        await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), SUBSCRIBE_TIMEOUT_S))
            if frame["op"] in ("subscribed", "error"):
                break
        if frame["op"] == "subscribed":
            return
        assert frame.get("code") in ("unavailable", "rate_limited") and attempt < SUBSCRIBE_ATTEMPTS - 1, frame
        resubscribed += 1
        await asyncio.sleep(1.0 * (attempt + 1))


def _summary(latencies: list[float], expected: int) -> dict:
    latencies.sort()
    return {
        "deliveries": len(latencies),
        "missing": expected - len(latencies),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(latencies[max(0, math.ceil(len(latencies) * 0.99) - 1)], 2) if latencies else None,
        "max_ms": round(latencies[-1], 2) if latencies else None,
    }


async def _until_delivered(arrivals: list[dict[int, float]], last: int, timeout_s: float = 30) -> None:
    """Wait until every socket has ``last`` (or ``timeout_s`` passed: the rest count as missing)."""
    deadline = time.monotonic() + timeout_s
    while not all(last in got for got in arrivals) and time.monotonic() < deadline:  # noqa: ASYNC110 (a poll)
        await asyncio.sleep(0.05)


async def fanout(stack: Stack, world: World, subscribers: int, edits: int, cursors: int) -> dict:
    """Latency from a message leaving its sender to each subscriber receiving it: first cursor moves (an
    ephemeral ``publish`` on one socket, relayed to the others), then persisted edits (a PATCH through the
    teams API, committed, published with a version and fanned out)."""
    channel = f"mindmap.{world.map_id}"
    sockets = []
    for n in range(subscribers):
        member = world.members[n // TABS_PER_USER % len(world.members)]
        sockets.append(await open_socket(stack, "rt_a" if n % 2 == 0 else "rt_b", member["token"]))
    await asyncio.gather(*(subscribe(ws, channel) for ws in sockets))
    publisher, peers = sockets[0], sockets[1:]
    moves: list[dict[int, float]] = [{} for _ in peers]
    arrivals: list[dict[int, float]] = [{} for _ in peers]

    async def read(index: int, ws) -> None:
        async for text in ws:
            frame = json.loads(text)
            if frame["op"] == "event":
                arrivals[index][frame["version"]] = time.perf_counter()
            elif frame["op"] == "message" and frame["type"] == "cursor":
                moves[index][frame["data"]["n"]] = time.perf_counter()

    async def drain(ws) -> None:  # the publisher reads what it is sent (presence, events) as a browser does
        async for _ in ws:
            pass

    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(peers)] + [asyncio.create_task(drain(publisher))]
    moved: dict[int, float] = {}
    for n in range(cursors):  # from the first one: every subscriber has its "subscribed" frame
        began = time.perf_counter()
        moved[n] = began
        await publisher.send(
            json.dumps({"op": "publish", "channel": channel, "type": "cursor", "data": {"n": n, "x": n % 800, "y": n % 600}})
        )
        await asyncio.sleep(max(0.0, EDIT_EVERY_S - (time.perf_counter() - began)))
    if moved:
        await _until_delivered(moves, cursors - 1)
    sent: dict[int, float] = {}
    api_ms: list[float] = []
    warmup = 10
    for n in range(warmup + edits):
        began = time.perf_counter()
        r = await world.http.patch(
            world.base + f"nodes/{world.node_id}/", json={"x": n % 10_000}, headers=world.host["headers"]
        )
        r.raise_for_status()
        if n >= warmup:
            sent[r.json()["map_version"]] = began
            api_ms.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(max(0.0, EDIT_EVERY_S - (time.perf_counter() - began)))
    if sent:
        await _until_delivered(arrivals, max(sent))
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    cursor_ms = [(got[n] - t0) * 1000 for got in moves for n, t0 in moved.items() if n in got]
    edit_ms = [(got[v] - t0) * 1000 for got in arrivals for v, t0 in sent.items() if v in got]
    return {
        "subscribers": subscribers,
        "cursors": {
            "messages": len(moved),
            "per_second": round(1 / EDIT_EVERY_S),
            **_summary(cursor_ms, len(moved) * len(peers)),
            "missing_by_message": dict(Counter(n for got in moves for n in moved if n not in got).most_common(10)),
            "sockets_missing_some": sum(1 for got in moves if len(got) < len(moved)),
        },
        "edits": {
            "edits": len(sent),
            **_summary(edit_ms, len(sent) * len(peers)),
            "api_patch_p50_ms": round(statistics.median(api_ms), 2) if api_ms else None,
        },
    }


async def idle_memory(stack: Stack, world: World, count: int) -> dict:
    """RSS growth of one realtime instance per idle socket: connected, then subscribed to a map."""
    pid = stack.pid("rt_a")
    await asyncio.sleep(1)
    before = rss_kib(pid)
    gate = asyncio.Semaphore(100)

    async def one(n: int):
        async with gate:
            return await open_socket(stack, "rt_a", world.members[n % len(world.members)]["token"])

    began = time.perf_counter()
    sockets = await asyncio.gather(*(one(n) for n in range(count)))
    connect_s = time.perf_counter() - began
    await asyncio.sleep(2)
    connected = rss_kib(pid)

    async def sub(ws):
        async with gate:
            await subscribe(ws, f"mindmap.{world.map_id}")

    figures = {
        "sockets": count,
        "rss_before_mib": round(before / 1024, 1),
        "rss_connected_mib": round(connected / 1024, 1),
        "kib_per_connected_socket": round((connected - before) / count, 1),
        "connect_seconds": round(connect_s, 1),
    }
    began = time.perf_counter()
    try:
        await asyncio.gather(*(sub(ws) for ws in sockets))
    except Exception as exc:  # keep what was measured
        figures["subscribe_error"] = f"{type(exc).__name__}: {exc}"[:300]
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        return figures
    figures["subscribe_seconds"] = round(time.perf_counter() - began, 1)
    await asyncio.sleep(4)  # let the presence pushes of the crowd settle
    subscribed = rss_kib(pid)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {
        **figures,
        "rss_subscribed_mib": round(subscribed / 1024, 1),
        "kib_per_subscribed_socket": round((subscribed - before) / count, 1),
    }


async def run(args, stack: Stack) -> dict:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        world = World(stack, http)
        await world.setup(max(1, math.ceil(args.subscribers / TABS_PER_USER)))
        result = (
            {} if args.skip_fanout else {"fanout": await fanout(stack, world, args.subscribers, args.edits, args.cursors)}
        )
        if args.idle:
            try:
                result["idle"] = await idle_memory(stack, world, args.idle)
            except Exception as exc:  # keep the fan-out figures; say what went wrong with the idle sockets
                result["idle"] = {"sockets": args.idle, "error": f"{type(exc).__name__}: {exc}"[:300]}
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--edits", type=int, default=200, help="node moves through the API, 20 a second")
    parser.add_argument("--cursors", type=int, default=200, help="cursor messages on one socket, 20 a second")
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="let uvicorn negotiate permessage-deflate (its default; off in every image: services/kit/serve.py)",
    )
    parser.add_argument(
        "--ws",
        default=WS_IMPLEMENTATION,
        choices=(WS_IMPLEMENTATION, "websockets", "websockets-sansio", "wsproto"),
        help="uvicorn's WebSocket implementation of the realtime instances",
    )
    parser.add_argument("--skip-fanout", action="store_true", help="measure the idle sockets only")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.idle + args.subscribers + 1024  # the client's sockets; each server process inherits it too
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(f"ulimit -n allows at most {hard} files; {needed} are needed (raise the hard limit)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(needed, resource.getrlimit(resource.RLIMIT_NOFILE)[0]), hard))
    try:
        from uvloop import run as run_loop  # the client reads thousands of frames a second: the faster loop
    except ImportError:
        run_loop = asyncio.run
    with tempfile.TemporaryDirectory(prefix="teammoa-fanout-") as tmp:
        stack = Stack(Path(tmp), deflate=args.deflate, ws=args.ws)
        try:
            stack.start()
            result = run_loop(run(args, stack))
        finally:
            stack.stop()
    result["permessage_deflate"] = args.deflate
    result["subscriptions_asked_again"] = resubscribed
    result["ws"] = args.ws
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
