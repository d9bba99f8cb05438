"""The auth service: accounts, sessions, e-mail verification and the signing keys."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from services.kit.app import ServiceSpec, Shared, build_app, scrape_metric
from services.kit.ratelimit import AttemptLimiter
from services.kit.settings import Settings, service_settings

from . import accounts, keys, providers, social_routes
from .mail import Mailer
from .provider_clients import client_for
from .relay import DeactivationRelay
from .routes import routes
from .sessions import LOGIN_WINDOW_S
from .settings import AuthSettings

PURGE_INTERVAL_S = 3600  # embedded mode only; production runs `python -m services.auth purge-unverified`


@contextlib.asynccontextmanager
async def _auth_resources(app: Starlette) -> AsyncIterator[None]:
    state = app.state
    settings = state.settings
    state.providers = providers.configured(settings)  # refuses a half-configured provider in production
    state.provider_clients = {name: client_for(config) for name, config in state.providers.items()}
    state.keys = await keys.load(state.db)
    state.mailer = Mailer(settings)
    state.outbox_visible = settings.dev_outbox
    state.login_limiter = AttemptLimiter(state.counters, window_s=LOGIN_WINDOW_S)
    state.availability_limiter = AttemptLimiter(state.counters, window_s=60)
    state.signin_start_limiter = AttemptLimiter(state.counters, window_s=60)  # provider flows begun per address
    state.deactivation_relay = DeactivationRelay(app)
    tasks = [asyncio.create_task(state.deactivation_relay.run(), name="deactivation-relay")]
    if settings.embedded:
        tasks.append(asyncio.create_task(_purge_forever(app), name="purge-unverified"))
    state.deactivation_relay.wake()  # deliver what an earlier run left behind
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _purge_forever(app: Starlette) -> None:
    while True:
        with contextlib.suppress(Exception):
            await accounts.purge_unverified(db=app.state.db)
        await asyncio.sleep(PURGE_INTERVAL_S)


def _jwks(app: Starlette) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def local_keys() -> dict[str, Any]:
        ring: keys.KeyRing = app.state.keys
        return ring.jwks

    return local_keys


def create_app(settings: Settings | None = None, shared: Shared | None = None) -> Starlette:
    spec = ServiceSpec(
        name="auth",
        title="TeamMoa accounts API",
        routes=[*routes, *social_routes.routes],
        migrations=Path(__file__).parent / "migrations",
        extra=_auth_resources,
        jwks=_jwks,
        openapi_path="/api/v1/users/openapi.json",
        passwords=True,
    )
    app = build_app(spec, service_settings(AuthSettings, settings), shared)

    def pending() -> float | None:
        relay = getattr(app.state, "deactivation_relay", None)
        return None if relay is None else float(relay.pending)

    scrape_metric(
        app,
        "teammoa_deactivation_relay_pending",
        "Deactivations not yet delivered to the teams service after the relay's last round",
        "gauge",
        pending,
    )
    return app
