"""Health endpoints: named dependency checks, 200 when all pass, 503 with the failures otherwise.

A *degradable* check (Redis, for the REST services) is reported but does not fail the whole: the
service keeps serving without it (rate limits and idempotency fall back to the process, events are
best-effort), and every host shares the same Redis, so pulling them all out of a load balancer
would turn a partial outage into a full one. Such a failure answers 200 with status "degraded".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .responses import json

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_S = 2.0
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


def health_endpoint(
    service: str, checks: Callable[[Request], Mapping[str, Check]], degradable: Collection[str] = ()
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """A ``GET /health`` handler; ``checks`` builds the named checks from the request's app."""

    async def health(request: Request) -> JSONResponse:
        ok, report = await run_checks(checks(request), degradable)
        status = "unavailable" if not ok else "ok" if all(r["ok"] for r in report.values()) else "degraded"
        return json(
            {"service": service, "status": status, "checks": report},
            status=200 if ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    return health


async def livez(request: Request) -> JSONResponse:
    """Answer that the process serves requests; checks no dependency (what a liveness probe asks)."""
    return json({"status": "alive"}, headers={"Cache-Control": "no-store"})
