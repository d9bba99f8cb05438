"""A whole TeamMoa in the test's event loop, served by real uvicorn servers on free ports, and the
clients that talk to it: HTTP through httpx, sockets through the ``websockets`` library.

    running_stack(environ, instances=2)   the embedded gateway (auth, teams, schedule, realtime A) on one
                                          port, plus realtime instances B, C… each on its own port with its
                                          own event bus (Redis when TEAMMOA_REDIS_URL is set, otherwise
                                          one in-memory bus shared by the process)
    Peer                                  a socket that records every frame it receives
    Replica                               a mind map rebuilt from a snapshot and the events, the way the
                                          browser does it
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from broadcaster import Broadcast
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.embedded import EmbeddedGateway
from services.auth.app import create_app as create_auth
from services.kit.app import Shared
from services.kit.events import EventBus
from services.kit.serve import WS_IMPLEMENTATION
from services.kit.settings import SERVICES, Settings
from services.realtime.app import create_app as create_realtime
from services.schedule.app import create_app as create_schedule
from services.teams.app import create_app as create_teams
from tests.conftest import PASSWORD, token_from_mail

ORIGIN = "http://testserver"  # TEAMMOA_SITE_URL of the test environment, hence the allowed origin
TEAM_PASSWORD = "team-pass-1"
TIMEOUT_S = 5.0


@dataclass
class Member:
    id: int
    username: str
    nickname: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Stack:
    environ: dict[str, str]
    http: httpx.AsyncClient
    socket_hosts: list[str]  # host:port of each realtime instance (the first is the gateway)
    apps: dict[str, Any]
    realtimes: list[Any]  # the realtime app of each instance
    users: int = 0

    async def signup(self, username: str) -> Member:
        """Register, verify and log in a user through the auth API."""
        email, nickname = f"{username}@example.com", f"Nick {username}"[:20]
        r = await self.http.post(
            "/api/v1/users/register/",
            json={"username": username, "email": email, "nickname": nickname, "password": PASSWORD},
        )
        assert r.status_code == 201, r.text
        token = token_from_mail(self.environ["TEAMMOA_DATA_DIR"], email)
        r = await self.http.post("/api/v1/users/verify-email/", json={"token": token})
        assert r.status_code == 200, r.text
        r = await self.http.post("/api/v1/users/login/", json={"login": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.http.cookies.clear()
        body = r.json()
        return Member(id=body["user"]["id"], username=username, nickname=nickname, token=body["access_token"])

    async def team(self, host: Member, *members: Member, name: str = "Crew") -> dict:
        """A team hosted by ``host`` that ``members`` joined."""
        r = await self.http.post(
            "/api/v1/teams/", json={"name": name, "capacity": 20, "join_password": TEAM_PASSWORD}, headers=host.headers
        )
        assert r.status_code == 201, r.text
        team = r.json()
        for member in members:
            r = await self.http.post(
                "/api/v1/teams/join/",
                json={"invite_code": team["invite_code"], "password": TEAM_PASSWORD},
                headers=member.headers,
            )
            assert r.status_code == 201, r.text
        return team

    async def mindmap(self, team: dict, user: Member, title: str = "Ideas") -> dict:
        r = await self.http.post(f"/api/v1/teams/{team['id']}/mindmaps/", json={"title": title}, headers=user.headers)
        assert r.status_code == 201, r.text
        return r.json()

    async def snapshot(self, team_id: int, map_id: int, user: Member) -> dict:
        r = await self.http.get(f"/api/v1/teams/{team_id}/mindmaps/{map_id}/", headers=user.headers)
        assert r.status_code == 200, r.text
        return r.json()

    def realtime(self, instance: int = 0):
        """The ``Realtime`` object of one instance (its sockets, hubs and counters)."""
        return self.realtimes[instance].state.realtime

    async def connect(self, user: Member, *, instance: int = 0, **options) -> Peer:
        return await Peer.open(self.socket_hosts[instance], user, **options)


@contextlib.asynccontextmanager
async def serve(app) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free port of 127.0.0.1; yield ``host:port``."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        ws_max_size=64 * 1024,
        timeout_graceful_shutdown=3,
        ws=WS_IMPLEMENTATION,  # what the stack and the images run (services/kit/serve.py)
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped while starting")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@contextlib.asynccontextmanager
async def running_stack(
    environ: dict[str, str], *, instances: int = 1, env: dict[str, str] | None = None
) -> AsyncIterator[Stack]:
    """The gateway with every service, plus ``instances - 1`` more realtime instances."""
    environ = {**environ, **(env or {})}
    memory_bus = EventBus(Broadcast("memory://"))
    events = None if environ.get("TEAMMOA_REDIS_URL") else memory_bus  # with Redis: one bus per app
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    factories = {"auth": create_auth, "teams": create_teams, "schedule": create_schedule, "realtime": create_realtime}
    apps = {
        name: factories[name](Settings(name, environ), Shared(events=events, transports=transports)) for name in SERVICES
    }
    transports.update({name: httpx.ASGITransport(app=app) for name, app in apps.items()})
    more = [
        create_realtime(Settings("realtime", environ), Shared(events=events, transports=transports))
        for _ in range(instances - 1)
    ]
    async with contextlib.AsyncExitStack() as stack:
        hosts = [await stack.enter_async_context(serve(EmbeddedGateway(apps, memory_bus)))]
        for app in more:  # started after the gateway, which connects the shared in-memory bus
            hosts.append(await stack.enter_async_context(serve(app)))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=f"http://{hosts[0]}", timeout=30))
        yield Stack(environ=environ, http=http, socket_hosts=hosts, apps=apps, realtimes=[apps["realtime"], *more])


class Peer:
    """A socket that records every frame it receives, in order."""

    def __init__(self, ws: ClientConnection, user: Member | None) -> None:
        self.ws, self.user = ws, user
        self.frames: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.perf_counter() at which each frame arrived
        self.closed = asyncio.Event()
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        host: str,
        user: Member | None,
        *,
        origin: str = ORIGIN,
        token: str | None = None,
        path: str = "/ws/",
        rcvbuf: int | None = None,
        read: bool = True,
        max_queue: int = 16,
    ):
        headers = {}
        token = token if token is not None else (user.token if user else None)
        if token:
            headers["Cookie"] = f"teammoa_access={token}"
        sock = None
        if rcvbuf is not None:  # a small receive buffer makes a client that stops reading fall behind quickly
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            hostname, port = host.split(":")
            await asyncio.get_running_loop().sock_connect(sock, (hostname, int(port)))
        ws = await connect(
            f"ws://{host}{path}",
            origin=origin,
            additional_headers=headers,
            open_timeout=TIMEOUT_S,
            max_queue=max_queue,
            sock=sock,
            ping_interval=None,
        )
        if not read:
            return ws
        return cls(ws, user)

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.frames.append(json.loads(text))
                self.arrivals.append(time.perf_counter())
                self._wake()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self._wake()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def wait_for(
        self, predicate: Callable[[dict], bool], *, start: int = 0, timeout: float = TIMEOUT_S
    ) -> dict[str, Any]:
        """The first frame from index ``start`` on that matches, waiting for it if needed."""
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.frames[start:]:
                    if predicate(frame):
                        return frame
                if self.closed.is_set():
                    raise AssertionError(f"socket closed ({self.close_code}) before the frame came: {self.frames}")
                await self._arrived.wait()

    async def subscribe(self, channel: str, since: int | None = None) -> dict[str, Any]:
        """Subscribe and return the answer (``subscribed`` or ``error``)."""
        start = len(self.frames)
        frame: dict[str, Any] = {"op": "subscribe", "channel": channel}
        if since is not None:
            frame["since"] = since
        await self.send(**frame)
        return await self.wait_for(lambda f: f.get("channel") == channel and f["op"] in ("subscribed", "error"), start=start)

    async def presence(self, channel: str, user_ids: set[int], *, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        """Wait until the channel's presence lists exactly these users."""
        return await self.wait_for(
            lambda f: f["op"] == "presence" and f["channel"] == channel and {m["user_id"] for m in f["members"]} == user_ids,
            timeout=timeout,
        )

    async def wait_closed(self, timeout: float = TIMEOUT_S) -> int | None:
        async with asyncio.timeout(timeout):
            await self.closed.wait()
        return self.close_code

    def events(self, channel: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["op"] == "event" and f["channel"] == channel]

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, TIMEOUT_S)


