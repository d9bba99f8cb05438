"""Stored availability: read and replace a member's days, read a team's days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import sqlalchemy as sa
from databases import Database

from services.kit.db import in_transaction
from services.kit.responses import utcnow

from .aggregate import Masks
from .tables import availability


async def read_days(
    *, db: Database, team_id: int, user_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> dict[dt.date, int]:
    """Read one member's day masks, optionally between two dates (inclusive)."""
    query = sa.select(availability.c.day, availability.c.mask).where(
        availability.c.team_id == team_id, availability.c.user_id == user_id
    )
    if start is not None:
        query = query.where(availability.c.day >= start)
    if end is not None:
        query = query.where(availability.c.day <= end)
    rows = await db.fetch_all(query.order_by(availability.c.day))
    return {row["day"]: int(row["mask"]) for row in rows}


async def replace_days(
    *, db: Database, team_id: int, user_id: int, dates: Sequence[dt.date], days: Mapping[dt.date, int]
) -> None:
    """Make ``days`` the member's availability on ``dates`` (a date missing from ``days`` is cleared)."""
    table = availability
    rows = [
        {"team_id": team_id, "user_id": user_id, "day": day, "mask": days[day], "updated_at": utcnow()}
        for day in dates
        if days.get(day)
    ]

    async def write() -> None:
        await db.execute(
            table.delete().where(table.c.team_id == team_id, table.c.user_id == user_id, table.c.day.in_(list(dates)))
        )
        if rows:
            await db.execute_many(table.insert(), rows)

    # Concurrent weeks of one team take gap locks on the same index range: InnoDB may pick a victim.
    await in_transaction(db, write)


async def read_team(*, db: Database, team_id: int, members: Collection[int], start: dt.date, end: dt.date) -> Masks:
    """Read the day masks of the given members between two dates (inclusive)."""
    if not members:
        return {}
    table = availability
    query = sa.select(table.c.user_id, table.c.day, table.c.mask).where(
        table.c.team_id == team_id, table.c.user_id.in_(list(members)), table.c.day >= start, table.c.day <= end
    )
    masks: dict[int, dict[dt.date, int]] = {}
    for row in await db.fetch_all(query):
        user_id, day, mask = row._mapping  # positional: reading by name costs more than the aggregation
        masks.setdefault(int(user_id), {})[day] = int(mask)
    return masks
