"""The realtime service: WebSocket connections, subscriptions, presence and event relay.

It keeps no database: Redis carries its events (with their replay history) and its presence lists, and
the teams service answers who may subscribe where.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette

from services.kit.app import ServiceSpec, Shared, build_app, scrape_metric
from services.kit.health import Check
from services.kit.settings import Settings, service_settings

from .routes import routes
from .service import Realtime
from .settings import RealtimeSettings


@contextlib.asynccontextmanager
async def _realtime(app: Starlette) -> AsyncIterator[None]:
    state = app.state
    state.realtime = Realtime(settings=state.settings, bus=state.events, peers=state.peers, redis=state.redis)
    await state.realtime.start()
    state.revocations.on_revoke(state.realtime.revoked)  # a deactivated account's sockets close at once
    try:
        yield
    finally:
        await state.realtime.stop()


def _checks(app: Starlette) -> dict[str, Check]:
    async def broker() -> None:
        if not app.state.events.healthy:
            raise RuntimeError("the event broker subscription is down")

    return {"broker": broker}


def create_app(settings: Settings | None = None, shared: Shared | None = None) -> Starlette:
    spec = ServiceSpec(
        name="realtime", title="TeamMoa realtime", routes=routes, extra=_realtime, checks=_checks, degradable=frozenset()
    )  # without Redis there is no fan-out: clients must go elsewhere
    app = build_app(spec, service_settings(RealtimeSettings, settings), shared)

    def stat(name: str) -> Callable[[], float | None]:
        return lambda: _stat(app, name)

    scrape_metric(app, "teammoa_realtime_connections", "WebSockets open on this instance", "gauge", stat("connections"))
    scrape_metric(
        app,
        "teammoa_realtime_slow_consumer_closes",
        "Sockets closed with 4008 because the client fell too far behind",
        "counter",
        stat("slow_closed"),
    )
    scrape_metric(app, "teammoa_realtime_broker_outages", "Event broker outages seen", "counter", stat("broker_outages"))
    return app


def _stat(app: Starlette, name: str) -> float | None:
    realtime = getattr(app.state, "realtime", None)
    if realtime is None:
        return None
    if name == "connections":
        return float(len(realtime.connections))
    return float(realtime.stats[name])
