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
Calls between services (``/internal/``) have a lane of their own, a second gate of the same size: their
callers are admission-controlled already, and in one shared queue a teams page asking auth for names
waited behind a storm of sign-ins (``make bench``'s overload stage).

The limit adapts (``LatencyLimit``): a fixed number of requests at work is right for one CPU share
only. When other work starves the process (a noisy neighbour, a busy database), the same number of
requests takes longer each; the limit then shrinks (multiplicatively, when a request took longer than
``target_s``) and grows back slowly (additively, while requests are quick), between ``min_limit`` and
the configured maximum — the AIMD rule of TCP congestion control, applied to service time.

Time already spent counts: Nginx stamps each request with ``X-Request-Start: t=<epoch seconds>``, so
a request that waited in socket buffers or behind a starved event loop is refused at once when it is
already older than ``max_wait_s``, and otherwise waits only for what is left of that budget. Its
arrival is kept in ``request_arrival`` for later gates (the password hasher measures from it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator, Collection

from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import Overloaded

EXEMPT_PATHS = frozenset({"/health", "/livez", "/metrics"})
INTERNAL_PREFIX = "/internal/"  # service-to-service calls: their own lane
REQUEST_START_HEADER = b"x-request-start"
TRUSTED_AGE_S = 60.0  # an older stamp (or one from the future) is a clock problem, not a queue: ignored
# When the current request reached the edge, on this process's monotonic clock (None: not known).
request_arrival: contextvars.ContextVar[float | None] = contextvars.ContextVar("request_arrival", default=None)


def age_from_header(value: bytes, now: float | None = None) -> float:
    """Seconds since Nginx stamped the request (``t=1733540000.123``); 0 when absent or implausible."""
    text = value.decode("latin-1").strip()
    if text.startswith("t="):
        text = text[2:]
    try:
        started = float(text)
    except ValueError:
        return 0.0
    age = (time.time() if now is None else now) - started
    return age if 0.0 <= age < TRUSTED_AGE_S else 0.0


def waited_s() -> float:
    """How long the current request has existed (since the edge stamped it, or since it was admitted)."""
    arrival = request_arrival.get()
    return 0.0 if arrival is None else max(0.0, time.monotonic() - arrival)


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

    async def acquire(self, max_wait_s: float | None = None) -> None:
        """Take a slot, waiting in line for one if needed; ``Overloaded`` when there is none in time.

        ``max_wait_s`` shortens this wait (what is left of the request's budget).
        """
        wait_s = self.max_wait_s if max_wait_s is None else min(self.max_wait_s, max_wait_s)
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        if len(self._waiters) >= self.max_waiting or wait_s <= 0:
            raise self._refuse()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), wait_s)
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
        """Give the slot to the first live waiter, or free it (free it when the limit has shrunk below use)."""
        while self._waiters and self.active <= self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1

    @contextlib.asynccontextmanager
    async def slot(self, max_wait_s: float | None = None) -> AsyncIterator[None]:
        await self.acquire(max_wait_s)
        try:
            yield
        finally:
            self.release()


class LatencyLimit:
    """AIMD on service time: shrink the gate's limit when requests get slow, grow it back while they are quick."""

    def __init__(self, gate: Gate, *, max_limit: int, min_limit: int = 2, target_s: float = 0.5) -> None:
        self.gate, self.max_limit, self.min_limit, self.target_s = gate, max_limit, min(min_limit, max_limit), target_s
        self.value = float(max_limit)
        self._last_decrease = 0.0

    def observe(self, elapsed_s: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if elapsed_s > self.target_s:
            if now - self._last_decrease >= self.target_s / 2:  # one step per burst of slow answers, not one each
                self._last_decrease = now
                self.value = max(float(self.min_limit), self.value * 0.8)
        elif elapsed_s < self.target_s / 4 and self.value < self.max_limit:
            self.value = min(float(self.max_limit), self.value + 1 / self.value)
        self.gate.limit = int(self.value)


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
        adaptive: bool = True,
        target_s: float = 0.5,
    ) -> None:
        self.app = app
        self.enabled = limit > 0
        self.gate = Gate(max(1, limit), max_waiting=max_waiting, max_wait_s=max_wait_s)
        self.adaptive = LatencyLimit(self.gate, max_limit=max(1, limit), target_s=target_s) if adaptive else None
        self.internal = Gate(max(1, limit), max_waiting=max_waiting, max_wait_s=max_wait_s)  # peer calls' lane
        self.internal_adaptive = (
            LatencyLimit(self.internal, max_limit=max(1, limit), target_s=target_s) if adaptive else None
        )
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
            Gauge("admission_limit", "Requests admitted at once now (adaptive)", registry=registry).set_function(
                lambda: float(self.gate.limit)
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["path"].rstrip("/") in self.exempt:
            await self.app(scope, receive, send)
            return
        age = 0.0
        for key, value in scope.get("headers", ()):
            if key == REQUEST_START_HEADER:
                age = age_from_header(value)
                break
        gate, adaptive = self.gate, self.adaptive
        if scope["path"].startswith(INTERNAL_PREFIX):
            gate, adaptive = self.internal, self.internal_adaptive
        token = request_arrival.set(time.monotonic() - age)
        try:
            try:
                await gate.acquire(gate.max_wait_s - age)  # a request already too old is refused at once
            except Overloaded as exc:
                if self.refused is not None:
                    self.refused.inc()
                await exc.response()(scope, receive, send)
                return
            started = time.monotonic()
            try:
                await self.app(scope, receive, send)
            finally:
                gate.release()
                if adaptive is not None:
                    adaptive.observe(time.monotonic() - started)
        finally:
            request_arrival.reset(token)
