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
    return {row["day"]: int(row["mask"]) for row in rows if row["mask"]}  # mask 0: a cleared date


async def replace_days(
    *, db: Database, team_id: int, user_id: int, dates: Sequence[dt.date], days: Mapping[dt.date, int]
) -> None:
    """Make ``days`` the member's availability on ``dates`` (a date missing from ``days`` is cleared).

    Written so that concurrent saves cannot deadlock (docs/architecture.md, "A week save cannot
    deadlock"): one statement, an upsert of every date of the save in primary-key order, a cleared date
    written as mask 0 (which means the same as no row; the readers skip such rows). Each row is found by
    its primary key, never by scanning an index, and at READ COMMITTED the upsert locks only its own
    rows (no next-key or gap locks): saves of different members never wait on each other, and two saves
    of the same member take the same row locks in the same order, so one waits for the other.
    """
    ordered = sorted(set(dates))
    if not ordered:
        return
    now = utcnow()
    rows = [
        {"team_id": team_id, "user_id": user_id, "day": day, "mask": int(days.get(day) or 0), "updated_at": now}
        for day in ordered
    ]
    dialect = db.url.dialect
    async with db.connection() as connection:
        if dialect == "mysql":  # for this pooled connection; the service runs no multi-statement transaction
            await connection.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        await connection.execute(_upsert(dialect, rows))


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
        if mask:  # mask 0: a cleared date
            masks.setdefault(int(user_id), {})[day] = int(mask)
    return masks