NODE_FIELDS = ("id", "title", "content", "x", "y", "color", "version", "vote_count", "comment_count")


@dataclass
class Replica:
    """A mind map as a browser holds it: the snapshot, then every event above its version, in order."""

    version: int = 0
    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    links: dict[int, tuple[int, int]] = field(default_factory=dict)
    resyncs: int = 0

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> Replica:
        replica = cls()
        replica.load(snapshot)
        return replica

    def load(self, snapshot: dict[str, Any]) -> None:
        self.version = snapshot["version"]
        self.nodes = {n["id"]: {k: n[k] for k in NODE_FIELDS} for n in snapshot["nodes"]}
        self.links = {link["id"]: (link["source_id"], link["target_id"]) for link in snapshot["links"]}

    def apply(self, frame: dict[str, Any]) -> None:
        """Apply one event frame; the server promises versions without gaps or repeats."""
        version, data, type_ = frame["version"], frame["data"], frame["type"]
        if version <= self.version:
            return
        assert version == self.version + 1, f"gap: at {self.version}, got {version}"
        self.version = version
        if type_ in ("node.created", "node.updated"):
            self.nodes[data["id"]] = {k: data[k] for k in NODE_FIELDS}
        elif type_ == "node.deleted":
            self.nodes.pop(data["id"], None)
            for link_id in data["link_ids"]:
                self.links.pop(link_id, None)
        elif type_ == "link.created":
            self.links[data["id"]] = (data["source_id"], data["target_id"])
        elif type_ == "link.deleted":
            self.links.pop(data["id"], None)
        elif type_ in ("comment.created", "comment.deleted"):
            self.nodes[data["node_id"]]["comment_count"] = data["comment_count"]
        elif type_ == "vote.changed":
            self.nodes[data["node_id"]]["vote_count"] = data["vote_count"]

    def same_as(self, snapshot: dict[str, Any]) -> bool:
        other = Replica.of(snapshot)
        return (self.version, self.nodes, self.links) == (other.version, other.nodes, other.links)


