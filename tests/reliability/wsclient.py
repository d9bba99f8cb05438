"""A Python model of the browser's realtime client (gateway/web/js/realtime.js) for the fault tests.

The reconnect delays follow the same algorithm, with the constants read from realtime.js itself so the
model cannot drift from the client it stands for: after a close with 1012 (instance restart or broker
lost) a random delay in [0, RESTART_JITTER_MS); otherwise full jitter, random in
[0, min(BACKOFF_CAP_MS, BACKOFF_BASE_MS · 2^attempt)).

``MapClient`` keeps a replica of one mind map the way the page does: a snapshot from REST, then the
socket's events in version order (duplicates dropped); ``resync`` refetches the snapshot; a reconnect
subscribes with ``since`` = the last version seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

REALTIME_JS = Path(__file__).resolve().parents[2] / "gateway" / "web" / "js" / "realtime.js"
RESTART, TRY_LATER, EXPIRED, TOO_SLOW = 1012, 1013, 4001, 4008


def _constant(name: str) -> int:
    found = re.search(rf"const {name} = ([\d_]+);", REALTIME_JS.read_text())
    assert found, f"{name} is not in realtime.js any more: update the model"
    return int(found.group(1).replace("_", ""))


BACKOFF_BASE_MS = _constant("BACKOFF_BASE_MS")
BACKOFF_CAP_MS = _constant("BACKOFF_CAP_MS")
RESTART_JITTER_MS = _constant("RESTART_JITTER_MS")


def reconnect_delay_s(code: int | None, attempt: int, rng: random.Random) -> float:
    """realtime.js's delay before reconnect number ``attempt`` (1, 2, …) after a close with ``code``."""
    if code == RESTART:
        return rng.random() * RESTART_JITTER_MS / 1000
    return rng.random() * min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2**attempt) / 1000


@dataclass
class MapClient:
    """One browser tab on a mind map page: a replica of the map kept live over /ws/."""

    base_url: str
    cookie: str
    token: str
    team_id: int
    map_id: int
    rng: random.Random = field(default_factory=random.Random)
    nodes: dict[int, dict] = field(default_factory=dict)
    version: int = 0
    close_codes: list[int | None] = field(default_factory=list)
    connects: list[float] = field(default_factory=list)  # monotonic time of each successful open
    resyncs: int = 0
    subscribed: bool = False
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def channel(self) -> str:
        return f"mindmap.{self.map_id}"

    async def snapshot(self, http: httpx.AsyncClient) -> None:
        for _ in range(60):
            try:
                r = await http.get(
                    f"/api/v1/teams/{self.team_id}/mindmaps/{self.map_id}/",
                    headers={"Authorization": f"Bearer {self.token}"},
                )
                if r.status_code == 200:
                    body = r.json()
                    self.nodes = {n["id"]: _node(n) for n in body["nodes"]}
                    self.version = body["version"]
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        raise AssertionError("the snapshot could not be fetched")

    def apply(self, frame: dict) -> None:
        if frame["version"] <= self.version:
            return
        data = frame.get("data") or {}
        if frame["type"] in ("node.created", "node.updated") and "id" in data:
            self.nodes[data["id"]] = _node(data)
        elif frame["type"] == "node.deleted":
            self.nodes.pop(data.get("id"), None)
        self.version = frame["version"]

    async def run(self) -> None:
        """Connect, follow the map, reconnect as the browser does, until ``stop()``."""
        url = self.base_url.replace("http://", "ws://") + "/ws/"
        headers = {"Cookie": self.cookie, "Origin": self.base_url}
        attempt = 0
        async with httpx.AsyncClient(base_url=self.base_url, timeout=15) as http:
            await self.snapshot(http)
            while not self._stop.is_set():
                code = None
                try:
                    async with connect(
                        url, additional_headers=headers, open_timeout=10, ping_interval=None, close_timeout=2
                    ) as ws:
                        self.connects.append(time.monotonic())
                        attempt = 0
                        await ws.send(json.dumps({"op": "subscribe", "channel": self.channel, "since": self.version}))
                        code = await self._follow(ws, http)
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd else None
                except (InvalidStatus, OSError, TimeoutError) as exc:
                    code = getattr(getattr(exc, "response", None), "status_code", None)
                self.subscribed = False
                if self._stop.is_set():
                    break
                self.close_codes.append(code)
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), reconnect_delay_s(code, attempt, self.rng))

    async def _follow(self, ws, http: httpx.AsyncClient) -> int | None:
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    receive.cancel()
                    await ws.close()
                    return 1000
                frame = json.loads(receive.result())
                if frame.get("channel") != self.channel:
                    continue
                if frame["op"] == "subscribed":
                    self.subscribed = True
                elif frame["op"] == "event":
                    self.apply(frame)
                elif frame["op"] == "resync":
                    self.resyncs += 1
                    await self.snapshot(http)
        finally:
            stop.cancel()

    def stop(self) -> None:
        self._stop.set()


def _node(data: dict) -> dict:
    return {key: data.get(key) for key in ("id", "title", "content", "x", "y", "color")}


class Fleet:
    """Many MapClients in an event loop of their own thread (the test keeps its own thread free)."""

    def __init__(self, clients: list[MapClient]) -> None:
        self.clients = clients
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = None
        self._done = None

    def start(self) -> None:
        import threading

        ready = threading.Event()

        def main() -> None:
            async def everyone() -> list:
                return await asyncio.gather(*(client.run() for client in self.clients), return_exceptions=True)

            self._loop = asyncio.new_event_loop()
            ready.set()
            self._done = self._loop.run_until_complete(everyone())
            self._loop.close()

        self._thread = threading.Thread(target=main, name="reliability-fleet", daemon=True)
        self._thread.start()
        ready.wait()

    def wait_until(self, predicate, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return predicate()

    def all_subscribed(self) -> bool:
        return all(client.subscribed for client in self.clients)

    def stop(self) -> list:
        assert self._loop is not None
        for client in self.clients:
            self._loop.call_soon_threadsafe(client.stop)
        self._thread.join(timeout=60)
        failures = [result for result in self._done or () if isinstance(result, BaseException)]
        assert not failures, failures[:3]
        return self._done
