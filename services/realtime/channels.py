"""What a socket may do: subscribe (members only, replaying what it missed), unsubscribe, publish
ephemeral messages, ping. Each client frame is handled here, in the order it arrived."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from services.kit.channels import team_channel
from services.kit.errors import Unavailable

from . import protocol
from .connection import Connection, TokenBucket
from .hubs import Hub, control
from .protocol import ClientFrame, FrameError, Ping, Publish, Subscribe
from .sequencing import Subscription

Sub = Subscription[Connection]

log = logging.getLogger("teammoa.realtime")
MAX_SUBSCRIPTIONS = 32  # a tab shows one team page and one map; this leaves room and bounds the work
COUNTED_ERRORS = frozenset(
    {"bad_frame", "unknown_op", "bad_channel", "too_large", "forbidden", "not_subscribed", "too_many_channels"}
)  # every refusal counts toward the bad-frame close (Connection.count_bad_frame)
FORBIDDEN = "You are not a member of this team, or it does not exist."


class ChannelHost(Protocol):
    """What handling a client frame needs of the realtime instance (service.Realtime is one)."""

    async def lookup_map(self, map_id: int, *, fresh: bool = False) -> dict[str, Any] | None:
        """The map's team and (nearly) current version; None when there is no such map."""

    async def member_throughout(self, team_id: int, user_id: int, meanwhile: Callable[[], Awaitable[None]]) -> bool:
        """Whether the user is a member, checked again if a membership event arrives while ``meanwhile`` runs."""

    async def hold(self, channel: str) -> Hub:
        """The channel's live hub, held until ``release``."""

    def release(self, hub: Hub) -> None: ...

    def hub(self, channel: str) -> Hub | None: ...

    async def history(self, channel: str, since: int) -> list[dict[str, Any]]: ...

    def count(self, stat: str, n: int = 1) -> None: ...

    def subscribe_budget(self, user_id: int) -> TokenBucket:
        """The subscribe rate limit shared by all of a user's sockets on this instance."""

    def end(self, sub: Sub, reason: str | None, *, leave: bool = True) -> None: ...

    async def joined(self, sub: Sub) -> None: ...

    async def broadcast(self, channel: str, message: str) -> None: ...


async def handle(rt: ChannelHost, conn: Connection, text: str) -> None:
    """Handle one client frame; refusals are answered with an ``error`` frame."""
    frame: ClientFrame | None = None
    try:
        frame = protocol.parse(text)
        if isinstance(frame, Publish):
            await publish(rt, conn, frame)
        elif not conn.frames.take():
            conn.limit_error()
        elif isinstance(frame, Ping):
            conn.send(protocol.PONG)
        elif isinstance(frame, Subscribe):
            if not rt.subscribe_budget(conn.user.user_id).take():  # shared by all of the user's sockets
                rt.count("subscribes_limited")
                conn.limit_error()
                return
            await subscribe(rt, conn, frame.channel, since=frame.since)
        else:
            unsubscribe(rt, conn, frame.channel, reason="requested")
    except FrameError as exc:
        conn.send(protocol.error(exc.code, exc.message, exc.channel))
        if exc.code in COUNTED_ERRORS:
            conn.count_bad_frame()
    except Unavailable as exc:
        channel = None if frame is None or isinstance(frame, Ping) else frame.channel
        conn.send(protocol.error("unavailable", exc.message, channel))