class Follower:
    """A client that keeps a replica of one map current the way ``realtime.js`` does: snapshot, subscribe
    with its version, apply events, refetch on ``resync``, reconnect with backoff after a close."""

    def __init__(self, stack: Stack, user: Member, *, team_id: int, map_id: int, instance: int = 0) -> None:
        self.stack, self.user, self.team_id, self.map_id, self.instance = stack, user, team_id, map_id, instance
        self.channel = f"mindmap.{map_id}"
        self.replica = Replica()
        self.peer: Peer | None = None
        self.close_codes: list[int | None] = []
        self.reconnects = 0
        self._task: asyncio.Task | None = None
        self._moved = asyncio.Event()

    async def start(self) -> Follower:
        self.replica.load(await self.stack.snapshot(self.team_id, self.map_id, self.user))
        await self._connect()
        self._task = asyncio.create_task(self._follow())
        return self

    async def _connect(self) -> None:
        delay = 0.05
        while True:
            try:
                peer = await Peer.open(self.stack.socket_hosts[self.instance], self.user)
                answer = await peer.subscribe(self.channel, since=self.replica.version)
                if answer["op"] == "subscribed":
                    self.peer = peer
                    return
                await peer.close()
            except (OSError, ConnectionClosed, AssertionError, TimeoutError, InvalidStatus):
                pass
            await asyncio.sleep(random.uniform(0, delay))  # full jitter
            delay = min(delay * 2, 1.0)

    async def _follow(self) -> None:
        index = 0
        while True:
            assert self.peer is not None
            if index < len(self.peer.frames):
                frame = self.peer.frames[index]
                index += 1
                if frame.get("channel") != self.channel:
                    continue
                if frame["op"] == "event":
                    self.replica.apply(frame)
                elif frame["op"] == "resync":
                    self.replica.resyncs += 1
                    self.replica.load(await self.stack.snapshot(self.team_id, self.map_id, self.user))
                self._moved.set()
                self._moved = asyncio.Event()
                continue
            if self.peer.closed.is_set():
                self.close_codes.append(self.peer.close_code)
                self.reconnects += 1
                await self._connect()
                index = 0
                continue
            await self.peer._arrived.wait()

    async def reaches(self, version: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while self.replica.version < version:
                await self._moved.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.peer is not None:
            await self.peer.close()


async def eventually(check: Callable[[], Any], *, timeout: float = TIMEOUT_S, every: float = 0.02) -> Any:
    """Poll ``check`` (a function, possibly async) until it answers something true; that answer."""
    async with asyncio.timeout(timeout):
        while True:
            answer = check()
            if inspect.isawaitable(answer):
                answer = await answer
            if answer:
                return answer
            await asyncio.sleep(every)
