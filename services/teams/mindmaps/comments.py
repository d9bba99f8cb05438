"""Comments on a node: any member writes; the author edits; the author or the host deletes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.db import cell
from services.kit.errors import NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.nicknames import Nicknames
from services.kit.responses import PageQuery, iso, page, utcnow
from services.teams.access import Caller

from .changes import map_change
from .maps import require_map
from .nodes import load_node
from .tables import mindmap_comments


def comment_out(row: Record, nickname: str | None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "node_id": row["node_id"],
        "author_id": row["author_id"],
        "author_nickname": nickname,
        "body": row["body"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def _count(db: Database, node_id: int) -> int:
    return int(
        await db.fetch_val(
            sa.select(sa.func.count()).select_from(mindmap_comments).where(mindmap_comments.c.node_id == node_id)
        )
    )


async def _load(db: Database, *, map_id: int, node_id: int, comment_id: int) -> Record:
    row = await db.fetch_one(
        sa.select(mindmap_comments).where(
            mindmap_comments.c.id == comment_id,
            mindmap_comments.c.node_id == node_id,
            mindmap_comments.c.mindmap_id == map_id,
        )
    )
    if row is None:
        raise NotFound()
    return row


async def list_comments(
    *, db: Database, directory: Nicknames, caller: Caller, map_id: int, node_id: int, query: PageQuery
) -> dict[str, Any]:
    """List a node's comments, oldest first."""
    await require_map(db, caller=caller, map_id=map_id)
    await load_node(db, map_id=map_id, node_id=node_id)
    where = mindmap_comments.c.node_id == node_id
    total = await _count(db, node_id)
    rows = await db.fetch_all(
        sa.select(mindmap_comments).where(where).order_by(mindmap_comments.c.id).limit(query.page_size).offset(query.offset)
    )
    names = await directory.nicknames({cell(row, "author_id", int) for row in rows})
    return page([comment_out(row, names.get(cell(row, "author_id", int))) for row in rows], query, total)


async def create_comment(
    *, db: Database, bus: EventBus, directory: Nicknames, caller: Caller, map_id: int, node_id: int, body: str
) -> dict[str, Any]:
    """Comment on a node."""
    nickname = await directory.nickname(caller.user_id)
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        await load_node(db, map_id=map_id, node_id=node_id)
        now = utcnow()
        comment_id = await db.execute(
            mindmap_comments.insert().values(
                mindmap_id=map_id, node_id=node_id, author_id=caller.user_id, body=body, created_at=now, updated_at=now
            )
        )
        row = await _load(db, map_id=map_id, node_id=node_id, comment_id=comment_id)
        view = comment_out(row, nickname)
        change.publish("comment.created", {**view, "comment_count": await _count(db, node_id)})
    return {**view, "map_version": change.version}


async def update_comment(
    *,
    db: Database,
    bus: EventBus,
    directory: Nicknames,
    caller: Caller,
    map_id: int,
    node_id: int,
    comment_id: int,
    body: str,
) -> dict[str, Any]:
    """Edit one's own comment."""
    nickname = await directory.nickname(caller.user_id)
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        row = await _load(db, map_id=map_id, node_id=node_id, comment_id=comment_id)
        if cell(row, "author_id", int) != caller.user_id:
            raise PermissionDenied("Only the author can edit a comment.")
        await db.execute(
            mindmap_comments.update().where(mindmap_comments.c.id == comment_id).values(body=body, updated_at=utcnow())
        )
        view = comment_out(await _load(db, map_id=map_id, node_id=node_id, comment_id=comment_id), nickname)
        change.publish("comment.updated", view)
    return {**view, "map_version": change.version}


async def delete_comment(*, db: Database, bus: EventBus, caller: Caller, map_id: int, node_id: int, comment_id: int) -> None:
    """Delete a comment (its author, or the host as moderation)."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        row = await _load(db, map_id=map_id, node_id=node_id, comment_id=comment_id)
        if cell(row, "author_id", int) != caller.user_id and not caller.is_host:
            raise PermissionDenied("Only the author or the host can delete a comment.")
        await db.execute(mindmap_comments.delete().where(mindmap_comments.c.id == comment_id))
        change.publish("comment.deleted", {"id": comment_id, "node_id": node_id, "comment_count": await _count(db, node_id)})
