"""Request ids, one JSON log line per request, trailing-slash normalising and Prometheus metrics.

All pure ASGI middleware: ``BaseHTTPMiddleware`` would move work onto other tasks and out of
database transactions (see docs/dependencies.md).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
access_log = logging.getLogger("teammoa.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Log JSON lines to stderr (idempotent)."""
    root = logging.getLogger("teammoa")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


class RequestContextMiddleware:
    """Give every request an id (kept from ``X-Request-ID`` when well-formed), log it as one line."""

    def __init__(
        self, app: ASGIApp, *, service: str, log_requests: bool = True, registry: CollectorRegistry | None = None
    ) -> None:
        self.app, self.service, self.log_requests = app, service, log_requests
        self.metrics: tuple[Counter, Histogram] | None = None
        if registry is not None:
            # "route" is the matched route's template (/api/v1/teams/{team_id}/), never the raw path:
            # bounded label values. The 0.2 s bucket is the latency SLO's threshold (docs/operations.md).
            requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
            latency = Histogram(
                "http_request_duration_seconds",
                "HTTP request latency",
                ["method", "route"],
                registry=registry,
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2.5),
            )
            self.metrics = (requests, latency)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = ""
        for key, value in scope.get("headers", []):
            if key == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = status or 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            if scope["type"] == "http":
                if self.metrics is not None:
                    requests, latency = self.metrics
                    route = route_label(scope)
                    requests.labels(scope["method"], route, str(status)).inc()
                    latency.labels(scope["method"], route).observe(elapsed)
                if self.log_requests:
                    access_log.info(
                        "request",
                        extra={
                            "fields": {
                                "service": self.service,
                                "request_id": rid,
                                "method": scope["method"],
                                "path": scope["path"],
                                "status": status,
                                "ms": round(elapsed * 1000, 2),
                            }
                        },
                    )
            request_id_var.reset(token)


def route_label(scope: Scope) -> str:
    """The template of the route that answered (Starlette's router records it in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class TrailingSlashMiddleware:
    """Accept API paths without their trailing slash, as docs/spec.md asks (no redirect round trip)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = scope["path"]
            if (
                not path.endswith("/")
                and (path.startswith("/api/") or path.startswith("/ws"))
                and "." not in path.rsplit("/", 1)[-1]
            ):
                # In place, not a copy: the router records the matched route in this scope, and
                # RequestContextMiddleware (outside) reads it for the metrics' route label.
                scope["path"] = path + "/"
                scope["raw_path"] = (path + "/").encode()
        await self.app(scope, receive, send)


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Awaitable[Response]]:
    tasks = Gauge("asyncio_tasks", "Tasks alive in the event loop (a leak shows as steady growth)", registry=registry)
    tasks.set_function(_task_count)
    ProcessCollector(registry=registry)  # process_resident_memory_bytes, open fds, CPU seconds

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


class CallbackMetric(Collector):
    """A counter or gauge read at scrape time from the app's state (``read`` answers None when
    there is nothing to report yet, e.g. before the lifespan started)."""

    def __init__(self, name: str, documentation: str, kind: str, read: Callable[[], float | None]) -> None:
        self.name, self.documentation, self.kind, self.read = name, documentation, kind, read

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> list[Metric]:
        value = self.read()
        family = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        return [family(self.name, self.documentation, value=value if value is not None else 0.0)]


def _task_count() -> float:
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:  # no running loop (a scrape outside the server)
        return 0.0
