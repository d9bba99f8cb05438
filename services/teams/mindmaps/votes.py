"""Votes: one per member per node. PUT casts, DELETE withdraws; both are idempotent.

Counts are never stored: a unique key on (node, user) makes a vote a row, and the count is read from the
rows in the same transaction, so concurrent votes cannot overwrite each other's increments.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.events import EventBus
from services.kit.responses import utcnow
from services.teams.access import Caller
from services.teams.changes import is_duplicate

from .changes import map_change
from .nodes import load_node
from .tables import mindmap_votes


async def _count(db: Database, node_id: int) -> int:
    return int(
        await db.fetch_val(sa.select(sa.func.count()).select_from(mindmap_votes).where(mindmap_votes.c.node_id == node_id))
    )


async def _has_voted(db: Database, node_id: int, user_id: int) -> bool:
    return (
        await db.fetch_val(
            sa.select(mindmap_votes.c.id).where(mindmap_votes.c.node_id == node_id, mindmap_votes.c.user_id == user_id)
        )
        is not None
    )


class _Unchanged(Exception):
    """The vote was already as asked: roll the version bump back and answer with the current count."""

    def __init__(self, count: int) -> None:
        super().__init__("unchanged")
        self.count = count


async def _apply(*, db: Database, bus: EventBus, caller: Caller, map_id: int, node_id: int, voted: bool) -> dict[str, Any]:
    """Change the caller's vote in a map change; raise _Unchanged when it is already as asked."""
    async with map_change(db, bus, team_id=caller.team_id, map_id=map_id) as change:
        await load_node(db, map_id=map_id, node_id=node_id)
        if await _has_voted(db, node_id, caller.user_id) == voted:
            raise _Unchanged(await _count(db, node_id))
        if voted:
            try:
                await db.execute(
                    mindmap_votes.insert().values(
                        mindmap_id=map_id, node_id=node_id, user_id=caller.user_id, created_at=utcnow()
                    )
                )
            except Exception as exc:
                if not is_duplicate(exc):
                    raise
                raise _Unchanged(await _count(db, node_id)) from None
        else:
            await db.execute(
                mindmap_votes.delete().where(mindmap_votes.c.node_id == node_id, mindmap_votes.c.user_id == caller.user_id)
            )
        count = await _count(db, node_id)
        change.publish("vote.changed", {"node_id": node_id, "vote_count": count, "user_id": caller.user_id, "voted": voted})
    return {"node_id": node_id, "vote_count": count, "voted": voted, "map_version": change.version}


async def vote(*, db: Database, bus: EventBus, caller: Caller, map_id: int, node_id: int, voted: bool) -> dict[str, Any]:
    """Cast (``voted``) or withdraw the caller's vote; a no-op changes nothing and publishes nothing."""
    try:
        return await _apply(db=db, bus=bus, caller=caller, map_id=map_id, node_id=node_id, voted=voted)
    except _Unchanged as unchanged:
        return {"node_id": node_id, "vote_count": unchanged.count, "voted": voted, "map_version": None}
