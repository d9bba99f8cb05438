"""What a socket may do: subscribe (members only, replaying what it missed), unsubscribe, publish
ephemeral messages, ping. Each client frame is handled here, in the order it arrived."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from services.kit.channels import team_channel
from services.kit.errors import Unavailable

from . import protocol
from .connection import Connection
from .hubs import Hub, control
from .protocol import ClientFrame, FrameError
from .sequencing import Subscription

if TYPE_CHECKING:
    from .service import Realtime

log = logging.getLogger("teammoa.realtime")
MAX_SUBSCRIPTIONS = 32  # a tab shows one team page and one map; this leaves room and bounds the work
MAX_BAD_FRAMES = 50  # then the client is broken or hostile: close with 1008
FORBIDDEN = "You are not a member of this team, or it does not exist."


async def handle(rt: Realtime, conn: Connection, text: str) -> None:
    """Handle one client frame; refusals are answered with an ``error`` frame."""
    frame = None
    try:
        frame = protocol.parse(text)
        if frame.op == "publish":
            await publish(rt, conn, frame)
        elif not conn.frames.take():
            conn.limit_error()
        elif frame.op == "ping":
            conn.send(protocol.PONG)
        elif frame.op == "subscribe":
            await subscribe(rt, conn, frame.channel, since=frame.since)
        else:
            unsubscribe(rt, conn, frame.channel, reason="requested")
    except FrameError as exc:
        conn.send(protocol.error(exc.code, exc.message, exc.channel))
        if exc.code in ("bad_frame", "unknown_op", "bad_channel", "too_large"):
            conn.bad_frames += 1
            if conn.bad_frames > MAX_BAD_FRAMES:
                conn.close(protocol.POLICY_VIOLATION, "too many invalid frames")
    except Unavailable as exc:
        conn.send(protocol.error("unavailable", exc.message, frame.channel if frame else None))


async def subscribe(rt: Realtime, conn: Connection, channel: str, *, since: int | None) -> None:
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
        found = await rt.access.mindmap(target)
        if found is None:
            raise FrameError("forbidden", FORBIDDEN, channel)
        team_id, version = found["team_id"], found["version"]
    sub = await _attach(rt, conn, channel, kind=kind, team_id=team_id)
    if sub is None:
        return
    try:
        if version is None:
            conn.send(protocol.subscribed(channel, None))
            sub.start(version=0, known=0)
        else:
            version = max(version, sub.hubs[-1].latest)
            if since is not None and since > version:  # the lookup may be a second old: ask again before doubting
                found = await rt.access.mindmap(target, fresh=True)
                version = max(version, found["version"] if found else 0)
            conn.send(protocol.subscribed(channel, version))
            await _replay(rt, sub, since=since, current=version)
    except BaseException:
        rt.end(sub, None, leave=False)
        raise
    await rt.joined(sub)


async def _attach(rt: Realtime, conn: Connection, channel: str, *, kind: str, team_id: int) -> Subscription | None:
    """Check membership while hearing the team's events, then attach a (not yet ready) subscription."""
    user_id = conn.user.user_id
    held: list[Hub] = [await rt.hubs.acquire(team_channel(team_id))]  # membership events from now on are heard
    try:
        epoch = rt.access.epochs[team_id]
        if not await rt.access.is_member(team_id, user_id):
            raise FrameError("forbidden", FORBIDDEN, channel)
        if kind == "mindmap":
            held.append(await rt.hubs.acquire(channel))
        if rt.access.epochs[team_id] != epoch and not await rt.access.is_member(team_id, user_id, fresh=True):
            raise FrameError("forbidden", FORBIDDEN, channel)
        if not conn.open or channel in conn.subscriptions:
            raise _Abandoned()
    except BaseException as exc:
        for hub in held:
            rt.hubs.release(hub)
        if isinstance(exc, _Abandoned):
            return None
        raise
    sub = Subscription(conn, channel, team_id=team_id, versioned=kind == "mindmap", hubs=tuple(held))
    held[-1].attach(sub)
    conn.subscriptions[channel] = sub
    return sub


class _Abandoned(Exception):
    """The socket closed (or subscribed again) while its subscription was being checked."""


async def _replay(rt: Realtime, sub: Subscription, *, since: int | None, current: int) -> None:
    """Send the events after ``since`` from the history, then go live; resync when history cannot cover it."""
    start = current if since is None else since
    if start > current:  # a version from another world (the map was recreated, or the client is confused)
        sub.start(version=current, known=current)
        sub.resync()
        rt.stats["resyncs"] += 1
        return
    try:
        history = await rt.bus.history(sub.channel, start)
    except Exception as exc:
        log.warning("history of %s unavailable: %r", sub.channel, exc)
        history = None
    events = sorted(
        (e for e in history or () if isinstance(e.get("version"), int) and e["version"] > start), key=lambda e: e["version"]
    )
    sub.start(version=start, known=current)
    if history is None or (events and events[0]["version"] > start + 1):
        sub.resync()
        rt.stats["resyncs"] += 1
        return
    for e in events:
        sub.offer(e["version"], protocol.event(sub.channel, e["type"], e.get("data"), e["version"]))
    rt.stats["replayed"] += len(events)
    hub = rt.hubs.get(sub.channel)
    if hub is not None:
        hub.watch_gaps()


def unsubscribe(rt: Realtime, conn: Connection, channel: str, *, reason: str | None) -> None:
    """End a subscription (say why when ``reason`` is given); unknown channels are ignored."""
    sub = conn.subscriptions.get(channel)
    if sub is not None:
        rt.end(sub, reason)


async def publish(rt: Realtime, conn: Connection, frame: ClientFrame) -> None:
    """Relay an ephemeral message to the channel's other subscribers, on every instance."""
    sub = conn.subscriptions.get(frame.channel)
    if sub is None or not sub.ready:
        raise FrameError("not_subscribed", "Subscribe to a channel before publishing on it.", frame.channel)
    if not conn.publishes.take():
        rt.stats["ephemeral_dropped"] += 1
        conn.limit_error()
        return
    sender = {**conn.user.stamp(), "connection": conn.id}
    text = protocol.message(frame.channel, frame.type, sender, frame.data)
    await rt.broadcast(frame.channel, control("message", origin=conn.id, frame=text))
