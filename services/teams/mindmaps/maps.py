"""Mind maps of a team: list, create, delete (host or creator), the snapshot, and the internal lookup."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.channels import MINDMAP_CREATED, MINDMAP_DELETED, team_channel
from services.kit.db import cell, one_row
from services.kit.errors import Conflict, NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.responses import PageQuery, iso, page, utcnow
from services.teams.access import Caller
from services.teams.changes import is_duplicate
from services.teams.purge import delete_rows

from .changes import map_change
from .tables import mindmap_comments, mindmap_links, mindmap_nodes, mindmap_votes, mindmaps

MAX_MAPS_PER_TEAM = 200  # a team's maps are listed and browsed by people, not generated


def map_out(row: Record, caller: Caller) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "version": cell(row, "version", int),
        "created_by": row["created_by"],
        "created_at": iso(row["created_at"]),
        "can_delete": caller.is_host or cell(row, "created_by", int) == caller.user_id,
    }


def node_out(row: Record, *, votes: int = 0, comments: int = 0, voted: bool = False) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "content": row["content"],
        "x": row["x"],
        "y": row["y"],
        "color": row["color"],
        "version": row["version"],
        "vote_count": votes,
        "comment_count": comments,
        "voted": voted,
        "created_by": row["created_by"],
        "updated_at": iso(row["updated_at"]),
    }


def link_out(row: Record) -> dict[str, Any]:
    return {"id": row["id"], "source_id": row["source_id"], "target_id": row["target_id"]}


async def list_maps(*, db: Database, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """List the team's maps, newest first."""
    where = mindmaps.c.team_id == caller.team_id
    total = await db.fetch_val(sa.select(sa.func.count()).select_from(mindmaps).where(where))
    rows = await db.fetch_all(
        sa.select(mindmaps).where(where).order_by(mindmaps.c.id.desc()).limit(query.page_size).offset(query.offset)
    )
    return page([map_out(row, caller) for row in rows], query, total)


async def create_map(*, db: Database, bus: EventBus, caller: Caller, title: str) -> dict[str, Any]:
    """Create a map; its title is unique within the team, ignoring case."""
    key = title.lower()
    taken = Conflict(
        "The team already has a mind map with this title.",
        code="title_taken",
        details=[{"field": "title", "message": "Already used in this team.", "type": "taken"}],
    )
    where = mindmaps.c.team_id == caller.team_id
    if await db.fetch_val(sa.select(sa.func.count()).select_from(mindmaps).where(where)) >= MAX_MAPS_PER_TEAM:
        raise Conflict(f"A team can keep at most {MAX_MAPS_PER_TEAM} mind maps.", code="too_many_maps")
    if await db.fetch_val(sa.select(mindmaps.c.id).where(where, mindmaps.c.title_key == key)) is not None:
        raise taken
    try:
        map_id = await db.execute(
            mindmaps.insert().values(
                team_id=caller.team_id, title=title, title_key=key, version=0, created_by=caller.user_id, created_at=utcnow()
            )
        )
    except Exception as exc:
        if is_duplicate(exc):
            raise taken from None
        raise
    row = await one_row(db, sa.select(mindmaps).where(mindmaps.c.id == map_id))
    created = map_out(row, caller)
    await bus.publish(
        team_channel(caller.team_id),
        MINDMAP_CREATED,
        {key: created[key] for key in ("id", "title", "version", "created_by", "created_at")},
    )
    return created


async def delete_map(*, db: Database, bus: EventBus, caller: Caller, map_id: int) -> None:
    """Delete a map with everything on it (the host or its creator)."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        if not caller.is_host and change.created_by != caller.user_id:
            raise PermissionDenied("Only the host or the map's creator can delete it.")
        await delete_rows(db, mindmaps, mindmaps.c.id == map_id)
        change.publish(MINDMAP_DELETED, {"id": map_id})
    await bus.publish(team_channel(caller.team_id), MINDMAP_DELETED, {"id": map_id})


async def require_map(db: Database, *, caller: Caller, map_id: int) -> None:
    """404 unless the map belongs to the caller's team."""
    found = await db.fetch_val(sa.select(mindmaps.c.id).where(mindmaps.c.id == map_id, mindmaps.c.team_id == caller.team_id))
    if found is None:
        raise NotFound()


async def _counts(db: Database, table: sa.Table, map_id: int) -> dict[int, int]:
    rows = await db.fetch_all(
        sa.select(table.c.node_id, sa.func.count().label("n")).where(table.c.mindmap_id == map_id).group_by(table.c.node_id)
    )
    return {cell(row, "node_id", int): cell(row, "n", int) for row in rows}


async def snapshot(*, db: Database, caller: Caller, map_id: int) -> dict[str, Any]:
    """The whole map at one version: nodes with vote and comment counts (and my votes), links."""
    async with db.transaction():  # one consistent read: the version matches the rows
        row = await db.fetch_one(sa.select(mindmaps).where(mindmaps.c.id == map_id, mindmaps.c.team_id == caller.team_id))
        if row is None:
            raise NotFound()
        nodes = await db.fetch_all(
            sa.select(mindmap_nodes).where(mindmap_nodes.c.mindmap_id == map_id).order_by(mindmap_nodes.c.id)
        )
        links = await db.fetch_all(
            sa.select(mindmap_links).where(mindmap_links.c.mindmap_id == map_id).order_by(mindmap_links.c.id)
        )
        votes = await _counts(db, mindmap_votes, map_id)
        comments = await _counts(db, mindmap_comments, map_id)
        mine = {
            cell(r, "node_id", int)
            for r in await db.fetch_all(
                sa.select(mindmap_votes.c.node_id).where(
                    mindmap_votes.c.mindmap_id == map_id, mindmap_votes.c.user_id == caller.user_id
                )
            )
        }
    return {
        **map_out(row, caller),
        "nodes": [
            node_out(
                n,
                votes=votes.get(cell(n, "id", int), 0),
                comments=comments.get(cell(n, "id", int), 0),
                voted=cell(n, "id", int) in mine,
            )
            for n in nodes
        ],
        "links": [link_out(link) for link in links],
    }


async def lookup(*, db: Database, map_id: int) -> dict[str, Any]:
    """A map's team and current version, for the realtime service."""
    row = await db.fetch_one(sa.select(mindmaps.c.id, mindmaps.c.team_id, mindmaps.c.version).where(mindmaps.c.id == map_id))
    if row is None:
        raise NotFound()
    return {"id": cell(row, "id", int), "team_id": cell(row, "team_id", int), "version": cell(row, "version", int)}
