"""Admission control: a bounded number of requests at work per process, a bounded, short queue,
and a fast refusal (503 + ``Retry-After`` in the error envelope) for everything beyond.

Without it, overload does not degrade, it collapses: every request is accepted, the event loop and
the database pool are shared by ever more of them, each one gets slower, clients time out and retry,
and the queue grows until sign-ins wait a minute and ``/health`` times out behind it. With it, at most
``limit`` requests run, at most ``max_waiting`` wait (first come, first served) and none waits longer
than ``max_wait_s``: the answer is either quick or a quick "come back in a second".

``Gate`` is the primitive (the password hasher bounds its queue with one too); ``AdmissionMiddleware``
applies one gate per process to the HTTP requests of a service. Health, liveness and metrics are
exempt: a busy service must still say it is alive (``kit.health``), and scrapes must see the overload.
WebSockets are exempt: they are long-lived, not requests (the realtime service bounds its own).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Collection

from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import Overloaded

EXEMPT_PATHS = frozenset({"/health", "/livez", "/metrics"})


class Gate:
    """At most ``limit`` holders at once; up to ``max_waiting`` others wait in order, each at most ``max_wait_s``.

    ``slot()`` raises ``Overloaded`` at once when the queue is full, or when the wait runs out.
    Loop-agnostic: waiters are futures of the running loop, created when they wait.
    """

    def __init__(self, limit: int, *, max_waiting: int, max_wait_s: float, retry_after_s: int = 1) -> None:
        if limit < 1:
            raise ValueError("a gate needs a limit of at least 1")
        self.limit, self.max_waiting, self.max_wait_s = limit, max(0, max_waiting), max(0.0, max_wait_s)
        self.retry_after_s = retry_after_s
        self.active = 0
        self.refused = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _refuse(self) -> Overloaded:
        self.refused += 1
        return Overloaded(self.retry_after_s)

    async def acquire(self) -> None:
        """Take a slot, waiting in line for one if needed; ``Overloaded`` when there is none in time."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        if len(self._waiters) >= self.max_waiting or self.max_wait_s <= 0:
            raise self._refuse()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.max_wait_s)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():  # the slot came as time ran out: hand it on
                self.release()
            else:
                waiter.cancel()
            raise self._refuse() from None
        except BaseException:  # cancelled while waiting (the client left)
            if waiter.done() and not waiter.cancelled():
                self.release()
            else:
                waiter.cancel()
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        # the releaser counted this slot as ours (``active`` was not decreased)

    def release(self) -> None:
        """Give the slot to the first live waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class AdmissionMiddleware:
    """One ``Gate`` in front of a service's HTTP requests (pure ASGI: no extra task per request)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        max_waiting: int,
        max_wait_s: float,
        exempt: Collection[str] = EXEMPT_PATHS,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.app = app
        self.enabled = limit > 0
        self.gate = Gate(max(1, limit), max_waiting=max_waiting, max_wait_s=max_wait_s)
        self.exempt = frozenset(exempt)
        self.refused = None
        if registry is not None:
            Gauge("admission_in_flight", "Requests at work in this process", registry=registry).set_function(
                lambda: float(self.gate.active)
            )
            Gauge("admission_waiting", "Requests waiting for a slot", registry=registry).set_function(
                lambda: float(self.gate.waiting)
            )
            self.refused = Counter("admission_refused_total", "Requests refused with 503 (overload)", registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["path"].rstrip("/") in self.exempt:
            await self.app(scope, receive, send)
            return
        try:
            await self.gate.acquire()
        except Overloaded as exc:
            if self.refused is not None:
                self.refused.inc()
            await exc.response()(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.release()
