"""One change to a team: a transaction that first locks the team, then events published after commit.

Every write to a team's data runs inside ``team_change``. Locking the team row first serialises the
writers of one team, which is what keeps capacity, positions and milestone progress exact under
concurrent requests, and — being the only lock taken first — cannot deadlock:

- MySQL: an ``UPDATE`` of the team row (counting ``data_version`` up) locks it; later plain reads in
  the transaction take their snapshot after the lock was granted, so they see every earlier writer's
  commit.
- SQLite: the same ``UPDATE`` as the first statement takes the database's write lock (waiting out the
  busy timeout); reading first and writing later would fail with "database is locked" instead. Writers
  of this process also queue on an ``asyncio.Lock`` first: SQLite's busy handler polls with sleeps of
  up to 100 ms, which made bursts of concurrent writes several times slower than running them in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.channels import MEMBER_PREFIX, TEAM_DISBANDED, TEAM_UPDATED, team_channel
from services.kit.errors import NotFound
from services.kit.events import EventBus, members_key

from .tables import teams

log = logging.getLogger("teammoa.teams")
MEMBERS_EVENTS = (MEMBER_PREFIX, TEAM_UPDATED, TEAM_DISBANDED)  # what the schedule service caches of a team


async def lock_team(db: Database, team_id: int) -> Record | None:
    """Lock one team row for the rest of the transaction and count its data version up; None when gone.

    The UPDATE takes the row's write lock (MySQL) or the database's write lock (SQLite) as the first
    statement; the plain read after it takes its snapshot once the lock is granted.
    """
    await db.execute(teams.update().where(teams.c.id == team_id).values(data_version=teams.c.data_version + 1))
    return await db.fetch_one(sa.select(teams).where(teams.c.id == team_id))


@dataclass
class Change:
    """The locked team and the events to publish once the transaction commits."""

    team: Record  # the locked ``teams`` row
    events: list[tuple[str, Any]] = field(default_factory=list)

    def publish(self, type_: str, data: Any) -> None:
        self.events.append((type_, data))


_sqlite_writers: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer_lock(db: Database) -> contextlib.AbstractAsyncContextManager[object]:
    if db.url.dialect != "sqlite":
        return contextlib.nullcontext()
    return _sqlite_writers.setdefault(db, asyncio.Lock())


@asynccontextmanager
async def team_change(db: Database, bus: EventBus, team_id: int) -> AsyncIterator[Change]:
    """Run a block as one transaction on a locked team; publish its events after commit."""
    async with _writer_lock(db), db.transaction():
        team = await lock_team(db, team_id)
        if team is None:
            raise NotFound()
        change = Change(team=team)
        yield change
    if any(type_.startswith(MEMBERS_EVENTS) for type_, _ in change.events):
        await bus.bump(members_key(team_id))  # before the answer: other services' caches of the team are stale now
    for type_, data in change.events:
        await bus.publish(team_channel(team_id), type_, data)


def is_duplicate(exc: BaseException) -> bool:
    """Whether a database error is a unique-key violation (sqlite3, PyMySQL and aiomysql alike)."""
    return type(exc).__name__ == "IntegrityError"
