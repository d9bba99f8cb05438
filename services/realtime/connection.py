"""One accepted socket: a bounded outbound queue drained by its own sender task, and its limits.

Hubs never await a socket: they put frames on the connection's queue without blocking. A client that
reads too slowly fills its queue and is closed with 4008 (``TOO_SLOW``) instead of slowing anyone else;
ephemeral frames (cursors, drag previews) are dropped first, once the queue is half full. The memory a
connection can hold is bounded by its queue and by the server's transport buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
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

    def __init__(
        self, ws: WebSocket, *, conn_id: str, user: User, outbox_max: int, publish_rate: float, frame_rate: float
    ) -> None:
        self.ws, self.id, self.user = ws, conn_id, user
        self.outbox: asyncio.Queue[str] = asyncio.Queue(outbox_max)
        self._droppable_above = outbox_max // 2
        self.subscriptions: dict[str, Subscription[Connection]] = {}
        self.publishes = TokenBucket(publish_rate, publish_rate)
        self.frames = TokenBucket(frame_rate, frame_rate * 2)
        self.bad_frames = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self._closed = asyncio.Event()
        self._last_limit_error = 0.0
        self.expiry: asyncio.TimerHandle | None = None  # closes the socket when the access token runs out

    @property
    def open(self) -> bool:
        return self.close_code is None

    def send(self, frame: str, *, droppable: bool = False) -> bool:
        """Queue a frame without waiting; a full queue closes the connection as too slow."""
        if self.close_code is not None:
            return False
        if droppable and self.outbox.qsize() >= self._droppable_above:
            return False
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("closing slow connection %s (user %s)", self.id, self.user.user_id)
            self.close(protocol.TOO_SLOW, "too slow")
            return False
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Ask for the socket to close with ``code`` (the first request wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._closed.set()

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
        """Run the sender and the reader until either side closes; then close the socket."""
        sender = asyncio.create_task(self._pump())
        reader = asyncio.create_task(self._read(handle))
        try:
            await self._closed.wait()
        finally:
            for task in (reader, sender):
                task.cancel()
            await asyncio.gather(reader, sender, return_exceptions=True)
        while not self.outbox.empty():  # nothing more goes out: free the frames now
            self.outbox.get_nowait()
        if self.close_code != CLIENT_GONE:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(self.close_code or protocol.NORMAL, self.close_reason), CLOSE_TIMEOUT_S)

    async def _pump(self) -> None:
        try:
            while True:
                frame = await self.outbox.get()
                await self.ws.send_text(frame)
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-send
            self.close(CLIENT_GONE)

    async def _read(self, handle: Callable[[Connection, str], Awaitable[None]]) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:  # a binary frame: answered and counted like any other bad frame
                    self.send(protocol.error("bad_frame", "Frames are JSON text."))
                    self.count_bad_frame()
                    continue
                await handle(self, text)
        except asyncio.CancelledError:
            raise
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("realtime frame handling failed on %s", self.id)
            self.close(protocol.INTERNAL_ERROR, "internal error")
            return
        self.close(CLIENT_GONE)
