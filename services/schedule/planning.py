"""Planning together: the team heat-map, meeting suggestions and the iCalendar export of a window."""

from __future__ import annotations

import datetime as dt
from typing import Any

from databases import Database

from . import ics
from .aggregate import team_view as aggregate
from .availability import read_team
from .directory import Team, TeamDirectory
from .slots import SLOT_MINUTES, SLOTS_PER_DAY
from .suggest import suggest
from .timeline import missing_slots, slot_start, zone_of

MAX_EVENT = dt.timedelta(days=7)
DEFAULT_SUMMARY = "Team meeting"


async def _members(directory: TeamDirectory, team: Team) -> list[dict[str, Any]]:
    ids = sorted(team.members)
    names = await directory.nicknames(ids)
    return [{"user_id": uid, "nickname": names.get(uid)} for uid in ids]


async def team_view(*, db: Database, directory: TeamDirectory, team: Team, dates: list[dt.date]) -> dict[str, Any]:
    """Per date and slot: how many current members are free, their share, who, and whether all are."""
    masks = await read_team(db=db, team_id=team.id, members=team.members, start=dates[0], end=dates[-1])
    days = aggregate(dates=dates, members=team.members, masks=masks)
    return {
        "start": dates[0].isoformat(),
        "end": dates[-1].isoformat(),
        "time_zone": team.time_zone,
        "member_count": len(team.members),
        "members": await _members(directory, team),
        "days": [
            {
                "date": day.date.isoformat(),
                "slots": [
                    {"slot": k, "count": s.count, "share": s.share, "who": s.who, "everyone": s.everyone}
                    for k, s in enumerate(day.slots)
                ],
            }
            for day in days
        ],
    }


def _position(dates: list[dt.date], index: int) -> tuple[dt.date, int]:
    day, slot = divmod(index, SLOTS_PER_DAY)
    return dates[0] + dt.timedelta(days=day), slot


async def suggestions(
    *,
    db: Database,
    directory: TeamDirectory,
    team: Team,
    dates: list[dt.date],
    duration_minutes: int,
    min_attendance: int,
    limit: int,
) -> dict[str, Any]:
    """The best non-overlapping windows of the asked length, everyone first, then earliest."""
    zone = zone_of(team.time_zone)
    masks = await read_team(db=db, team_id=team.id, members=team.members, start=dates[0], end=dates[-1])
    closed = {day: missing for day in dates if (missing := missing_slots(day, zone))}
    windows = suggest(
        dates=dates,
        members=team.members,
        masks=masks,
        length=duration_minutes // SLOT_MINUTES,
        min_attendance=min_attendance,
        limit=limit,
        closed=closed,
    )
    names = await directory.nicknames(sorted({uid for w in windows for uid in w.attendees}))
    size = len(team.members)
    items = []
    for window in windows:
        day, slot = _position(dates, window.start)
        end_day, end_slot = _position(dates, window.end)
        items.append(
            {
                "start": slot_start(day, slot, zone).isoformat(),
                "end": slot_start(end_day, end_slot, zone).isoformat(),
                "date": day.isoformat(),
                "slot": slot,
                "end_date": end_day.isoformat(),
                "end_slot": end_slot,
                "attendance": len(window.attendees),
                "share": round(len(window.attendees) / size, 4) if size else 0.0,
                "everyone": len(window.attendees) == size,
                "attendees": [{"user_id": uid, "nickname": names.get(uid)} for uid in window.attendees],
            }
        )
    return {
        "start": dates[0].isoformat(),
        "end": dates[-1].isoformat(),
        "time_zone": team.time_zone,
        "duration_minutes": duration_minutes,
        "min_attendance": min_attendance,
        "member_count": size,
        "items": items,
    }


def calendar_file(*, team: Team, start: dt.datetime, end: dt.datetime, title: str | None, host: str) -> str:
    """One iCalendar event for a chosen window (UTC times)."""
    summary = title or (f"{team.name} — {DEFAULT_SUMMARY.lower()}" if team.name else DEFAULT_SUMMARY)
    return ics.calendar(
        uid=ics.event_uid(team_id=team.id, start=start, end=end, host=host),
        start=start,
        end=end,
        summary=summary,
        description=f"Planned with TeamMoa (times shown in {team.time_zone}).",
    )
