"""The schedule service: availability, the team heat-map and meeting suggestions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from services.kit.app import ServiceSpec, Shared, build_app
from services.kit.cache import ResponseCache
from services.kit.channels import MEMBERSHIP_ENDED, TEAM_DISBANDED
from services.kit.mail import Mailer
from services.kit.nicknames import NICKNAME_TTL_S
from services.kit.settings import Settings, service_settings

from . import followups, reminders
from .directory import TeamDirectory
from .routes import routes
from .settings import ScheduleSettings

log = logging.getLogger("teammoa.schedule")
MIGRATIONS = Path(__file__).parent / "migrations"
FOLLOWED = (TEAM_DISBANDED, *MEMBERSHIP_ENDED)  # events that change a team's meetings
PRUNE_EVERY_S = 60
VIEW_CACHE_ENTRIES = 256  # team views (team, range) per instance: ~50 KB each with the gzip form
VIEW_MAX_AGE_S = NICKNAME_TTL_S  # a view shows nicknames: no staler than the nickname cache itself (kit.nicknames)


@contextlib.asynccontextmanager
async def follow_teams(app: Starlette) -> AsyncIterator[None]:
    """Keep the team directory (and its event subscriptions) for the app's lifetime."""
    directory = app.state.directory = TeamDirectory(peers=app.state.peers, events=app.state.events)
    app.state.mailer = Mailer(app.state.settings)
    app.state.views = ResponseCache(max_entries=VIEW_CACHE_ENTRIES, max_age_s=VIEW_MAX_AGE_S)

    running: set[asyncio.Task[None]] = set()
    state = app.state
    site = state.settings.site_url.rstrip("/")

    async def follow_up(team_id: int, kind: str, data: dict[str, Any]) -> None:
        try:
            if kind == TEAM_DISBANDED:
                await followups.team_disbanded(
                    db=state.db, mailer=state.mailer, peers=state.peers, site=site, team_id=team_id
                )
            elif kind in MEMBERSHIP_ENDED and isinstance(data.get("user_id"), int):
                await followups.member_left(
                    db=state.db, mailer=state.mailer, peers=state.peers, site=site, team_id=team_id, user_id=data["user_id"]
                )
        except Exception:  # a follow-up must never take the listener down; the next event tries again
            log.exception("meeting follow-up of %s on team %s failed", kind, team_id)

    def heard(team_id: int, kind: str, data: dict[str, Any]) -> None:
        if kind in FOLLOWED:
            task = asyncio.create_task(follow_up(team_id, kind, data), name=f"schedule-followup-{kind}-{team_id}")
            running.add(task)
            task.add_done_callback(running.discard)

    directory.listener = heard

    async def keep_meeting_teams() -> None:
        try:
            await directory.keep(await followups.teams_with_open_meetings(state.db))
        except Exception:
            log.exception("cannot list the teams with meetings")

    async def prune_forever() -> None:
        await keep_meeting_teams()
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            await keep_meeting_teams()
            await directory.prune()

    async def remind_forever() -> None:
        while True:
            await asyncio.sleep(reminders.SCAN_EVERY_S)
            try:
                await reminders.run_once(db=state.db, mailer=state.mailer, peers=state.peers, site=site)
            except Exception:  # the next scan tries again (a reminder already claimed is not retried)
                log.exception("meeting reminders failed")

    pruner = asyncio.create_task(prune_forever(), name="schedule-directory-prune")
    reminder = asyncio.create_task(remind_forever(), name="schedule-meeting-reminders")
    try:
        yield
    finally:
        pruner.cancel()
        reminder.cancel()
        await asyncio.gather(pruner, reminder, *running, return_exceptions=True)
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
