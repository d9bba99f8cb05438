"""The realtime protocol: JSON text frames over one WebSocket per browser tab at ``/ws/``.

Handshake
    The access-token cookie ``teammoa_access`` authenticates the socket (a token in the query string or
    an ``Authorization`` header is not accepted), and ``Origin`` must be one of
    ``TEAMMOA_ALLOWED_ORIGINS``. Either failure closes the socket before it is accepted, which the
    client sees as an HTTP 403 answer to its upgrade request (a browser reports close code 1006).

Client → server
    {"op": "subscribe", "channel": "mindmap.7", "since": 41}     since: the last map version seen (optional)
    {"op": "unsubscribe", "channel": "mindmap.7"}
    {"op": "publish", "channel": "mindmap.7", "type": "cursor", "data": {...}}
        ephemeral (cursor, drag preview): never stored; at most 1 KB per frame and 30 per second per
        connection (more are dropped and counted); only on channels this socket is subscribed to.
    {"op": "ping"}

Server → client
    {"op": "subscribed", "channel": "mindmap.7", "version": 42}  version: null on team channels
    {"op": "event", "channel": "mindmap.7", "type": "node.created", "version": 42, "data": {...}}
        persisted changes, in version order without gaps or duplicates on mind-map channels
    {"op": "message", "channel": "mindmap.7", "type": "cursor", "from": {"user_id", "nickname"}, "data": {...}}
    {"op": "presence", "channel": "mindmap.7", "members": [{"user_id", "nickname", "connections"}]}
    {"op": "resync", "channel": "mindmap.7"}     the missed events are not in the history: refetch the
                                                 snapshot, then apply only events above its version
    {"op": "unsubscribed", "channel": "team.3", "reason": "requested" | "membership_ended" | "deleted"}
    {"op": "error", "code": "...", "message": "...", "channel": "..."?}
    {"op": "pong"}

Error codes (the socket stays open)
    bad_frame            not JSON, not an object, or fields of the wrong shape
    unknown_op           an op this server does not know
    bad_channel          not ``team.<id>`` or ``mindmap.<id>``
    forbidden            not a member of that team, or no such channel (the two look the same)
    not_subscribed       publish on a channel this socket is not subscribed to
    too_large            a publish over 1 KB (or any frame over 4 KB)
    rate_limited         too many frames; the extra ones were dropped
    too_many_channels    more than 32 subscriptions on one socket
    unavailable          a dependency did not answer; try again

Close codes
    1000  normal closure
    1008  policy violation: the client kept sending refused frames (50), or its user holds too many sockets
    1011  internal error
    1012  service restart: this instance is shutting down or lost its event broker — reconnect at once
          (with jitter), most likely to another instance, and resume from the last version
    1013  try again later: this instance is not accepting sockets right now — reconnect with backoff
    4001  session expired: the access token ran out — refresh the session, then reconnect
    4008  too slow: the client did not read its frames fast enough and fell too far behind —
          reconnect with backoff and resume from the last version
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from services.kit import jsonsafe

NORMAL = 1000
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012
TRY_AGAIN_LATER = 1013
SESSION_EXPIRED = 4001
TOO_SLOW = 4008

MAX_FRAME_CHARS = 4096  # any client frame; subscribe/unsubscribe/ping are tiny
MAX_PUBLISH_BYTES = 1024  # an ephemeral message, as sent by the client
CHANNEL = re.compile(r"^(team|mindmap)\.([1-9][0-9]{0,17})$")
MESSAGE_TYPE = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
MAX_VERSION = 2**62


class FrameError(Exception):
    """A client frame this server refuses; answered with an ``error`` frame."""

    def __init__(self, code: str, message: str, channel: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.channel = code, message, channel


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Subscribe:
    channel: str
    since: int | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    channel: str


@dataclass(frozen=True, slots=True)
class Publish:
    channel: str
    type: str
    data: dict[str, Any]
    size: int


ClientFrame = Ping | Subscribe | Unsubscribe | Publish  # every op names a valid channel, except ping


def parse_channel(name: Any) -> tuple[str, int]:
    """Split ``team.3`` / ``mindmap.7`` into its kind and id."""
    match = CHANNEL.match(name) if isinstance(name, str) else None
    if match is None:
        raise FrameError("bad_channel", "Channels are team.<id> or mindmap.<id>.")
    return match.group(1), int(match.group(2))


def parse(text: str) -> ClientFrame:
    """Validate one client frame."""
    size = len(text.encode()) if len(text) <= MAX_FRAME_CHARS else MAX_FRAME_CHARS + 1
    if size > MAX_FRAME_CHARS:
        raise FrameError("too_large", "Frames are limited to 4 KB.")
    try:
        body = jsonsafe.loads(text)  # nesting limited: 4,000 '[' is a bad frame, not a 1011
    except ValueError:
        raise FrameError("bad_frame", "Frames are JSON objects.") from None
    if not isinstance(body, dict) or not isinstance(body.get("op"), str):
        raise FrameError("bad_frame", "Frames are JSON objects with an op.")
    op = body["op"]
    if op == "ping":
        return Ping()
    if op not in ("subscribe", "unsubscribe", "publish"):
        raise FrameError("unknown_op", "Unknown op.")
    channel = body.get("channel")
    if not isinstance(channel, str):
        raise FrameError("bad_channel", "Channels are team.<id> or mindmap.<id>.")
    parse_channel(channel)
    if op == "unsubscribe":
        return Unsubscribe(channel)
    if op == "subscribe":
        since = body.get("since")
        if since is not None and (isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= MAX_VERSION):
            raise FrameError("bad_frame", "since is a version number.", channel)
        return Subscribe(channel, since=since)
    if size > MAX_PUBLISH_BYTES:
        raise FrameError("too_large", "Messages are limited to 1 KB.", channel)
    type_, data = body.get("type"), body.get("data", {})
    if not isinstance(type_, str) or not MESSAGE_TYPE.match(type_) or not isinstance(data, dict):
        raise FrameError("bad_frame", "A message has a type (a short name) and an object as data.", channel)
    return Publish(channel, type=type_, data=data, size=size)


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=str)


def subscribed(channel: str, version: int | None) -> str:
    return dumps({"op": "subscribed", "channel": channel, "version": version})


def event(channel: str, type_: str, data: Any, version: int | None) -> str:
    frame = {"op": "event", "channel": channel, "type": type_, "data": data}
    if version is not None:
        frame["version"] = version
    return dumps(frame)


def message(channel: str, type_: str, sender: dict[str, Any], data: Any) -> str:
    return dumps({"op": "message", "channel": channel, "type": type_, "from": sender, "data": data})


def presence(channel: str, members: list[dict[str, Any]]) -> str:
    return dumps({"op": "presence", "channel": channel, "members": members})


def resync(channel: str) -> str:
    return dumps({"op": "resync", "channel": channel})


def unsubscribed(channel: str, reason: str) -> str:
    return dumps({"op": "unsubscribed", "channel": channel, "reason": reason})


def error(code: str, message_: str, channel: str | None = None) -> str:
    frame = {"op": "error", "code": code, "message": message_}
    if channel is not None:
        frame["channel"] = channel
    return dumps(frame)


PONG = dumps({"op": "pong"})
