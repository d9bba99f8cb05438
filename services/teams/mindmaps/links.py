"""Links between two nodes of the same map: no self links, at most one link per pair in either direction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.db import one_row
from services.kit.errors import Conflict, InvalidInput, NotFound
from services.kit.events import EventBus
from services.kit.responses import utcnow
from services.teams.access import Caller
from services.teams.changes import is_duplicate

from .changes import map_change
from .maps import link_out
from .nodes import load_node
from .schemas import LinkIn
from .tables import mindmap_links


async def create_link(*, db: Database, bus: EventBus, caller: Caller, map_id: int, data: LinkIn) -> dict[str, Any]:
    """Link two nodes of a map."""
    if data.source_id == data.target_id:
        raise InvalidInput.field("target_id", "A node cannot be linked to itself.", "self_link")
    low, high = sorted((data.source_id, data.target_id))
    duplicate = Conflict("These two nodes are already linked.", code="duplicate_link")
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        for field, node_id in (("source_id", data.source_id), ("target_id", data.target_id)):
            try:
                await load_node(db, map_id=map_id, node_id=node_id)
            except NotFound:
                raise InvalidInput.field(field, "No such node on this map.", "unknown_node") from None
        existing = await db.fetch_val(
            sa.select(mindmap_links.c.id).where(mindmap_links.c.low_id == low, mindmap_links.c.high_id == high)
        )
        if existing is not None:
            raise duplicate
        try:
            link_id = await db.execute(
                mindmap_links.insert().values(
                    mindmap_id=map_id,
                    source_id=data.source_id,
                    target_id=data.target_id,
                    low_id=low,
                    high_id=high,
                    created_by=caller.user_id,
                    created_at=utcnow(),
                )
            )
        except Exception as exc:
            if is_duplicate(exc):
                raise duplicate from None
            raise
        view = link_out(await one_row(db, sa.select(mindmap_links).where(mindmap_links.c.id == link_id)))
        change.publish("link.created", view)
    return {**view, "map_version": change.version}


async def delete_link(*, db: Database, bus: EventBus, caller: Caller, map_id: int, link_id: int) -> None:
    """Remove a link."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        where = (mindmap_links.c.id == link_id, mindmap_links.c.mindmap_id == map_id)
        if await db.fetch_val(sa.select(mindmap_links.c.id).where(*where)) is None:
            raise NotFound()
        await db.execute(mindmap_links.delete().where(*where))
        change.publish("link.deleted", {"id": link_id})
