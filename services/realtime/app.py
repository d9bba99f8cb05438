"""The realtime service: WebSocket connections, subscriptions, presence and event relay."""

from __future__ import annotations

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.settings import Settings


def create_app(settings: Settings | None = None, shared: Shared | None = None):
    spec = ServiceSpec(name="realtime", title="TeamMoa realtime", routes=[])
    return build_app(spec, settings or Settings("realtime"), shared)
