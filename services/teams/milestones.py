"""Milestones: create, read (with todo statistics), list by priority rank, edit, move, delete; progress.

Progress in ``auto`` mode is floor(done linked todos / all linked todos × 100), 0 with none, and is
recomputed in the same transaction as every change to a linked todo (``refresh_progress``). In
``manual`` mode it is set by hand. Progress 100 ⇔ completed, with ``completed_at``. The status is
derived, in the team's time zone: completed, overdue (past its end), in progress (started, or some
progress), not started.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.db import cell, cell_or_none, one_row
from services.kit.errors import InvalidInput, NotFound
from services.kit.events import EventBus
from services.kit.responses import iso, page, utcnow

from .access import Caller
from .changes import Change, team_change
from .schemas import PRIORITIES, MilestoneCreate, MilestonesQuery, check_span
from .tables import milestones, todos

STATUSES = ("not_started", "in_progress", "overdue", "completed")
priority_rank = sa.case({name: rank for rank, name in enumerate(PRIORITIES)}, value=milestones.c.priority)


def today_in(time_zone: str) -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo(time_zone)).date()


def status_of(row: Any, today: dt.date) -> str:
    if row.completed_at is not None:
        return "completed"
    if today > row.end_date:
        return "overdue"
    if today >= row.start_date or row.progress > 0:
        return "in_progress"
    return "not_started"


def milestone_out(row: Any, today: dt.date) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat(),
        "priority": row.priority,
        "progress_mode": row.progress_mode,
        "progress": row.progress,
        "status": status_of(row, today),
        "completed_at": iso(row.completed_at),
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _completion(progress: int, completed_at: dt.datetime | None) -> dt.datetime | None:
    if progress < 100:
        return None
    return completed_at or utcnow()


async def _get(db: Database, team_id: int, milestone_id: int) -> Record:
    row = await db.fetch_one(sa.select(milestones).where(milestones.c.id == milestone_id, milestones.c.team_id == team_id))
    if row is None:
        raise NotFound()
    return row


async def ensure_in_team(db: Database, team_id: int, milestone_id: int | None) -> None:
    """Refuse a milestone id that is not one of this team's milestones (422 on ``milestone_id``)."""
    if milestone_id is None:
        return
    found = await db.fetch_val(
        sa.select(sa.func.count()).where(milestones.c.id == milestone_id, milestones.c.team_id == team_id)
    )
    if not found:
        raise InvalidInput.field("milestone_id", "No such milestone in this team.")


async def todo_stats(db: Database, milestone_id: int) -> dict[str, int]:
    done = sa.func.coalesce(sa.func.sum(sa.case((todos.c.is_completed, 1), else_=0)), 0)
    row = await one_row(
        db, sa.select(sa.func.count().label("total"), done.label("done")).where(todos.c.milestone_id == milestone_id)
    )
    total, completed = int(row["total"]), int(row["done"])  # SUM is a Decimal on MySQL
    return {"total": total, "completed": completed, "open": total - completed}


async def _auto_values(db: Database, milestone_id: int, completed_at: dt.datetime | None) -> dict[str, Any]:
    stats = await todo_stats(db, milestone_id)
    progress = stats["completed"] * 100 // stats["total"] if stats["total"] else 0
    return {"progress": progress, "completed_at": _completion(progress, completed_at)}


async def refresh_progress(db: Database, change: Change, milestone_ids: Iterable[int | None]) -> None:
    """Recompute ``auto`` progress of the given milestones inside the team's change; publish what moved."""
    today = today_in(cell(change.team, "time_zone", str))
    for milestone_id in sorted({mid for mid in milestone_ids if mid is not None}):
        row = await db.fetch_one(sa.select(milestones).where(milestones.c.id == milestone_id))
        if row is None or cell(row, "progress_mode", str) != "auto":
            continue
        completed_at = cell_or_none(row, "completed_at", dt.datetime)
        values = await _auto_values(db, milestone_id, completed_at)
        if values == {"progress": cell(row, "progress", int), "completed_at": completed_at}:
            continue
        await db.execute(milestones.update().where(milestones.c.id == milestone_id).values(**values))
        moved = await db.fetch_one(sa.select(milestones).where(milestones.c.id == milestone_id))
        change.publish("milestone.updated", milestone_out(moved, today))


async def listing(*, db: Database, caller: Caller, query: MilestonesQuery) -> dict[str, Any]:
    """The team's milestones by priority rank (or by start date), then end date."""
    where = milestones.c.team_id == caller.team_id
    order = [priority_rank, milestones.c.end_date] if query.order == "priority" else [milestones.c.start_date]
    total = await db.fetch_val(sa.select(sa.func.count()).where(where))
    rows = await db.fetch_all(
        sa.select(milestones).where(where).order_by(*order, milestones.c.id).limit(query.page_size).offset(query.offset)
    )
    today = today_in(caller.time_zone)
    return page([milestone_out(row, today) for row in rows], query, total)


