"""Memberships: join (within capacity), list, remove, leave, transfer host, and account deactivation.

When a membership ends, the member's open todos go back to the backlog (their done todos keep the
name of who did them). The host cannot leave: they transfer the host role or disband the team.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.channels import MEMBER_JOINED, MEMBER_LEFT, MEMBER_REMOVED, MEMBER_ROLE_CHANGED, TEAM_DISBANDED
from services.kit.db import cell
from services.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.nicknames import Nicknames
from services.kit.responses import PageQuery, iso, page, utcnow

from .access import Caller, role_of
from .changes import Change, is_duplicate, team_change
from .purge import delete_rows
from .tables import memberships, milestones, teams, todos

log = logging.getLogger("teammoa.teams")


def member_out(row: Any, host_id: int, nickname: str | None) -> dict[str, Any]:
    return {
        "user_id": row.user_id,
        "nickname": nickname,
        "role": role_of(row.user_id, host_id),
        "joined_at": iso(row.joined_at),
        "last_seen_at": iso(row.last_seen_at),
    }


async def add(*, db: Database, change: Change, user_id: int) -> None:
    """Add a member to the locked team, refusing duplicates and a full team."""
    team_id, capacity = cell(change.team, "id", int), cell(change.team, "capacity", int)
    rows = await db.fetch_all(sa.select(memberships.c.user_id).where(memberships.c.team_id == team_id))
    if any(cell(row, "user_id", int) == user_id for row in rows):
        raise Conflict("You are already a member of this team.", code="already_member")
    if len(rows) >= capacity:
        raise Conflict("The team is full.", code="team_full")
    now = utcnow()
    try:
        await db.execute(memberships.insert().values(team_id=team_id, user_id=user_id, joined_at=now, last_seen_at=now))
    except Exception as exc:
        if is_duplicate(exc):
            raise Conflict("You are already a member of this team.", code="already_member") from None
        raise
    change.publish(
        MEMBER_JOINED, {"user_id": user_id, "role": "member", "joined_at": iso(now), "member_count": len(rows) + 1}
    )


async def listing(*, db: Database, users: Nicknames, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """The team's members, longest-standing first, with nicknames from one batched lookup."""
    where = memberships.c.team_id == caller.team_id
    total = await db.fetch_val(sa.select(sa.func.count()).where(where))
    rows = await db.fetch_all(
        sa.select(memberships)
        .where(where)
        .order_by(memberships.c.joined_at, memberships.c.id)
        .limit(query.page_size)
        .offset(query.offset)
    )
    names = await users.nicknames(cell(row, "user_id", int) for row in rows)
    return page([member_out(row, caller.host_id, names[cell(row, "user_id", int)]) for row in rows], query, total)


async def _is_member(db: Database, team_id: int, user_id: int) -> bool:
    return bool(
        await db.fetch_val(
            sa.select(sa.func.count()).where(memberships.c.team_id == team_id, memberships.c.user_id == user_id)
        )
    )


async def _end(db: Database, team_id: int, user_id: int) -> list[int]:
    """Delete a membership and put the member's open todos back on the backlog, in order; return their ids."""
    open_todos = sa.and_(todos.c.team_id == team_id, todos.c.assignee_id == user_id, todos.c.is_completed.is_(False))
    moved = [cell(row, "id", int) for row in await db.fetch_all(sa.select(todos.c.id).where(open_todos))]
    if moved:
        backlog_end = await db.fetch_val(
            sa.select(sa.func.coalesce(sa.func.max(todos.c.position) + 1, 0)).where(
                todos.c.team_id == team_id, todos.c.assignee_id.is_(None), todos.c.is_completed.is_(False)
            )
        )
        await db.execute(todos.update().where(open_todos).values(assignee_id=None, position=todos.c.position + backlog_end))
    await db.execute(memberships.delete().where(memberships.c.team_id == team_id, memberships.c.user_id == user_id))
    return moved


async def remove(*, db: Database, bus: EventBus, caller: Caller, user_id: int) -> None:
    """Remove a member (host), or leave the team (the member themselves)."""
    leaving = user_id == caller.user_id
    if not await _is_member(db, caller.team_id, user_id):
        raise NotFound("No such member in this team.")
    if not leaving and not caller.is_host:
        raise PermissionDenied("Only the team's host can remove members.")
    async with team_change(db, bus, caller.team_id) as change:
        if cell(change.team, "host_id", int) == user_id:
            raise Conflict("The host cannot leave; transfer the host role or disband the team.", code="host_cannot_leave")
        if not await _is_member(db, caller.team_id, user_id):
            raise NotFound("No such member in this team.")
        moved = await _end(db, caller.team_id, user_id)
        change.publish(
            MEMBER_LEFT if leaving else MEMBER_REMOVED,
            {"user_id": user_id, "by": caller.user_id, "unassigned_todo_ids": moved},
        )


