"""Health endpoints: named dependency checks, 200 when all pass, 503 with the failures otherwise.

A *degradable* check (Redis, for the REST services) is reported but does not fail the whole: the
service keeps serving without it (rate limits and idempotency fall back to the process, events are
best-effort), and every host shares the same Redis, so pulling them all out of a load balancer
would turn a partial outage into a full one. Such a failure answers 200 with status "degraded".

A service's ``/health`` answers from state probed in the background (``HealthMonitor``: every check
once per interval, each bounded by a timeout), never from new round trips of its own. Asked under
load, a check made on demand waits behind the load (the event loop, the database pool) and times out:
a busy, working service would answer 503 and a load balancer would pull every busy host out of
rotation, turning load into an outage. The probe's age is part of the answer; a probe that has not
finished for ``stale_after_s`` means the process cannot even run its own checks: 503.

Only while the last probe *failed* does asking probe again (one probe at a time, shared by every
caller): a recovery is then reported at once, not up to an interval late, and a failing dependency is
not load-bound anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .responses import json

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_S = 2.0
REPROBE_AFTER_S = 0.05  # a failed state older than this is probed again when asked
log = logging.getLogger("teammoa.health")
Report = dict[str, Any]  # {"ok": bool, "ms": float, "error"?: str}


async def run_checks(checks: Mapping[str, Check], degradable: Collection[str] = ()) -> tuple[bool, dict[str, Report]]:
    """Run every check concurrently, each bounded by a timeout; ok unless a non-degradable one failed."""

    async def one(check: Check) -> Report:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except Exception as exc:  # a failing dependency is a report, not an error
            return {
                "ok": False,
                "error": type(exc).__name__ + (f": {exc}" if str(exc) else ""),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}

    names = list(checks)
    results = await asyncio.gather(*(one(checks[name]) for name in names))
    report = dict(zip(names, results, strict=True))
    return all(result["ok"] for name, result in report.items() if name not in degradable), report


class HealthMonitor:
    """Runs the checks every ``interval_s`` in a background task and keeps the last result."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        degradable: Collection[str] = (),
        *,
        interval_s: float = 1.0,
        stale_after_s: float | None = None,
    ) -> None:
        self.checks, self.degradable, self.interval_s = dict(checks), frozenset(degradable), interval_s
        self.stale_after_s = stale_after_s if stale_after_s is not None else interval_s + CHECK_TIMEOUT_S + 2.0
        self.latest: tuple[bool, dict[str, Report], float] | None = None  # ok, report, when (monotonic)
        self.probes = 0
        self._task: asyncio.Task[None] | None = None
        self._first = asyncio.Event()
        self._reprobe: asyncio.Task[None] | None = None

    async def probe(self) -> None:
        """Run every check once and keep the result."""
        ok, report = await run_checks(self.checks, self.degradable)
        self.latest = (ok, report, time.monotonic())
        self.probes += 1
        self._first.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.probe()
            except Exception:  # never let the monitor die: a dead monitor reads as stale, then 503
                log.exception("health probe failed")
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def state(self) -> tuple[bool, dict[str, Report], float]:
        """The last result and its age in seconds (waits for the first probe, bounded)."""
        if self.latest is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first.wait(), CHECK_TIMEOUT_S + 1)
        if self.latest is None:
            return False, {"monitor": {"ok": False, "error": "no probe has finished yet"}}, 0.0
        if not self.latest[0] and time.monotonic() - self.latest[2] > REPROBE_AFTER_S:
            if self._reprobe is None or self._reprobe.done():
                self._reprobe = asyncio.create_task(self.probe(), name="health-reprobe")
            with contextlib.suppress(Exception):
                await asyncio.shield(self._reprobe)
        ok, report, at = self.latest
        age = time.monotonic() - at
        if age > self.stale_after_s:
            stale = {"ok": False, "error": f"the last probe finished {age:.1f}s ago"}
            return False, {**report, "monitor": stale}, age
        return ok, report, age


def health_endpoint(
    service: str, monitor: Callable[[Request], HealthMonitor]
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """A ``GET /health`` handler answering from the app's ``HealthMonitor`` (no round trip of its own)."""

    async def health(request: Request) -> JSONResponse:
        ok, report, age = await monitor(request).state()
        status = "unavailable" if not ok else "ok" if all(r["ok"] for r in report.values()) else "degraded"
        return json(
            {"service": service, "status": status, "checks": report, "age_ms": round(age * 1000)},
            status=200 if ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    return health


async def livez(request: Request) -> JSONResponse:
    """Answer that the process serves requests; checks no dependency (what a liveness probe asks)."""
    return json({"status": "alive"}, headers={"Cache-Control": "no-store"})
