"""Nodes of a map: create, edit or move (optionally guarded by the node's version), delete with what
hangs on it (links, comments, votes — removed explicitly, children first)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.db import cell
from services.kit.errors import Conflict, NotFound
from services.kit.events import EventBus
from services.kit.responses import utcnow
from services.teams.access import Caller

from .changes import map_change
from .maps import node_out
from .schemas import NodeIn, NodeUpdate
from .tables import mindmap_comments, mindmap_links, mindmap_nodes, mindmap_votes

MAX_NODES_PER_MAP = 1000  # beyond this a canvas is unusable, and a snapshot too large to send often


async def load_node(db: Database, *, map_id: int, node_id: int) -> Record:
    """A node of this map, or 404."""
    row = await db.fetch_one(
        sa.select(mindmap_nodes).where(mindmap_nodes.c.id == node_id, mindmap_nodes.c.mindmap_id == map_id)
    )
    if row is None:
        raise NotFound()
    return row


async def node_view(db: Database, row: Record, *, user_id: int) -> dict[str, Any]:
    """A node with its vote and comment counts and whether this user voted."""
    node_id = cell(row, "id", int)
    votes = await db.fetch_val(
        sa.select(sa.func.count()).select_from(mindmap_votes).where(mindmap_votes.c.node_id == node_id)
    )
    voted = await db.fetch_val(
        sa.select(sa.func.count())
        .select_from(mindmap_votes)
        .where(mindmap_votes.c.node_id == node_id, mindmap_votes.c.user_id == user_id)
    )
    comments = await db.fetch_val(
        sa.select(sa.func.count()).select_from(mindmap_comments).where(mindmap_comments.c.node_id == node_id)
    )
    return node_out(row, votes=int(votes), comments=int(comments), voted=bool(voted))


def _shared(view: dict[str, Any]) -> dict[str, Any]:
    """What peers may see of a node (``voted`` is the reader's own)."""
    return {key: value for key, value in view.items() if key != "voted"}


async def create_node(*, db: Database, bus: EventBus, caller: Caller, map_id: int, data: NodeIn) -> dict[str, Any]:
    """Add a node to a map."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        count = await db.fetch_val(
            sa.select(sa.func.count()).select_from(mindmap_nodes).where(mindmap_nodes.c.mindmap_id == map_id)
        )
        if count >= MAX_NODES_PER_MAP:
            raise Conflict(f"A mind map holds at most {MAX_NODES_PER_MAP} nodes.", code="too_many_nodes")
        now = utcnow()
        node_id = await db.execute(
            mindmap_nodes.insert().values(
                mindmap_id=map_id,
                title=data.title,
                content=data.content,
                x=data.x,
                y=data.y,
                color=data.color.lower(),
                version=1,
                created_by=caller.user_id,
                created_at=now,
                updated_at=now,
            )
        )
        view = node_out(await load_node(db, map_id=map_id, node_id=node_id))
        change.publish("node.created", _shared(view))
    return {**view, "map_version": change.version}


async def update_node(
    *, db: Database, bus: EventBus, caller: Caller, map_id: int, node_id: int, data: NodeUpdate
) -> dict[str, Any]:
    """Edit or move a node; a stale ``version`` is refused with the current node."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        row = await load_node(db, map_id=map_id, node_id=node_id)
        if data.version is not None and data.version != cell(row, "version", int):
            current = await node_view(db, row, user_id=caller.user_id)
            raise Conflict(
                "Someone changed this node in the meantime.",
                code="stale_version",
                details=[
                    {
                        "field": "version",
                        "type": "stale",
                        "node": current,
                        "message": "The node has changed since you loaded it.",
                    }
                ],
            )
        values = data.changes()
        if "color" in values:
            values["color"] = values["color"].lower()
        await db.execute(
            mindmap_nodes.update()
            .where(mindmap_nodes.c.id == node_id)
            .values(**values, version=mindmap_nodes.c.version + 1, updated_at=utcnow())
        )
        view = await node_view(db, await load_node(db, map_id=map_id, node_id=node_id), user_id=caller.user_id)
        change.publish("node.updated", _shared(view))
    return {**view, "map_version": change.version}


async def delete_node(*, db: Database, bus: EventBus, caller: Caller, map_id: int, node_id: int) -> None:
    """Delete a node with its links, comments and votes."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        await load_node(db, map_id=map_id, node_id=node_id)
        touching = sa.or_(mindmap_links.c.source_id == node_id, mindmap_links.c.target_id == node_id)
        link_ids = [
            cell(row, "id", int)
            for row in await db.fetch_all(
                sa.select(mindmap_links.c.id).where(mindmap_links.c.mindmap_id == map_id, touching)
            )
        ]
        if link_ids:
            await db.execute(mindmap_links.delete().where(mindmap_links.c.id.in_(link_ids)))
        await db.execute(mindmap_votes.delete().where(mindmap_votes.c.node_id == node_id))
        await db.execute(mindmap_comments.delete().where(mindmap_comments.c.node_id == node_id))
        await db.execute(mindmap_nodes.delete().where(mindmap_nodes.c.id == node_id))
        change.publish("node.deleted", {"id": node_id, "link_ids": link_ids})