async def transfer_host(*, db: Database, bus: EventBus, caller: Caller, user_id: int) -> None:
    """Hand the host role to another member (host)."""
    async with team_change(db, bus, caller.team_id) as change:
        if cell(change.team, "host_id", int) != caller.user_id:
            raise PermissionDenied("Only the team's host can do that.")
        if user_id == caller.user_id:
            raise InvalidInput.field("user_id", "You are already the host.")
        if not await _is_member(db, caller.team_id, user_id):
            raise InvalidInput.field("user_id", "That user is not a member of this team.")
        await db.execute(teams.update().where(teams.c.id == caller.team_id).values(host_id=user_id, updated_at=utcnow()))
        change.publish(MEMBER_ROLE_CHANGED, {"user_id": user_id, "role": "host"})
        change.publish(MEMBER_ROLE_CHANGED, {"user_id": caller.user_id, "role": "member"})


async def deactivate(*, db: Database, bus: EventBus, user_id: int) -> list[int]:
    """End a deactivated user's memberships; hand their hosted teams on or disband empty ones.

    Idempotent: a second call finds no membership left. Returns the ids of the disbanded teams.
    """
    team_ids = [
        cell(row, "team_id", int)
        for row in await db.fetch_all(sa.select(memberships.c.team_id).where(memberships.c.user_id == user_id))
    ]
    disbanded = []
    for team_id in team_ids:
        try:
            async with team_change(db, bus, team_id) as change:
                if await _leave_for_good(db, change, user_id):
                    disbanded.append(team_id)
        except NotFound:  # disbanded meanwhile
            continue
    return disbanded


async def _leave_for_good(db: Database, change: Change, user_id: int) -> bool:
    team_id = cell(change.team, "id", int)
    if cell(change.team, "host_id", int) == user_id:
        successor = await db.fetch_one(
            sa.select(memberships.c.user_id)
            .where(memberships.c.team_id == team_id, memberships.c.user_id != user_id)
            .order_by(memberships.c.joined_at, memberships.c.id)
            .limit(1)
        )
        if successor is None:
            await delete_rows(db, teams, teams.c.id == team_id)
            change.publish(TEAM_DISBANDED, {"id": team_id})
            return True
        await db.execute(
            teams.update().where(teams.c.id == team_id).values(host_id=cell(successor, "user_id", int), updated_at=utcnow())
        )
        change.publish(MEMBER_ROLE_CHANGED, {"user_id": cell(successor, "user_id", int), "role": "host"})
    moved = await _end(db, team_id, user_id)
    change.publish(MEMBER_LEFT, {"user_id": user_id, "reason": "deactivated", "unassigned_todo_ids": moved})
    return False


async def roster(*, db: Database, team_id: int) -> dict[str, Any]:
    """Every member of a team with the team's time zone (internal, for the schedule service)."""
    team = await db.fetch_one(
        sa.select(teams.c.id, teams.c.name, teams.c.host_id, teams.c.time_zone).where(teams.c.id == team_id)
    )
    if team is None:
        raise NotFound()
    rows = await db.fetch_all(
        sa.select(memberships.c.user_id, memberships.c.joined_at)
        .where(memberships.c.team_id == team_id)
        .order_by(memberships.c.joined_at, memberships.c.id)
    )
    return {
        "team_id": team_id,
        "name": cell(team, "name", str),
        "time_zone": cell(team, "time_zone", str),
        "members": [
            {
                "user_id": cell(row, "user_id", int),
                "role": role_of(cell(row, "user_id", int), cell(team, "host_id", int)),
                "joined_at": iso(cell(row, "joined_at", dt.datetime)),
            }
            for row in rows
        ],
    }


async def membership(*, db: Database, team_id: int, user_id: int) -> dict[str, Any]:
    """One user's membership of a team (internal, for the realtime service)."""
    row = await db.fetch_one(
        sa.select(teams.c.host_id, teams.c.time_zone)
        .join(memberships, memberships.c.team_id == teams.c.id)
        .where(teams.c.id == team_id, memberships.c.user_id == user_id)
    )
    if row is None:
        raise NotFound()
    return {
        "team_id": team_id,
        "user_id": user_id,
        "role": role_of(user_id, cell(row, "host_id", int)),
        "time_zone": cell(row, "time_zone", str),
    }


async def calendar_of(*, db: Database, user_id: int) -> dict[str, Any]:
    """A user's teams and their milestone deadlines (internal, for the schedule service's calendar feed)."""
    rows: list[Any] = await db.fetch_all(
        sa.select(teams.c.id, teams.c.name, teams.c.time_zone)
        .join(memberships, memberships.c.team_id == teams.c.id)
        .where(memberships.c.user_id == user_id)
        .order_by(teams.c.id)
    )
    team_ids = [row.id for row in rows]
    due: list[Any] = (
        await db.fetch_all(
            sa.select(
                milestones.c.id, milestones.c.team_id, milestones.c.title, milestones.c.end_date, milestones.c.updated_at
            )
            .where(milestones.c.team_id.in_(team_ids))
            .order_by(milestones.c.end_date, milestones.c.id)
        )
        if team_ids
        else []
    )
    return {
        "user_id": user_id,
        "teams": [{"id": row.id, "name": row.name, "time_zone": row.time_zone} for row in rows],
        "milestones": [
            {
                "id": row.id,
                "team_id": row.team_id,
                "title": row.title,
                "end_date": row.end_date.isoformat(),
                "updated_at": iso(row.updated_at),
            }
            for row in due
        ],
    }
