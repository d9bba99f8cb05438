"""Todos on the team board: backlog (unassigned), a member's column, or done.

The rules, and no generic update that bypasses them:

    create, read, edit content, reorder, move to backlog or done   host, assignee, anyone when unassigned
    assign to anyone                                                host
    take an unassigned todo for oneself                             any member
    complete / reopen, delete                                       host or assignee
    link to a milestone of the team, or unlink                      any member

A todo that changes column goes to the end of its new column. Every change that can move a linked
milestone's ``auto`` progress recomputes it in the same transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.db import cell, cell_or_none, one_row
from services.kit.errors import InvalidInput, NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.responses import iso, page, page_total, utcnow

from .access import Caller
from .changes import Change, team_change
from .milestones import ensure_in_team, refresh_progress
from .schemas import TodosQuery
from .tables import memberships, todos


def state_of(row: Any) -> str:
    if row.is_completed:
        return "done"
    return "backlog" if row.assignee_id is None else "assigned"


def todo_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "content": row.content,
        "assignee_id": row.assignee_id,
        "is_completed": row.is_completed,
        "completed_at": iso(row.completed_at),
        "milestone_id": row.milestone_id,
        "position": row.position,
        "state": state_of(row),
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
    }


def _column(team_id: int, *, assignee_id: int | None, done: bool) -> sa.ColumnElement[bool]:
    if done:
        return sa.and_(todos.c.team_id == team_id, todos.c.is_completed.is_(True))
    who = todos.c.assignee_id.is_(None) if assignee_id is None else todos.c.assignee_id == assignee_id
    return sa.and_(todos.c.team_id == team_id, todos.c.is_completed.is_(False), who)


async def _end_of(db: Database, team_id: int, *, assignee_id: int | None, done: bool) -> int:
    return int(
        await db.fetch_val(
            sa.select(sa.func.coalesce(sa.func.max(todos.c.position) + 1, 0)).where(
                _column(team_id, assignee_id=assignee_id, done=done)
            )
        )
    )


async def _get(db: Database, team_id: int, todo_id: int) -> Record:
    row = await db.fetch_one(sa.select(todos).where(todos.c.id == todo_id, todos.c.team_id == team_id))
    if row is None:
        raise NotFound()
    return row


def _host(change: Change, caller: Caller) -> bool:
    return cell(change.team, "host_id", int) == caller.user_id


def _may_handle(change: Change, caller: Caller, row: Any) -> None:
    if not (_host(change, caller) or row.assignee_id in (None, caller.user_id)):
        raise PermissionDenied("Only the host or the assignee can change this todo.")


def _may_finish(change: Change, caller: Caller, row: Any) -> None:
    if not (_host(change, caller) or row.assignee_id == caller.user_id):
        raise PermissionDenied("Only the host or the assignee can do that.")


async def _place(db: Database, row: Any, *, assignee_id: int | None, done: bool) -> None:
    """Put a todo in a column (at its end when the column changes) with the matching completion."""
    values: dict[str, Any] = {"assignee_id": assignee_id, "is_completed": done}
    if done != row.is_completed:
        values["completed_at"] = utcnow() if done else None
    same_column = done == row.is_completed and (done or assignee_id == row.assignee_id)
    if not same_column:
        values["position"] = await _end_of(db, row.team_id, assignee_id=assignee_id, done=done)
    await db.execute(todos.update().where(todos.c.id == row.id).values(**values))


async def _changed(db: Database, change: Change, todo_id: int, *milestone_ids: int | None) -> dict[str, Any]:
    """Publish the todo as it is now and refresh the progress of the milestones it touched."""
    row = await one_row(db, sa.select(todos).where(todos.c.id == todo_id))
    out = todo_out(row)
    change.publish("todo.updated", out)
    await refresh_progress(db, change, [*milestone_ids, cell_or_none(row, "milestone_id", int)])
    return out


async def listing(*, db: Database, caller: Caller, query: TodosQuery) -> dict[str, Any]:
    """The team's todos in board order, optionally one column, assignee or milestone."""
    where = [todos.c.team_id == caller.team_id]
    if query.state is not None:
        where.append(
            {
                "done": todos.c.is_completed.is_(True),
                "backlog": sa.and_(todos.c.is_completed.is_(False), todos.c.assignee_id.is_(None)),
                "assigned": sa.and_(todos.c.is_completed.is_(False), todos.c.assignee_id.is_not(None)),
            }[query.state]
        )
    if query.assignee_id is not None:
        where.append(todos.c.assignee_id == query.assignee_id)
    if query.milestone_id is not None:
        where.append(todos.c.milestone_id == query.milestone_id)
    rows = await db.fetch_all(
        sa.select(todos).where(*where).order_by(todos.c.position, todos.c.id).limit(query.page_size).offset(query.offset)
    )
    total = await page_total(db, sa.select(sa.func.count()).select_from(todos).where(*where), rows=rows, query=query)
    return page([todo_out(row) for row in rows], query, total)


