"""The teams service: teams, members, milestones, todos, the share board and mind maps."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette

from services.kit.app import ServiceSpec, Shared, build_app, scrape_metric
from services.kit.cache import ResponseCache
from services.kit.health import Check
from services.kit.nicknames import NICKNAME_TTL_S, Nicknames
from services.kit.ratelimit import AttemptLimiter
from services.kit.settings import Settings, service_settings
from services.teams.mindmaps.routes import routes as mindmap_routes

from .files import Storage
from .routes import routes
from .settings import TeamsSettings
from .teams import JOIN_WINDOW_S

MIGRATIONS = Path(__file__).parent / "migrations"
# Answers cached per team data version (teams.data_version, read by every membership check): todo
# lists, the team as a member sees it, my teams. The age bound only keeps memory fresh.
ANSWER_CACHE_ENTRIES = 4096
ANSWER_MAX_AGE_S = 300.0
# The board's pages (no search) the same way; they carry authors' names, so they live no longer than a
# name does in kit.nicknames (a renamed author shows within the same half minute as everywhere else).
BOARD_CACHE_ENTRIES = 1024


def _resources(settings: TeamsSettings) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    files_dir = settings.files_dir

    @contextlib.asynccontextmanager
    async def resources(app: Starlette) -> AsyncIterator[None]:
        state = app.state
        state.storage = Storage(files_dir, settings.storage_quota_bytes)
        state.users = Nicknames(state.peers)
        state.join_limiter = AttemptLimiter(state.counters, window_s=JOIN_WINDOW_S)
        state.answers = ResponseCache(max_entries=ANSWER_CACHE_ENTRIES, max_age_s=ANSWER_MAX_AGE_S)
        state.board_answers = ResponseCache(max_entries=BOARD_CACHE_ENTRIES, max_age_s=NICKNAME_TTL_S)
        yield

    return resources


def _checks(app: Starlette) -> dict[str, Check]:
    def probe() -> None:
        root = app.state.storage.root
        root.mkdir(parents=True, exist_ok=True)
        (root / ".health").write_bytes(b"ok")
        (root / ".health").unlink()

    async def files() -> None:
        await anyio.to_thread.run_sync(probe)

    return {"files": files}


def create_app(settings: Settings | None = None, shared: Shared | None = None) -> Starlette:
    settings = service_settings(TeamsSettings, settings)
    spec = ServiceSpec(
        name="teams",
        title="TeamMoa teams API",
        routes=[*routes, *mindmap_routes],
        migrations=MIGRATIONS,
        extra=_resources(settings),
        checks=_checks,
        passwords=True,
        openapi_path="/api/v1/teams/openapi.json",
    )
    app = build_app(spec, settings, shared)
    files_dir = settings.files_dir

    def disk(field: str) -> Callable[[], float | None]:
        def read() -> float | None:
            try:
                return float(getattr(shutil.disk_usage(files_dir), field))
            except OSError:  # not created yet
                return None

        return read

    scrape_metric(app, "teammoa_files_disk_free_bytes", "Free bytes on the uploads' filesystem", "gauge", disk("free"))
    scrape_metric(app, "teammoa_files_disk_size_bytes", "Size of the uploads' filesystem", "gauge", disk("total"))
    return app
