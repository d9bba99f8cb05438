"""The realtime service: WebSocket connections, subscriptions, presence and event relay.

It keeps no database: Redis carries its events (with their replay history) and its presence lists, and
the teams service answers who may subscribe where.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.settings import Settings, service_settings

from .routes import routes
from .service import Realtime
from .settings import RealtimeSettings


@contextlib.asynccontextmanager
async def _realtime(app: Starlette) -> AsyncIterator[None]:
    state = app.state
    state.realtime = Realtime(settings=state.settings, bus=state.events, peers=state.peers, redis=state.redis)
    await state.realtime.start()
    try:
        yield
    finally:
        await state.realtime.stop()


def _checks(app: Starlette):
    async def broker() -> None:
        if not app.state.events.healthy:
            raise RuntimeError("the event broker subscription is down")

    return {"broker": broker}


def create_app(settings: Settings | None = None, shared: Shared | None = None) -> Starlette:
    spec = ServiceSpec(
        name="realtime", title="TeamMoa realtime", routes=routes, extra=_realtime, checks=_checks, degradable=frozenset()
    )  # without Redis there is no fan-out: clients must go elsewhere
    return build_app(spec, service_settings(RealtimeSettings, settings), shared)
