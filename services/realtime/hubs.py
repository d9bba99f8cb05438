"""One broker subscription per channel per instance, fanned out to the local subscriptions.

A hub lives while anything on this instance needs its channel: sockets subscribed to it, or (for
``team.<t>``) sockets subscribed to one of the team's maps, whose membership events it must hear. A hub
is *live* once a probe it published on its own channel has come back: from then on, nothing published on
the channel can be missed, so a subscriber may read the history without a gap between the two.

What arrives on a channel:
- domain events (``kit.events.encode``: channel, type, data, version?) → ``event`` frames;
- ``{"kind": "message", "origin", "frame"}`` → ephemeral frames, relayed to everyone but the sender;
- ``{"kind": "presence"}`` → someone joined or left: push the channel's presence again;
- ``{"kind": "probe", "token"}`` → a hub's own liveness check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Coroutine
from typing import Any, Protocol

from services.kit.channels import MINDMAP_DELETED
from services.kit.errors import Unavailable
from services.kit.events import EventBus

from . import protocol
from .connection import Connection
from .sequencing import GAP_WAIT_S, Subscription

log = logging.getLogger("teammoa.realtime")
LIVE_TIMEOUT_S = 3.0  # the broker round trip of a probe; longer means the broker is in trouble
PRESENCE_DEBOUNCE_S = 0.05  # joins and leaves in a burst give one presence push…
PRESENCE_DEBOUNCE_PER_SUB_S = 0.0005  # …and a crowded channel pushes less often (5,000 sockets: every 2.5 s)
PRESENCE_DEBOUNCE_MAX_S = 2.5


class PresenceReader(Protocol):
    async def members(self, channel: str) -> list[dict[str, Any]]: ...


class HubHost(Protocol):
    """What hubs need of their realtime instance (service.Realtime is one), and nothing more: the event
    bus, the presence lists, a counter, and what to do when a hub hears something that concerns more
    than its own subscribers."""

    @property
    def bus(self) -> EventBus: ...

    @property
    def presence(self) -> PresenceReader: ...

    def count(self, stat: str, n: int = 1) -> None: ...

    def team_event(self, team_id: int, type_: str, data: dict[str, Any]) -> None:
        """A team channel heard a domain event (membership changes end subscriptions)."""

    def channel_gone(self, channel: str) -> None:
        """The channel's object was deleted: end its subscriptions."""

    def hub_failed(self, hub: Hub) -> None:
        """The hub lost its broker subscription."""

    def team_unwatched(self, team_id: int) -> None:
        """This instance no longer hears a team's events (its cached answers cannot be trusted)."""


def control(kind: str, **fields: Any) -> str:
    return json.dumps({"kind": kind, **fields}, separators=(",", ":"))