async def read(*, db: Database, caller: Caller, todo_id: int) -> dict[str, Any]:
    """One todo of the team."""
    return todo_out(await _get(db, caller.team_id, todo_id))


async def create(*, db: Database, bus: EventBus, caller: Caller, content: str, milestone_id: int | None) -> dict[str, Any]:
    """Add a todo at the end of the backlog, optionally linked to a milestone of the team."""
    async with team_change(db, bus, caller.team_id) as change:
        await ensure_in_team(db, caller.team_id, milestone_id)
        position = await _end_of(db, caller.team_id, assignee_id=None, done=False)
        todo_id = await db.execute(
            todos.insert().values(
                team_id=caller.team_id,
                content=content,
                assignee_id=None,
                is_completed=False,
                completed_at=None,
                milestone_id=milestone_id,
                position=position,
                created_by=caller.user_id,
                created_at=utcnow(),
            )
        )
        out = todo_out(await _get(db, caller.team_id, todo_id))
        change.publish("todo.created", out)
        await refresh_progress(db, change, [milestone_id])
    return out


async def edit(*, db: Database, bus: EventBus, caller: Caller, todo_id: int, content: str) -> dict[str, Any]:
    """Change a todo's text."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        _may_handle(change, caller, row)
        await db.execute(todos.update().where(todos.c.id == todo_id).values(content=content))
        return await _changed(db, change, todo_id)


async def assign(*, db: Database, bus: EventBus, caller: Caller, todo_id: int, user_id: int) -> dict[str, Any]:
    """Assign a todo: the host to any member, a member an unassigned todo to themselves."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        if not _host(change, caller):
            if user_id != caller.user_id:
                raise PermissionDenied("Only the host assigns todos to other members.")
            if cell_or_none(row, "assignee_id", int) not in (None, caller.user_id):
                raise PermissionDenied("This todo is already assigned to someone else.")
        is_member = await db.fetch_val(
            sa.select(sa.func.count()).where(memberships.c.team_id == caller.team_id, memberships.c.user_id == user_id)
        )
        if not is_member:
            raise InvalidInput.field("user_id", "That user is not a member of this team.")
        await _place(db, row, assignee_id=user_id, done=cell(row, "is_completed", bool))
        return await _changed(db, change, todo_id)


async def complete(*, db: Database, bus: EventBus, caller: Caller, todo_id: int, completed: bool) -> dict[str, Any]:
    """Complete or reopen a todo (host or assignee)."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        _may_finish(change, caller, row)
        await _place(db, row, assignee_id=cell_or_none(row, "assignee_id", int), done=completed)
        return await _changed(db, change, todo_id)


async def move(*, db: Database, bus: EventBus, caller: Caller, todo_id: int, to: str) -> dict[str, Any]:
    """Move a todo back to the backlog (unassigned, open) or to done."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        _may_handle(change, caller, row)
        if to == "done":
            await _place(db, row, assignee_id=cell_or_none(row, "assignee_id", int), done=True)
        else:
            await _place(db, row, assignee_id=None, done=False)
        return await _changed(db, change, todo_id)


async def reorder(*, db: Database, bus: EventBus, caller: Caller, todo_id: int, position: int) -> dict[str, Any]:
    """Move a todo to a position within its column (0 is the top; past the end means last)."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        _may_handle(change, caller, row)
        column = _column(
            caller.team_id, assignee_id=cell_or_none(row, "assignee_id", int), done=cell(row, "is_completed", bool)
        )
        ids = [
            cell(r, "id", int)
            for r in await db.fetch_all(sa.select(todos.c.id).where(column).order_by(todos.c.position, todos.c.id))
        ]
        ids.remove(todo_id)
        ids.insert(min(position, len(ids)), todo_id)
        await db.execute(
            todos.update()
            .where(todos.c.id.in_(ids))
            .values(position=sa.case({tid: index for index, tid in enumerate(ids)}, value=todos.c.id))
        )
        change.publish(
            "todo.reordered",
            {"id": todo_id, "state": state_of(row), "assignee_id": cell_or_none(row, "assignee_id", int), "order": ids},
        )
        return await _changed(db, change, todo_id)


async def link(*, db: Database, bus: EventBus, caller: Caller, todo_id: int, milestone_id: int | None) -> dict[str, Any]:
    """Link a todo to a milestone of the same team, or unlink it (any member)."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        await ensure_in_team(db, caller.team_id, milestone_id)
        await db.execute(todos.update().where(todos.c.id == todo_id).values(milestone_id=milestone_id))
        return await _changed(db, change, todo_id, cell_or_none(row, "milestone_id", int))


async def delete(*, db: Database, bus: EventBus, caller: Caller, todo_id: int) -> None:
    """Delete a todo (host or assignee); its milestone's progress follows."""
    async with team_change(db, bus, caller.team_id) as change:
        row = await _get(db, caller.team_id, todo_id)
        _may_finish(change, caller, row)
        await db.execute(todos.delete().where(todos.c.id == todo_id))
        change.publish("todo.deleted", {"id": todo_id})
        await refresh_progress(db, change, [cell_or_none(row, "milestone_id", int)])
