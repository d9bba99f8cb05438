"""A member's own availability: the week editor, CSV import and CSV export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from databases import Database

from services.kit.errors import InvalidInput

from . import csvio
from .availability import read_days, replace_days
from .directory import Team
from .slots import mask_of, slots_of
from .timeline import monday_of, today, week_dates, zone_of


def default_week(team: Team) -> dt.date:
    """Monday of the current week in the team's zone."""
    return monday_of(today(zone_of(team.time_zone)))


async def read_week(*, db: Database, team: Team, user_id: int, start: dt.date) -> dict[str, Any]:
    """Read the member's seven days from ``start``."""
    dates = week_dates(start)
    days = await read_days(db=db, team_id=team.id, user_id=user_id, start=dates[0], end=dates[-1])
    return {
        "week_start": start.isoformat(),
        "week_end": dates[-1].isoformat(),
        "time_zone": team.time_zone,
        "slots": {day.isoformat(): slots_of(days.get(day, 0)) for day in dates},
    }


async def save_week(
    *, db: Database, team: Team, user_id: int, start: dt.date, slots: dict[dt.date, list[int]]
) -> dict[str, Any]:
    """Replace the member's seven days from ``start`` (dates left out are cleared)."""
    dates = week_dates(start)
    outside = sorted(day for day in slots if day not in dates)
    if outside:
        raise InvalidInput.field(
            "slots", f"{outside[0].isoformat()} is not in the week of {start.isoformat()} to {dates[-1].isoformat()}."
        )
    await replace_days(
        db=db, team_id=team.id, user_id=user_id, dates=dates, days={day: mask_of(values) for day, values in slots.items()}
    )
    return await read_week(db=db, team=team, user_id=user_id, start=start)


async def import_csv(*, db: Database, team: Team, user_id: int, raw: bytes) -> dict[str, Any]:
    """Replace the member's availability on every date the CSV names; all rows or none."""
    try:
        days = csvio.parse(csvio.decode(raw))
    except csvio.CsvError as exc:
        raise InvalidInput(
            str(exc),
            code="invalid_csv",
            details=[{"field": "file", "line": exc.line, "message": exc.reason, "type": "csv_row"}],
        ) from None
    if not days:
        raise InvalidInput(
            "The file has no rows to import.",
            code="invalid_csv",
            details=[{"field": "file", "line": 1, "message": "No rows.", "type": "csv_empty"}],
        )
    dates = sorted(days)
    await replace_days(db=db, team_id=team.id, user_id=user_id, dates=dates, days=days)
    return {"imported_dates": len(dates), "first_date": dates[0].isoformat(), "last_date": dates[-1].isoformat()}


async def export_csv(*, db: Database, team: Team, user_id: int, start: dt.date | None, end: dt.date | None) -> str:
    """Write the member's availability (optionally between two dates) as CSV."""
    days = await read_days(db=db, team_id=team.id, user_id=user_id, start=start, end=end)
    return csvio.render(days)
