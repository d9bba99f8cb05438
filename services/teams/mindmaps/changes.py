"""One change to a mind map: bump the map's version first, in the change's own transaction, then publish.

The bump (``UPDATE mindmaps SET version = version + 1``) is the transaction's first statement. On MySQL it
locks the map row, so writers of one map run one after another and every change gets the next version;
on SQLite it takes the database's write lock at once (a read first would risk "database is locked" when
the transaction later writes). The version is read back inside the same transaction, and the event that
carries it is published only after commit: a rolled-back change publishes nothing, and the realtime
service can replay events in version order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.channels import mindmap_channel
from services.kit.db import cell
from services.kit.errors import NotFound
from services.kit.events import EventBus

from .tables import mindmaps


@dataclass
class MapChange:
    """The map being changed at its new version, and the one event that announces the change."""

    map_id: int
    team_id: int
    version: int
    created_by: int
    event: tuple[str, Any] | None = field(default=None)

    def publish(self, type_: str, data: Any) -> None:
        """Announce the change after commit (one event per version: clients deduplicate by version)."""
        assert self.event is None, "one change, one version, one event"
        self.event = (type_, data)


async def bump_version(db: Database, *, team_id: int, map_id: int) -> Record | None:
    """Increment a map's version and read the map back (None when the team has no such map)."""
    await db.execute(
        mindmaps.update()
        .where(mindmaps.c.id == map_id, mindmaps.c.team_id == team_id)
        .values(version=mindmaps.c.version + 1)
    )
    return await db.fetch_one(
        sa.select(mindmaps.c.version, mindmaps.c.created_by).where(mindmaps.c.id == map_id, mindmaps.c.team_id == team_id)
    )


@asynccontextmanager
async def map_change(db: Database, bus: EventBus, *, team_id: int, map_id: int) -> AsyncIterator[MapChange]:
    """Run a block as one transaction on a map at its next version; publish its events after commit."""
    async with db.transaction():
        row = await bump_version(db, team_id=team_id, map_id=map_id)
        if row is None:
            raise NotFound()
        change = MapChange(
            map_id=map_id, team_id=team_id, version=cell(row, "version", int), created_by=cell(row, "created_by", int)
        )
        yield change
    if change.event is not None:
        type_, data = change.event
        await bus.publish(mindmap_channel(map_id), type_, data, version=change.version)
