"""The teams service: teams, members, milestones, todos, the share board and mind maps."""

from __future__ import annotations

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.settings import Settings


def create_app(settings: Settings | None = None, shared: Shared | None = None):
    spec = ServiceSpec(name="teams", title="TeamMoa teams API", routes=[], openapi_path="/api/v1/teams/openapi.json")
    return build_app(spec, settings or Settings("teams"), shared)