async def subscribe(rt: ChannelHost, conn: Connection, channel: str, *, since: int | None) -> None:
    """Subscribe a member to a channel; on a mind map, replay what it missed since ``since``."""
    if channel in conn.subscriptions:
        unsubscribe(rt, conn, channel, reason=None)
    if len(conn.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise FrameError("too_many_channels", f"At most {MAX_SUBSCRIPTIONS} channels per socket.", channel)
    kind, target = protocol.parse_channel(channel)
    version = None
    if kind == "team":
        team_id = target
    else:
        found = await rt.lookup_map(target)
        if found is None:
            raise FrameError("forbidden", FORBIDDEN, channel)
        team_id, version = found["team_id"], found["version"]
    sub = await _attach(rt, conn, channel, kind=kind, team_id=team_id)
    if sub is None:
        return
    try:
        if version is None:
            sub.announce(protocol.subscribed(channel, None))
            sub.start(version=0, known=0)
        else:
            version = max(version, sub.hubs[-1].latest)
            if since is not None and since > version:  # the lookup may be a second old: ask again before doubting
                found = await rt.lookup_map(target, fresh=True)
                version = max(version, found["version"] if found else 0)
            sub.announce(protocol.subscribed(channel, version))  # cursors reach it from now on, during the replay too
            await _replay(rt, sub, since=since, current=version)
    except BaseException:
        rt.end(sub, None, leave=False)
        raise
    await rt.joined(sub)


async def _attach(rt: ChannelHost, conn: Connection, channel: str, *, kind: str, team_id: int) -> Sub | None:
    """Check membership while hearing the team's events, then attach a (not yet ready) subscription."""
    held: list[Hub] = [await rt.hold(team_channel(team_id))]  # membership events from now on are heard

    async def hold_map() -> None:
        if kind == "mindmap":
            held.append(await rt.hold(channel))

    try:
        if not await rt.member_throughout(team_id, conn.user.user_id, hold_map):
            raise FrameError("forbidden", FORBIDDEN, channel)
        if not conn.open or channel in conn.subscriptions:
            raise _Abandoned()
    except BaseException as exc:
        for hub in held:
            rt.release(hub)
        if isinstance(exc, _Abandoned):
            return None
        raise
    sub = Subscription(conn, channel, team_id=team_id, versioned=kind == "mindmap", hubs=tuple(held))
    held[-1].attach(sub)
    conn.subscriptions[channel] = sub
    return sub


class _Abandoned(Exception):
    """The socket closed (or subscribed again) while its subscription was being checked."""


async def _replay(rt: ChannelHost, sub: Sub, *, since: int | None, current: int) -> None:
    """Send the events after ``since`` from the history, then go live; resync when history cannot cover it."""
    start = current if since is None else since
    if start > current:  # a version from another world (the map was recreated, or the client is confused)
        sub.start(version=current, known=current)
        sub.resync()
        rt.count("resyncs")
        return
    try:
        history = await rt.history(sub.channel, start)
    except Exception as exc:
        log.warning("history of %s unavailable: %r", sub.channel, exc)
        history = None
    events = sorted(
        (e for e in history or () if isinstance(e.get("version"), int) and e["version"] > start), key=lambda e: e["version"]
    )
    sub.start(version=start, known=current)
    if history is None or (events and events[0]["version"] > start + 1):
        sub.resync()
        rt.count("resyncs")
        return
    for e in events:
        sub.offer(e["version"], protocol.event(sub.channel, e["type"], e.get("data"), e["version"]))
    rt.count("replayed", len(events))
    hub = rt.hub(sub.channel)
    if hub is not None:
        hub.watch_gaps()


def unsubscribe(rt: ChannelHost, conn: Connection, channel: str, *, reason: str | None) -> None:
    """End a subscription (say why when ``reason`` is given); unknown channels are ignored."""
    sub = conn.subscriptions.get(channel)
    if sub is not None:
        rt.end(sub, reason)


async def publish(rt: ChannelHost, conn: Connection, frame: Publish) -> None:
    """Relay an ephemeral message to the channel's other subscribers, on every instance."""
    sub = conn.subscriptions.get(frame.channel)
    if sub is None or not sub.ready:
        raise FrameError("not_subscribed", "Subscribe to a channel before publishing on it.", frame.channel)
    if not conn.publishes.take():
        rt.count("ephemeral_dropped")
        conn.limit_error()
        return
    sender = {**conn.user.stamp(), "connection": conn.id}
    text = protocol.message(frame.channel, frame.type, sender, frame.data)
    await rt.broadcast(frame.channel, control("message", origin=conn.id, frame=text))
