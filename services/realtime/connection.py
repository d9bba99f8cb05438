"""One accepted socket: a bounded outbound queue, its limits, and the reading loop.

Hubs never await a socket: they put frames on the connection's queue without blocking. A client that
reads too slowly fills its queue and is closed with 4008 (``TOO_SLOW``) instead of slowing anyone else;
ephemeral frames (cursors, drag previews) are dropped first, once the queue is half full. The memory a
connection can hold is bounded by its queue and by the server's transport buffer.

An idle socket costs as little as we can make it, since one instance holds thousands: the socket's own
task reads, and a sender task exists only while frames wait to go out (most sockets, most of the time,
have none).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import protocol
from .sequencing import Subscription

log = logging.getLogger("teammoa.realtime")
CLOSE_TIMEOUT_S = 2.0  # a client too slow to take even the close frame is simply dropped
CLIENT_GONE = 0  # internal: the client closed first; nothing left to send
MAX_BAD_FRAMES = 50  # refused frames of any kind (binary, malformed, forbidden, unsubscribed publishes); then 1008


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    nickname: str

    def stamp(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "nickname": self.nickname}


class TokenBucket:
    """Allow ``rate`` events per second on average, in bursts of up to ``burst``."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class Connection:
    """A socket's outbound queue, subscriptions and limits."""

    __slots__ = (
        "_droppable_above",
        "_last_limit_error",
        "_outbox_max",
        "_reader",
        "_sender",
        "bad_frames",
        "close_code",
        "close_reason",
        "expires_at",
        "frames",
        "id",
        "outbox",
        "publishes",
        "subscriptions",
        "user",
        "ws",
    )

    def __init__(
        self, ws: WebSocket, *, conn_id: str, user: User, outbox_max: int, publish_rate: float, frame_rate: float
    ) -> None:
        self.ws, self.id, self.user = ws, conn_id, user
        self.outbox: deque[str] | None = None  # only while frames wait: an empty deque costs 0.7 KiB
        self._outbox_max, self._droppable_above = outbox_max, outbox_max // 2
        self.subscriptions: dict[str, Subscription[Connection]] = {}
        self.publishes = TokenBucket(publish_rate, publish_rate)
        self.frames = TokenBucket(frame_rate, frame_rate * 2)
        self.bad_frames = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self._last_limit_error = 0.0
        self._sender: asyncio.Task[None] | None = None  # only while frames wait to go out
        self._reader: asyncio.Task[Any] | None = None  # the socket's own task, while it waits for a frame
        self.expires_at = float("inf")  # when the access token runs out (the instance's sweep closes it then)

    @property
    def open(self) -> bool:
        return self.close_code is None

    @property
    def queued(self) -> int:
        """Frames waiting to go out (the one being written, if any, not counted)."""
        return len(self.outbox) if self.outbox is not None else 0

    def send(self, frame: str, *, droppable: bool = False) -> bool:
        """Queue a frame without waiting; a full queue closes the connection as too slow."""
        if self.close_code is not None:
            return False
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
        waiting = len(outbox)
        if droppable and waiting >= self._droppable_above:
            return False
        if waiting >= self._outbox_max:
            log.warning("closing slow connection %s (user %s)", self.id, self.user.user_id)
            self.close(protocol.TOO_SLOW, "too slow")
            return False
        outbox.append(frame)
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._drain())
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Ask for the socket to close with ``code`` (the first request wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            reader = self._reader
            if reader is not None and reader is not asyncio.current_task():
                reader.cancel()  # stop waiting for the client's next frame; serve() closes the socket

    def count_bad_frame(self) -> None:
        """Count a refused frame; a client that keeps sending them is broken or hostile (1008)."""
        self.bad_frames += 1
        if self.bad_frames > MAX_BAD_FRAMES:
            self.close(protocol.POLICY_VIOLATION, "too many invalid frames")

    def limit_error(self) -> None:
        """Tell the client it was rate-limited, at most once a second."""
        now = time.monotonic()
        if now - self._last_limit_error >= 1.0:
            self._last_limit_error = now
            self.send(protocol.error("rate_limited", "Too many frames; the extra ones were dropped."))

    async def serve(self, handle: Callable[[Connection, str], Awaitable[None]]) -> None:
        """Read and handle the client's frames in this task until either side closes; then close the socket."""
        task = asyncio.current_task()
        try:
            if self.close_code is None:
                self._reader = task
                await self._read(handle)
        except asyncio.CancelledError:
            if task is None or self.close_code is None or task.uncancel() > 0:
                raise  # not (only) our own close(): the server is stopping this task
        finally:
            self._reader = None
            self.close(CLIENT_GONE)  # no-op when something else closed it first
            sender, self._sender = self._sender, None
            if sender is not None:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
            self.outbox = None  # nothing more goes out: free the frames now
        if self.close_code != CLIENT_GONE:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(self.close_code or protocol.NORMAL, self.close_reason), CLOSE_TIMEOUT_S)

    async def _drain(self) -> None:
        """Send what is queued, then end (the next ``send`` starts another)."""
        try:
            while (outbox := self.outbox) and self.close_code is None:
                await self.ws.send_text(outbox.popleft())
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-send
            self.close(CLIENT_GONE)
        finally:
            if self._sender is asyncio.current_task():
                self._sender = None
                if self.outbox is not None and not self.outbox:
                    self.outbox = None

    async def _read(self, handle: Callable[[Connection, str], Awaitable[None]]) -> None:
        try:
            while self.close_code is None:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:  # a binary frame: answered and counted like any other bad frame
                    self.send(protocol.error("bad_frame", "Frames are JSON text."))
                    self.count_bad_frame()
                    continue
                await handle(self, text)
        except WebSocketDisconnect:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("realtime frame handling failed on %s", self.id)
            self.close(protocol.INTERNAL_ERROR, "internal error")
