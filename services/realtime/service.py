"""The realtime instance: its sockets, hubs and presence, the broker watchdog and the presence heartbeat.

Watchdog: broadcaster itself never reports a dead subscription (docs/dependencies.md); ``EventBus.healthy``
does. When it turns False this instance stops accepting sockets (1013), closes the open ones with 1012 so
clients reconnect — to another instance if there is one — and ``GET /health`` answers 503 until the
subscription is back. Clients then resume from their last version (replay or resync), so nothing
published during the outage is silently lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from starlette.websockets import WebSocket

from services.kit.channels import MEMBER_PREFIX, MEMBERSHIP_ENDED, TEAM_DISBANDED
from services.kit.errors import AppError
from services.kit.events import EventBus
from services.kit.peers import Peers
from services.kit.tokens import ACCESS_COOKIE

from . import protocol
from .access import Access
from .connection import CLIENT_GONE, Connection, TokenBucket, User
from .hubs import Hub, Hubs, control
from .presence import MemoryPresence, RedisPresence
from .sequencing import Subscription
from .settings import RealtimeSettings

log = logging.getLogger("teammoa.realtime")
PUBLISH_RATE_PER_S = 30  # ephemeral messages per connection (docs/spec.md)
FRAME_RATE_PER_S = 20  # other frames per connection (subscribe, ping…), in bursts of twice that
BUDGETS_KEPT = 10_000  # budgets of users who left are kept a while, so reconnecting does not refill one
WATCHDOG_INTERVAL_S = 0.25
EXPIRY_SWEEP_S = 1.0  # sockets whose access token ran out are closed within this (one sweep, not a timer each)
BROADCAST_TIMEOUT_S = 1.0
DRAIN_TIMEOUT_S = 5.0


class Realtime:
    """Everything one realtime instance holds."""

    def __init__(self, *, settings: RealtimeSettings, bus: EventBus, peers: Peers, redis: Redis | None) -> None:
        self.settings, self.bus = settings, bus
        self.instance = uuid.uuid4().hex[:10]
        ttl = settings.presence_ttl_s
        self.presence = (
            RedisPresence(redis, prefix=settings.redis_prefix, ttl_s=ttl) if redis is not None else MemoryPresence(ttl)
        )
        self.heartbeat_s = ttl / 3
        self.outbox_max = settings.outbox_max
        self.access = Access(peers)
        self.hubs = Hubs(self)
        self.connections: dict[str, Connection] = {}
        self.by_user: dict[int, set[Connection]] = {}
        self.sockets_per_user = settings.sockets_per_user
        self._subscribe_rate, self._subscribe_burst = settings.subscribe_rate, settings.subscribe_burst
        self._subscribe_budgets: dict[int, TokenBucket] = {}
        self.accepting = True
        self.stats: Counter[str] = Counter()
        self._seq = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._idle = asyncio.Event()  # set while no socket is open
        self._idle.set()

    # lifecycle

    async def start(self) -> None:
        self._spawn(self._heartbeat(), "presence-heartbeat")
        self._spawn(self._watchdog(), "broker-watchdog")
        self._spawn(self._expire(), "session-expiry")

    async def stop(self) -> None:
        """Close every socket with 1012 (clients reconnect elsewhere), then stop the background work."""
        self._stopping, self.accepting = True, False
        self.close_all(protocol.SERVICE_RESTART, "service restart")
        if self.connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), DRAIN_TIMEOUT_S)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.hubs.close()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def close_all(self, code: int, reason: str) -> None:
        for conn in list(self.connections.values()):
            conn.close(code, reason)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL_S)
            healthy = self.bus.healthy
            if not healthy and self.accepting:
                log.warning("event broker down: closing %d sockets with 1012", len(self.connections))
                self.accepting = False
                self.stats["broker_outages"] += 1
                self.close_all(protocol.SERVICE_RESTART, "event broker lost")
            elif healthy and not self.accepting and not self._stopping:
                log.warning("event broker back: accepting sockets again")
                self.accepting = True

    async def _expire(self) -> None:
        """Close the sockets whose access token has run out (4001: refresh the session, then reconnect)."""
        while True:
            await asyncio.sleep(EXPIRY_SWEEP_S)
            now = time.time()
            for conn in [c for c in self.connections.values() if c.expires_at <= now]:
                conn.close(protocol.SESSION_EXPIRED, "session expired")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            entries = [
                (sub.channel, conn.id, conn.user)
                for conn in list(self.connections.values())
                for sub in list(conn.subscriptions.values())
                if sub.ready
            ]
            try:
                await self.presence.refresh(entries)
            except Exception as exc:
                log.warning("presence heartbeat failed: %r", exc)
            for hub in self.hubs.all():
                if hub.subs:
                    hub.push_presence(only_if_changed=True)

    # sockets

    async def admit(self, ws: WebSocket) -> tuple[User, float] | None:
        """The user of a handshake with an allowed Origin and a valid access cookie; otherwise close it
        before accepting (HTTP 403) and answer None."""
        origin = ws.headers.get("origin", "")
        token = ws.cookies.get(ACCESS_COOKIE, "")
        claims = None
        if origin in self.settings.allowed_origins and token:
            with contextlib.suppress(AppError):
                claims = await ws.app.state.tokens.verify(token)
        if claims is None:
            self.stats["refused"] += 1
            await ws.close(protocol.POLICY_VIOLATION)
            return None
        # Read once, here: an open socket keeps nothing of its upgrade request (a browser's headers and
        # cookies weigh a few KiB, and an instance holds thousands of idle sockets).
        ws.scope["headers"].clear()
        ws.cookies.clear()
        return User(int(claims["sub"]), str(claims.get("name", ""))), float(claims["exp"])

    def has_room_for(self, user: User) -> bool:
        """Whether the user may open one more socket on this instance."""
        if len(self.by_user.get(user.user_id, ())) < self.sockets_per_user:
            return True
        self.stats["refused_per_user"] += 1
        return False

    def subscribe_budget(self, user_id: int) -> TokenBucket:
        """The user's subscribe budget, shared by all of their sockets on this instance."""
        bucket = self._subscribe_budgets.get(user_id)
        if bucket is None:
            if len(self._subscribe_budgets) >= 4 * BUDGETS_KEPT:  # bounded: keep the users with sockets here
                self._subscribe_budgets = {uid: b for uid, b in self._subscribe_budgets.items() if uid in self.by_user}
            bucket = self._subscribe_budgets[user_id] = TokenBucket(self._subscribe_rate, self._subscribe_burst)
        return bucket

    def open(self, ws: WebSocket, user: User, *, expires_at: float) -> Connection:
        conn = Connection(
            ws,
            conn_id=f"{self.instance}:{next(self._seq)}",
            user=user,
            outbox_max=self.outbox_max,
            publish_rate=PUBLISH_RATE_PER_S,
            frame_rate=FRAME_RATE_PER_S,
        )
        self.connections[conn.id] = conn
        self._idle.clear()
        self.by_user.setdefault(user.user_id, set()).add(conn)
        self.stats["accepted"] += 1
        conn.expires_at = expires_at
        return conn

    async def forget(self, conn: Connection) -> None:
        """Drop a closed socket: its subscriptions, its presence, its place in the registries."""
        conn.close(CLIENT_GONE)
        if conn.close_code == protocol.TOO_SLOW:
            self.stats["slow_closed"] += 1
        subs = list(conn.subscriptions.values())
        for sub in subs:
            self.end(sub, None, leave=False)
        self.connections.pop(conn.id, None)
        if not self.connections:
            self._idle.set()
        mine = self.by_user.get(conn.user.user_id)
        if mine is not None:
            mine.discard(conn)
            if not mine:
                del self.by_user[conn.user.user_id]
        for sub in subs:
            await self._leave(sub)

    # subscriptions

    async def joined(self, sub: Subscription[Connection]) -> None:
        """Show a new subscriber in the channel's presence, on every instance."""
        try:
            await self.presence.refresh([(sub.channel, sub.conn.id, sub.conn.user)])
        except Exception as exc:
            log.warning("presence join on %s failed: %r", sub.channel, exc)
        await self.broadcast(sub.channel, control("presence"))

    async def _leave(self, sub: Subscription[Connection]) -> None:
        try:
            await self.presence.remove(sub.channel, sub.conn.id)
        except Exception as exc:
            log.warning("presence leave on %s failed: %r", sub.channel, exc)
        await self.broadcast(sub.channel, control("presence"))

    def end(self, sub: Subscription[Connection], reason: str | None, *, leave: bool = True) -> None:
        """End one subscription now; tell the client why when ``reason`` is given."""
        conn = sub.conn
        if conn.subscriptions.get(sub.channel) is not sub:
            return
        del conn.subscriptions[sub.channel]
        hub = self.hubs.get(sub.channel)
        if hub is not None:
            hub.detach(sub)
        for held in sub.hubs:
            self.hubs.release(held)
        if reason is not None:
            conn.send(protocol.unsubscribed(sub.channel, reason))
        if leave:
            self._spawn(self._leave(sub), "presence-leave")

    async def broadcast(self, channel: str, message: str) -> None:
        """Publish a control or ephemeral message on the broker (no history); drop it on failure."""
        try:
            await asyncio.wait_for(self.bus.broadcast.publish(channel, message), BROADCAST_TIMEOUT_S)
        except Exception as exc:
            self.stats["broadcast_failed"] += 1
            log.warning("message on %s not relayed: %r", channel, exc)

    # what hubs report

    def team_event(self, team_id: int, type_: str, data: dict[str, Any]) -> None:
        """React to a team's membership events: forget cached answers, end removed members' subscriptions."""
        user_id = data.get("user_id")
        user_id = user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None
        if type_.startswith(MEMBER_PREFIX):
            self.access.membership_changed(team_id, user_id)
            if type_ in MEMBERSHIP_ENDED and user_id is not None:
                self.kick(team_id, user_id)
        elif type_ == TEAM_DISBANDED:
            self.access.membership_changed(team_id)
            for conn in list(self.connections.values()):
                self._end_team(conn, team_id)

    def revoked(self, user_id: int) -> None:
        """The account was deactivated: close its sockets (its token no longer opens new ones)."""
        for conn in list(self.by_user.get(user_id, ())):
            conn.close(protocol.SESSION_EXPIRED, "session revoked")

    def kick(self, team_id: int, user_id: int) -> None:
        """End a user's subscriptions to a team's channels (its page and its maps), on this instance."""
        for conn in list(self.by_user.get(user_id, ())):
            self._end_team(conn, team_id)

    def _end_team(self, conn: Connection, team_id: int) -> None:
        for sub in list(conn.subscriptions.values()):
            if sub.team_id == team_id:
                self.end(sub, "membership_ended")
                self.stats["kicked"] += 1

    def channel_gone(self, channel: str) -> None:
        hub = self.hubs.get(channel)
        for sub in list(hub.subs.values()) if hub else ():
            self.end(sub, "deleted")

    def hub_failed(self, hub: Hub) -> None:
        """A channel lost its broker subscription: its sockets reconnect and resume."""
        for sub in list(hub.subs.values()):
            sub.conn.close(protocol.SERVICE_RESTART, "channel lost")
        self.hubs.discard(hub)

    # what hubs and frame handling ask of the instance (hubs.HubHost, channels.ChannelHost)

    def count(self, stat: str, n: int = 1) -> None:
        self.stats[stat] += n

    async def hold(self, channel: str) -> Hub:
        return await self.hubs.acquire(channel)

    def release(self, hub: Hub) -> None:
        self.hubs.release(hub)

    def hub(self, channel: str) -> Hub | None:
        return self.hubs.get(channel)

    async def history(self, channel: str, since: int) -> list[dict[str, Any]]:
        return await self.bus.history(channel, since)

    async def lookup_map(self, map_id: int, *, fresh: bool = False) -> dict[str, Any] | None:
        return await self.access.mindmap(map_id, fresh=fresh)

    async def member_throughout(self, team_id: int, user_id: int, meanwhile: Callable[[], Awaitable[None]]) -> bool:
        return await self.access.member_throughout(team_id, user_id, meanwhile)

    def team_unwatched(self, team_id: int) -> None:
        self.access.forget_team(team_id)

    def snapshot_stats(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "accepting": self.accepting,
            "broker_healthy": self.bus.healthy,
            "connections": len(self.connections),
            "channels": len(self.hubs.all()),
            **self.stats,
        }
