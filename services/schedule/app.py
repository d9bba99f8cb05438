"""The schedule service: availability, the team heat-map and meeting suggestions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.cache import ResponseCache
from services.kit.mail import Mailer
from services.kit.nicknames import NICKNAME_TTL_S
from services.kit.settings import Settings, service_settings

from .directory import TeamDirectory
from .routes import routes
from .settings import ScheduleSettings

MIGRATIONS = Path(__file__).parent / "migrations"
PRUNE_EVERY_S = 60
VIEW_CACHE_ENTRIES = 256  # team views (team, range) per instance: ~50 KB each with the gzip form
VIEW_MAX_AGE_S = NICKNAME_TTL_S  # a view shows nicknames: no staler than the nickname cache itself (kit.nicknames)


@contextlib.asynccontextmanager
async def follow_teams(app: Starlette) -> AsyncIterator[None]:
    """Keep the team directory (and its event subscriptions) for the app's lifetime."""
    directory = app.state.directory = TeamDirectory(peers=app.state.peers, events=app.state.events)
    app.state.mailer = Mailer(app.state.settings)
    app.state.views = ResponseCache(max_entries=VIEW_CACHE_ENTRIES, max_age_s=VIEW_MAX_AGE_S)

    async def prune_forever() -> None:
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            await directory.prune()

    pruner = asyncio.create_task(prune_forever(), name="schedule-directory-prune")
    try:
        yield
    finally:
        pruner.cancel()
        await asyncio.gather(pruner, return_exceptions=True)
        await directory.aclose()


def create_app(settings: Settings | None = None, shared: Shared | None = None) -> Starlette:
    spec = ServiceSpec(
        name="schedule",
        title="TeamMoa schedule API",
        routes=routes,
        migrations=MIGRATIONS,
        extra=follow_teams,
        openapi_path="/api/v1/schedules/openapi.json",
    )
    return build_app(spec, service_settings(ScheduleSettings, settings), shared)
