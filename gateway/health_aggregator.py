"""The whole's health behind Nginx: ``GET /health/`` asks the gateway for each part and answers 200
only when every one is healthy (what a load balancer probes).

Nginx cannot combine several upstream answers, so this tiny app runs as its own process (its own
container) next to the gateway. It asks the gateway itself (``/health/<service>/``), not the
instances: the answer is what a client would get through the routes the gateway actually serves,
with failover between instances included. It imports no service: only ``kit.health``.

Like every service's own ``/health``, the answer comes from a background probe (``HealthMonitor``,
once per ``TEAMMOA_HEALTH_INTERVAL_MS``, default 1 s), never from round trips made on demand.

    uvicorn gateway.health_aggregator:create_app --factory --port 8000

``TEAMMOA_HEALTH_GATEWAY_URL`` is where the gateway's plain HTTP listener is (http://127.0.0.1:8080).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.kit.health import CHECK_TIMEOUT_S, Check, HealthMonitor
from services.kit.peers import send
from services.kit.settings import SERVICES

PARTS = (*SERVICES, "gateway")


def create_app(environ: Mapping[str, str] | None = None) -> Starlette:
    """The aggregator app; its httpx client lives in the lifespan."""
    environ = os.environ if environ is None else environ
    gateway_url = environ.get("TEAMMOA_HEALTH_GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")
    interval_s = int(environ.get("TEAMMOA_HEALTH_INTERVAL_MS", "1000")) / 1000

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(CHECK_TIMEOUT_S, connect=1.0)
        async with httpx.AsyncClient(base_url=gateway_url, timeout=timeout) as client:

            def check(part: str) -> Check:
                async def ask() -> None:
                    response = await send(client, "GET", f"/health/{part}/")
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")

                return ask

            app.state.monitor = HealthMonitor({part: check(part) for part in PARTS}, interval_s=interval_s)
            app.state.monitor.start()
            try:
                yield
            finally:
                await app.state.monitor.stop()

    async def health(request: Request) -> JSONResponse:
        """Report every part; 200 only when all are healthy (as last probed)."""
        ok, report, age = await request.app.state.monitor.state()
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "services": report, "age_ms": round(age * 1000)},
            status_code=200 if ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    return Starlette(routes=[Route("/health/", health), Route("/health", health)], lifespan=lifespan)