async def read(*, db: Database, caller: Caller, milestone_id: int) -> dict[str, Any]:
    """One milestone with the statistics of its todos."""
    row = await _get(db, caller.team_id, milestone_id)
    return {**milestone_out(row, today_in(caller.time_zone)), "todo_stats": await todo_stats(db, milestone_id)}


async def create(*, db: Database, bus: EventBus, caller: Caller, body: MilestoneCreate) -> dict[str, Any]:
    """Add a milestone to the team (any member)."""
    progress = body.progress if body.progress_mode == "manual" and body.progress is not None else 0
    now = utcnow()
    async with team_change(db, bus, caller.team_id) as change:
        milestone_id = await db.execute(
            milestones.insert().values(
                team_id=caller.team_id,
                title=body.title,
                description=body.description,
                start_date=body.start_date,
                end_date=body.end_date,
                priority=body.priority,
                progress_mode=body.progress_mode,
                progress=progress,
                completed_at=_completion(progress, None),
                created_by=caller.user_id,
                created_at=now,
                updated_at=now,
            )
        )
        row = await _get(db, caller.team_id, milestone_id)
        out = milestone_out(row, today_in(cell(change.team, "time_zone", str)))
        change.publish("milestone.created", out)
    return out


async def update(
    *, db: Database, bus: EventBus, caller: Caller, milestone_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Edit, move or resize a milestone, or set its progress mode and manual progress (any member)."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, milestone_id)
        merged = {column.name: row[column.name] for column in milestones.c} | changes
        if problem := check_span(merged["start_date"], merged["end_date"]):
            field = "end_date" if "end_date" in changes else "start_date"
            raise InvalidInput.field(field, problem)
        if "progress" in changes and merged["progress_mode"] != "manual":
            raise InvalidInput.field("progress", "Progress is set by hand only in manual mode.")
        completed_at = cell_or_none(row, "completed_at", dt.datetime)
        if merged["progress_mode"] == "manual":
            changes["completed_at"] = _completion(merged["progress"], completed_at)
        else:
            changes.update(await _auto_values(db, milestone_id, completed_at))
        await db.execute(milestones.update().where(milestones.c.id == milestone_id).values(**changes, updated_at=utcnow()))
        row = await _get(db, caller.team_id, milestone_id)
        out = milestone_out(row, today_in(cell(change.team, "time_zone", str)))
        change.publish("milestone.updated", out)
    return out


async def delete(*, db: Database, bus: EventBus, caller: Caller, milestone_id: int) -> None:
    """Delete a milestone; its todos stay, unlinked (any member)."""
    async with team_change(db, bus, caller.team_id) as change:
        await _get(db, caller.team_id, milestone_id)
        linked = [
            cell(row, "id", int)
            for row in await db.fetch_all(sa.select(todos.c.id).where(todos.c.milestone_id == milestone_id))
        ]
        await db.execute(todos.update().where(todos.c.milestone_id == milestone_id).values(milestone_id=None))
        await db.execute(milestones.delete().where(milestones.c.id == milestone_id))
        change.publish("milestone.deleted", {"id": milestone_id, "unlinked_todo_ids": linked})


async def statistics(*, db: Database, caller: Caller) -> dict[str, Any]:
    """Milestones by status, today's milestone with the days left, and todo counts of the team."""
    today = today_in(caller.time_zone)
    rows = await db.fetch_all(
        sa.select(milestones)
        .where(milestones.c.team_id == caller.team_id)
        .order_by(priority_rank, milestones.c.end_date, milestones.c.id)
    )
    by_status = dict.fromkeys(STATUSES, 0)
    for row in rows:
        by_status[status_of(row, today)] += 1
    current = next(
        (
            row
            for row in rows
            if cell(row, "start_date", dt.date) <= today <= cell(row, "end_date", dt.date)
            and cell_or_none(row, "completed_at", dt.datetime) is None
        ),
        None,
    )
    todo_counts = await one_row(
        db,
        sa.select(
            sa.func.count().label("total"),
            sa.func.coalesce(sa.func.sum(sa.case((todos.c.is_completed, 1), else_=0)), 0).label("done"),
            sa.func.coalesce(
                sa.func.sum(sa.case((sa.and_(todos.c.is_completed.is_(False), todos.c.assignee_id.is_(None)), 1), else_=0)),
                0,
            ).label("backlog"),
        ).where(todos.c.team_id == caller.team_id),
    )
    total, done, backlog = int(todo_counts["total"]), int(todo_counts["done"]), int(todo_counts["backlog"])
    return {
        "today": today.isoformat(),
        "milestones": {"total": len(rows), "by_status": by_status},
        "today_milestone": None
        if current is None
        else {**milestone_out(current, today), "days_left": (cell(current, "end_date", dt.date) - today).days},
        "todos": {"total": total, "backlog": backlog, "assigned": total - done - backlog, "done": done},
    }
