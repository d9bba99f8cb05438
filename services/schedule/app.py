"""The schedule service: availability, the team heat-map and meeting suggestions."""

from __future__ import annotations

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.settings import Settings


def create_app(settings: Settings | None = None, shared: Shared | None = None):
    spec = ServiceSpec(name="schedule", title="TeamMoa schedule API", routes=[],
                       openapi_path="/api/v1/schedules/openapi.json")
    return build_app(spec, settings or Settings("schedule"), shared)
