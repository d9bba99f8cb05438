"""Stored availability: read and replace a member's days, read a team's days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import sqlalchemy as sa
from databases import Database
from sqlalchemy.dialects import mysql, sqlite

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
    """Make ``days`` the member's availability on ``dates`` (a date missing from ``days`` is cleared).

    Written so that concurrent saves cannot deadlock (docs/architecture.md, "Availability writes"):
    one upsert writes every date of the save, cleared ones with mask 0, in primary-key order, so a
    transaction takes its row locks in one statement and in one order; the cleared rows are then
    deleted under locks it already holds. On MariaDB the transaction runs at READ COMMITTED, where the
    upsert locks only its own rows (no next-key or gap locks), so saves of different members never
    wait on each other and two saves of the same member's dates queue in key order instead of crossing.
    A row with mask 0 would mean the same as no row, so no reader can tell the two statements apart.
    """
    ordered = sorted(set(dates))
    if not ordered:
        return
    now = utcnow()
    rows = [
        {"team_id": team_id, "user_id": user_id, "day": day, "mask": int(days.get(day) or 0), "updated_at": now}
        for day in ordered
    ]
    cleared = [row["day"] for row in rows if not row["mask"]]
    dialect = db.url.dialect
    async with db.connection() as connection:
        if dialect == "mysql":
            await connection.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # the next transaction only
        async with connection.transaction():
            await connection.execute(_upsert(dialect, rows))
            if cleared:
                await connection.execute(
                    availability.delete().where(
                        availability.c.team_id == team_id,
                        availability.c.user_id == user_id,
                        availability.c.day.in_(cleared),
                        availability.c.mask == 0,
                    )
                )


def _upsert(dialect: str, rows: list[dict[str, object]]) -> sa.Insert:
    """One INSERT of every row that overwrites the mask of a row already there (MySQL or SQLite syntax)."""
    if dialect == "mysql":
        mysql_insert = mysql.insert(availability).values(rows)
        return mysql_insert.on_duplicate_key_update(
            mask=mysql_insert.inserted.mask, updated_at=mysql_insert.inserted.updated_at
        )
    sqlite_insert = sqlite.insert(availability).values(rows)
    return sqlite_insert.on_conflict_do_update(
        index_elements=[availability.c.team_id, availability.c.user_id, availability.c.day],
        set_={"mask": sqlite_insert.excluded.mask, "updated_at": sqlite_insert.excluded.updated_at},
    )


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
