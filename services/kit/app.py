"""Build a service's Starlette app: middleware, errors, health, metrics and the shared resources.

Resources (database, Redis, events, peers, token verifier) are opened in the lifespan and kept on
``app.state``. In embedded mode the gateway hands every service the same event bus and in-process
transports to its peers through ``Shared``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from . import db as kit_db
from .admission import AdmissionMiddleware
from .bodies import BodyLimitMiddleware
from .clients import ForwardedMiddleware
from .errors import install_error_handlers
from .events import EventBus
from .health import Check, HealthMonitor, health_endpoint, livez
from .observability import (
    CallbackMetric,
    RequestContextMiddleware,
    TrailingSlashMiddleware,
    configure_logging,
    metrics_endpoint,
)
from .openapi import openapi_endpoint
from .passwords import PasswordHasher
from .peers import Peers
from .ratelimit import FallbackCounters, MemoryCounters, RedisCounters
from .revocations import Revocations
from .settings import Settings
from .tokens import TokenVerifier

Extra = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


@dataclass
class Shared:
    """What the embedded gateway shares between the services of one process."""

    events: EventBus | None = None
    transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    revocations: Revocations | None = None  # one table for every service of the process: revocations are immediate


@dataclass
class ServiceSpec:
    name: str
    title: str
    routes: Sequence[BaseRoute]
    migrations: Path | None = None
    extra: Extra | None = None
    jwks: Callable[[Starlette], Callable[[], Awaitable[dict[str, Any]]]] | None = None
    checks: Callable[[Starlette], Mapping[str, Check]] | None = None
    openapi_path: str | None = None
    passwords: bool = False
    degradable: frozenset[str] = frozenset({"redis"})  # checks the service keeps serving without (kit.health)


def _checks(spec: ServiceSpec, app: Starlette) -> dict[str, Check]:
    """The named checks the health monitor runs (the database on its own connection: see below)."""
    state = app.state
    checks: dict[str, Check] = {}
    if spec.migrations is not None:
        checks["database"] = lambda: kit_db.ping(state.probe_db or state.db)
    if state.redis is not None:
        checks["redis"] = state.redis.ping
    if spec.checks:
        checks.update(spec.checks(app))
    return checks


def _monitor(request: Request) -> HealthMonitor:
    monitor: HealthMonitor = request.app.state.health
    return monitor


def build_app(spec: ServiceSpec, settings: Settings | None = None, shared: Shared | None = None) -> Starlette:
    """The service's ASGI app; nothing is opened until its lifespan starts."""
    settings = settings or Settings(spec.name)
    shared = shared or Shared()
    registry = CollectorRegistry()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.check()
        configure_logging()
        state = app.state
        async with contextlib.AsyncExitStack() as stack:
            state.db = None
            if spec.migrations is not None:
                state.db = await kit_db.connect(
                    settings.database_url,
                    script_location=spec.migrations,
                    auto_migrate=settings.auto_migrate,
                    pool_max=settings.db_pool_max,
                )
                stack.push_async_callback(kit_db.disconnect, state.db)
            state.redis = (
                aioredis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
                if settings.redis_url
                else None
            )
            if state.redis is not None:
                stack.push_async_callback(state.redis.aclose)
            state.counters = (
                FallbackCounters(RedisCounters(state.redis, settings.redis_prefix)) if state.redis else MemoryCounters()
            )
            if shared.events is not None:
                state.events = shared.events
            else:
                state.events = EventBus.create(settings)
                await state.events.connect()
                stack.push_async_callback(state.events.disconnect)
            if shared.revocations is not None:
                state.revocations = shared.revocations
            else:
                state.revocations = Revocations(state.redis, settings.redis_prefix)
                await stack.enter_async_context(state.revocations.listening(state.events))
            state.peers = Peers(settings, shared.transports)
            stack.push_async_callback(state.peers.aclose)
            fetch = spec.jwks(app) if spec.jwks else (lambda: state.peers.get_json("auth", "/.well-known/jwks.json"))
            state.tokens = TokenVerifier(fetch, service=spec.name, revocations=state.revocations)
            if spec.passwords:
                state.passwords = PasswordHasher.from_settings(settings)
            if spec.extra is not None:
                await stack.enter_async_context(spec.extra(app))
            # The database probe gets a connection of its own: under load every pooled one is busy, and a
            # probe queued behind the requests would time out and call a working service unhealthy.
            state.probe_db = None
            if spec.migrations is not None and not kit_db.is_sqlite(settings.database_url):
                state.probe_db = kit_db.make_database(settings.database_url, pool_max=1)
                await state.probe_db.connect()
                stack.push_async_callback(kit_db.disconnect, state.probe_db)
            state.health = HealthMonitor(_checks(spec, app), spec.degradable, interval_s=settings.health_interval_s)
            state.health.start()
            stack.push_async_callback(state.health.stop)
            yield

    routes = [
        *spec.routes,
        Route("/health", health_endpoint(spec.name, _monitor)),
        Route("/livez", livez),  # liveness: never asks MySQL or Redis, unlike /health
        Route("/metrics", metrics_endpoint(registry)),
    ]
    if spec.openapi_path:
        routes.append(Route(spec.openapi_path, openapi_endpoint(spec.title, spec.routes)))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ForwardedMiddleware, proxies=settings.trusted_proxies),
            Middleware(RequestContextMiddleware, service=spec.name, log_requests=settings.log_requests, registry=registry),
            Middleware(
                AdmissionMiddleware,
                limit=settings.max_in_flight,
                max_waiting=settings.admission_queue,
                max_wait_s=settings.admission_wait_s,
                registry=registry,
            ),
            Middleware(TrailingSlashMiddleware),
            Middleware(BodyLimitMiddleware),
        ],
        exception_handlers=install_error_handlers(),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.redis = None
    app.state.metrics = registry  # a service adds its own metrics with kit.app.scrape_metric
    return app


def scrape_metric(app: Starlette, name: str, documentation: str, kind: str, read: Callable[[], float | None]) -> None:
    """Expose a counter or gauge on the service's /metrics, read from its state at every scrape.

    The names are the ones deploy/monitoring's rules and dashboards use (checked against a live scrape).
    """
    app.state.metrics.register(CallbackMetric(name, documentation, kind, read))