class Hub:
    """The local end of one channel."""

    def __init__(self, rt: HubHost, channel: str) -> None:
        self.rt, self.channel = rt, channel
        self.kind, self.target_id = protocol.parse_channel(channel)
        self.subs: dict[str, Subscription[Connection]] = {}
        self.latest = 0  # the newest version heard on this (mind-map) channel
        self.refs = 0
        self._token = uuid.uuid4().hex
        self._live: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Task[None]] = set()
        self._gap_task: asyncio.Task[None] | None = None
        self._presence_task: asyncio.Task[None] | None = None
        self._last_presence: str | None = None
        self._presence_unsent: set[str] = set()

    def start(self) -> None:
        self._spawn(self._run(), "hub")

    async def wait_live(self) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(self._live), LIVE_TIMEOUT_S)
        except (TimeoutError, Unavailable):
            raise Unavailable("The event broker is not answering.") from None

    def stop(self) -> list[asyncio.Task[None]]:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        self._fail_live("The channel closed.")
        return tasks

    def _fail_live(self, message: str) -> None:
        if not self._live.done():
            self._live.set_exception(Unavailable(message))
            self._live.exception()  # mark it retrieved: nobody may be waiting

    def attach(self, sub: Subscription[Connection]) -> None:
        self.subs[sub.conn.id] = sub
        self._presence_unsent.add(sub.conn.id)

    def detach(self, sub: Subscription[Connection]) -> None:
        if self.subs.get(sub.conn.id) is sub:
            del self.subs[sub.conn.id]
        self._presence_unsent.discard(sub.conn.id)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=f"{name}:{self.channel}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self) -> None:
        bus = self.rt.bus
        try:
            async with bus.subscribe(self.channel) as subscriber:
                await asyncio.wait_for(
                    bus.broadcast.publish(self.channel, control("probe", token=self._token)), LIVE_TIMEOUT_S
                )
                while True:
                    event = await subscriber.get()
                    self.dispatch(event.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("channel %s lost its broker subscription: %r", self.channel, exc)
            self._fail_live("The event broker is not answering.")
            self.rt.hub_failed(self)

    def dispatch(self, message: str) -> None:
        """Route one message from the broker to the local subscriptions."""
        try:
            body = json.loads(message)
        except (TypeError, ValueError):
            return
        if not isinstance(body, dict):
            return
        kind = body.get("kind")
        if kind == "probe":
            if body.get("token") == self._token and not self._live.done():
                self._live.set_result(None)
        elif kind == "message":
            origin, frame = body.get("origin"), body.get("frame")
            if isinstance(frame, str):
                for conn_id, sub in list(self.subs.items()):
                    if conn_id != origin:
                        sub.deliver(frame, droppable=True)
        elif kind == "presence":
            self.push_presence()
        elif isinstance(body.get("type"), str):
            self._domain_event(body["type"], body.get("data"), body.get("version"))

    def _domain_event(self, type_: str, data: Any, version: Any) -> None:
        if self.kind == "mindmap":
            if isinstance(version, bool) or not isinstance(version, int):
                return
            self.latest = max(self.latest, version)
            frame = protocol.event(self.channel, type_, data, version)
            for sub in list(self.subs.values()):
                sub.offer(version, frame)
            self.watch_gaps()
            if type_ == MINDMAP_DELETED:
                self.rt.channel_gone(self.channel)
            return
        frame = protocol.event(self.channel, type_, data, None)
        for sub in list(self.subs.values()):
            sub.deliver(frame)
        self.rt.team_event(self.target_id, type_, data if isinstance(data, dict) else {})

    def watch_gaps(self) -> None:
        """Make sure someone fills or resyncs the gaps of this channel's subscriptions."""
        if (self._gap_task is None or self._gap_task.done()) and any(s.gapped for s in self.subs.values()):
            self._gap_task = self._spawn(self._fill_gaps(), "gaps")

    async def _fill_gaps(self) -> None:
        while any(s.gapped for s in self.subs.values()):
            await asyncio.sleep(GAP_WAIT_S / 4)
            stale = [s for s in self.subs.values() if s.gapped and s.gap_older_than(GAP_WAIT_S)]
            if not stale:
                continue
            frames: list[tuple[int, str]] = []
            with contextlib.suppress(Exception):  # no history: the resync below covers it
                frames = [
                    (e["version"], protocol.event(self.channel, e["type"], e.get("data"), e["version"]))
                    for e in await self.rt.bus.history(self.channel, min(s.version for s in stale))
                    if isinstance(e.get("version"), int)
                ]
            for sub in stale:
                for version, frame in frames:
                    sub.offer(version, frame)
                if sub.gapped:
                    sub.resync()
                    self.rt.count("resyncs")

    def push_presence(self, *, only_if_changed: bool = False) -> None:
        """Push the channel's presence to its subscribers soon (joins and leaves in a burst push once)."""
        if self._presence_task is None or self._presence_task.done():
            self._presence_task = self._spawn(self._push_presence(only_if_changed), "presence")

    async def _push_presence(self, only_if_changed: bool) -> None:
        await asyncio.sleep(min(PRESENCE_DEBOUNCE_MAX_S, PRESENCE_DEBOUNCE_S + len(self.subs) * PRESENCE_DEBOUNCE_PER_SUB_S))
        try:
            members = await self.rt.presence.members(self.channel)
        except Exception as exc:
            log.warning("presence of %s unavailable: %r", self.channel, exc)
            return
        frame = protocol.presence(self.channel, members)
        changed = frame != self._last_presence
        self._last_presence = frame
        for conn_id, sub in list(self.subs.items()):
            if (changed or not only_if_changed or conn_id in self._presence_unsent) and sub.ready:
                sub.deliver(frame)
                self._presence_unsent.discard(conn_id)


class Hubs:
    """The hubs of this instance, created on first use and stopped when nothing needs them."""

    def __init__(self, rt: HubHost) -> None:
        self.rt = rt
        self._hubs: dict[str, Hub] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    def get(self, channel: str) -> Hub | None:
        return self._hubs.get(channel)

    def all(self) -> list[Hub]:
        return list(self._hubs.values())

    async def acquire(self, channel: str) -> Hub:
        """The live hub of a channel, holding a reference until ``release``."""
        hub = self._hubs.get(channel)
        if hub is None:
            hub = self._hubs[channel] = Hub(self.rt, channel)
            hub.start()
        hub.refs += 1
        try:
            await hub.wait_live()
        except BaseException:
            self.release(hub)
            raise
        return hub

    def release(self, hub: Hub) -> None:
        hub.refs -= 1
        if hub.refs <= 0:
            self.discard(hub)

    def discard(self, hub: Hub) -> None:
        """Stop a hub now (nothing needs it, or its broker subscription died)."""
        if self._hubs.get(hub.channel) is hub:
            del self._hubs[hub.channel]
            if hub.kind == "team":
                self.rt.team_unwatched(hub.target_id)
        for task in hub.stop():
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        for hub in list(self._hubs.values()):
            self.discard(hub)
        await asyncio.gather(*self._stopping, return_exceptions=True)
