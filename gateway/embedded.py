"""The embedded gateway: one process that serves TeamMoa the way Nginx does in production.

It mounts the four services at their production paths (routing rules of ``gateway/nginx``),
shares one in-memory event bus between them, lets them call each other in-process, answers the
health endpoints, never exposes ``/internal/`` or ``/metrics``, and serves the browser UI.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from services.auth.app import create_app as create_auth
from services.kit.app import Shared
from services.kit.events import EventBus
from services.kit.health import run_checks
from services.kit.revocations import Revocations
from services.kit.settings import SERVICES, Settings
from services.realtime.app import create_app as create_realtime
from services.schedule.app import create_app as create_schedule
from services.teams.app import create_app as create_teams

WEB_ROOT = Path(__file__).parent / "web"
SCHEDULES = re.compile(r"^/api/v1/(teams/[^/]+/schedules|schedules)(/|$)")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
]


def route(path: str) -> str | None:
    """Which service serves a path (the same rules as gateway/nginx)."""
    if path.startswith(("/internal/", "/internal", "/metrics")):
        return None
    if path.startswith(("/api/v1/users", "/.well-known/")):
        return "auth"
    if SCHEDULES.match(path):
        return "schedule"
    if path.startswith("/api/v1/teams"):
        return "teams"
    if path.startswith("/ws"):
        return "realtime"
    return None


class EmbeddedGateway:
    def __init__(self, apps: Mapping[str, Starlette], bus: EventBus) -> None:
        self.apps, self.bus = dict(apps), bus

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await self.bus.connect()
            stack.push_async_callback(self.bus.disconnect)
            for name in SERVICES:
                app = self.apps[name]
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope["path"]
        service = route(path)
        if service is not None:
            await self.apps[service](scope, receive, self._with_headers(send))
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = await self._local(Request(scope, receive))
        await response(scope, receive, self._with_headers(send))

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        return wrapped

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        stack = contextlib.AsyncExitStack()
        try:
            await stack.enter_async_context(self.lifespan())
        except BaseException as exc:
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            raise
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})

    async def _health_of(self, name: str) -> tuple[int, dict[str, Any]]:
        transport = httpx.ASGITransport(app=self.apps[name])
        async with httpx.AsyncClient(transport=transport, base_url="http://embedded") as client:
            response = await client.get("/health")
        return response.status_code, response.json()

    async def _local(self, request: Request) -> Response:
        path = request.url.path
        if path in ("/health/gateway/", "/health/gateway"):
            return JSONResponse({"service": "gateway", "status": "ok", "checks": {}})
        match = re.fullmatch(r"/health/([a-z]+)/?", path)
        if match and match.group(1) in self.apps:
            status, body = await self._health_of(match.group(1))
            return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
        if path in ("/health/", "/health"):

            async def check(name: str) -> None:
                status, body = await self._health_of(name)
                if status != 200:
                    raise RuntimeError(json.dumps(body.get("checks", {})))

            ok, report = await run_checks({name: functools.partial(check, name) for name in SERVICES})
            return JSONResponse(
                {"status": "ok" if ok else "unavailable", "services": report},
                status_code=200 if ok else 503,
                headers={"Cache-Control": "no-store"},
            )
        if path.startswith(("/api/", "/internal", "/metrics", "/health")):
            return JSONResponse({"error": {"code": "not_found", "message": "Not found.", "details": []}}, status_code=404)
        return self._static(path)

    @staticmethod
    def _static(path: str) -> Response:
        candidate = (WEB_ROOT / path.lstrip("/")).resolve()
        if candidate.is_file() and WEB_ROOT.resolve() in candidate.parents:
            cache = "no-cache" if candidate.suffix == ".html" else "public, max-age=300"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if "." in path.rsplit("/", 1)[-1]:
            return Response("Not found", status_code=404, media_type="text/plain")
        return FileResponse(WEB_ROOT / "index.html", headers={"Cache-Control": "no-cache"})  # SPA fallback


def create_app(environ: Mapping[str, str] | None = None) -> EmbeddedGateway:
    """Every service in one process, sharing an in-memory event bus and in-process transports."""
    bus = EventBus(Broadcast("memory://"))
    shared = Shared(events=bus, revocations=Revocations())
    factories = {"auth": create_auth, "teams": create_teams, "schedule": create_schedule, "realtime": create_realtime}
    apps = {name: factories[name](Settings(name, environ), shared) for name in SERVICES}
    shared.transports.update({name: httpx.ASGITransport(app=app) for name, app in apps.items()})
    return EmbeddedGateway(apps, bus)
