"""Teams: create, list mine, read, update, disband; invite codes, join passwords and joining.

Join guesses are limited per guesser, never per team (anyone holding an invite code could otherwise lock
a team's joins): ``JOIN_FAILURES_PER_USER`` wrong codes or passwords per user, ``JOIN_FAILURES_PER_TEAM_USER``
wrong passwords per (team, user) and ``JOIN_FAILURES_PER_ADDRESS`` per client address in ``JOIN_WINDOW_S``,
then 429 for that guesser only.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.channels import TEAM_DISBANDED, TEAM_UPDATED
from services.kit.db import Prepared, cell
from services.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.nicknames import Nicknames
from services.kit.passwords import PasswordHasher
from services.kit.ratelimit import AttemptLimiter
from services.kit.responses import PageQuery, iso, page, page_total, utcnow

from . import members
from .access import Caller, role_of
from .changes import is_duplicate, team_change
from .purge import delete_rows
from .schemas import Join, TeamCreate
from .tables import memberships, teams

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed without doubt
INVITE_CODE_LENGTH = 10  # 32**10 ≈ 2**50 codes, with guesses rate-limited
JOIN_WINDOW_S = 15 * 60
JOIN_FAILURES_PER_USER = 10
JOIN_FAILURES_PER_TEAM_USER = 5
JOIN_FAILURES_PER_ADDRESS = 30  # many accounts from one address

_counted = memberships.alias("counted")
member_count = (
    sa.select(sa.func.count())
    .select_from(_counted)
    .where(_counted.c.team_id == teams.c.id)
    .correlate(teams)
    .scalar_subquery()
    .label("member_count")
)


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def team_out(row: Any, *, count: int, user_id: int | None = None) -> dict[str, Any]:
    """The team resource; ``invite_code`` and ``my_role`` only for a member (``user_id``)."""
    out = {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "capacity": row.capacity,
        "member_count": count,
        "time_zone": row.time_zone,
        "host_id": row.host_id,
        "created_at": iso(row.created_at),
    }
    if user_id is not None:
        out["invite_code"] = row.invite_code
        out["my_role"] = role_of(user_id, row.host_id)
    return out


async def _count(db: Database, team_id: int) -> int:
    return int(await db.fetch_val(sa.select(sa.func.count()).where(memberships.c.team_id == team_id)))


async def create(*, db: Database, passwords: PasswordHasher, user_id: int, body: TeamCreate) -> dict[str, Any]:
    """Create a team with the caller as host and first member."""
    password_hash = await passwords.hash(body.join_password)
    now = utcnow()
    values = {
        "name": body.name,
        "description": body.description,
        "capacity": body.capacity,
        "join_password_hash": password_hash,
        "time_zone": body.time_zone,
        "host_id": user_id,
        "created_at": now,
        "updated_at": now,
    }
    for _attempt in range(3):
        values["invite_code"] = new_invite_code()
        try:
            async with db.transaction():
                team_id = await db.execute(teams.insert().values(**values))
                await db.execute(
                    memberships.insert().values(team_id=team_id, user_id=user_id, joined_at=now, last_seen_at=now)
                )
            break
        except Exception as exc:
            if not is_duplicate(exc):
                raise
    else:
        raise Conflict("Could not create the team; try again.")
    return await read(db=db, team_id=team_id, user_id=user_id)


async def read(*, db: Database, team_id: int, user_id: int) -> dict[str, Any]:
    """One team as its member sees it."""
    row = await db.fetch_one(sa.select(teams, member_count).where(teams.c.id == team_id))
    if row is None:
        raise NotFound()
    return team_out(row, count=cell(row, "member_count", int), user_id=user_id)


async def mine(*, db: Database, user_id: int, query: PageQuery) -> dict[str, Any]:
    """The teams the caller belongs to, oldest membership first."""
    mine_filter = teams.c.id.in_(sa.select(memberships.c.team_id).where(memberships.c.user_id == user_id))
    rows = await db.fetch_all(
        sa.select(teams, member_count)
        .join(memberships, sa.and_(memberships.c.team_id == teams.c.id, memberships.c.user_id == user_id))
        .order_by(memberships.c.joined_at, memberships.c.id)
        .limit(query.page_size)
        .offset(query.offset)
    )
    total = await page_total(db, sa.select(sa.func.count()).select_from(teams).where(mine_filter), rows=rows, query=query)
    return page([team_out(row, count=cell(row, "member_count", int), user_id=user_id) for row in rows], query, total)


async def mine_versions(*, db: Database, user_id: int) -> tuple[tuple[int, int], ...]:
    """(team id, data version) of every team of the caller: what their list of teams is built from.

    A join, a departure, a new team and every change to one of the teams (member counts included:
    they go through ``team_change``) changes this, so an answer cached under it is current.
    """
    return tuple(await _MINE_VERSIONS.fetch_all(db, user_id=user_id))


_MINE_VERSIONS = Prepared(
    sa.select(memberships.c.team_id, teams.c.data_version)
    .join(teams, teams.c.id == memberships.c.team_id)
    .where(memberships.c.user_id == sa.bindparam("user_id"))
    .order_by(memberships.c.team_id)
)


async def update(*, db: Database, bus: EventBus, caller: Caller, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a team's name, description, capacity or time zone (host)."""
    async with team_change(db, bus, caller.team_id) as change:
        count = await _count(db, caller.team_id)
        if changes.get("capacity") is not None and changes["capacity"] < count:
            raise InvalidInput.field("capacity", f"The team already has {count} members.")
        if changes:
            await db.execute(teams.update().where(teams.c.id == caller.team_id).values(**changes, updated_at=utcnow()))
        row = await db.fetch_one(sa.select(teams).where(teams.c.id == caller.team_id))
        change.publish(TEAM_UPDATED, team_out(row, count=count))
    return team_out(row, count=count, user_id=caller.user_id)


async def disband(*, db: Database, bus: EventBus, caller: Caller) -> None:
    """Delete a team and everything in it (host); its files go once the rows are gone."""
    async with team_change(db, bus, caller.team_id) as change:
        await delete_rows(db, teams, teams.c.id == caller.team_id)
        change.publish(TEAM_DISBANDED, {"id": caller.team_id})


async def rotate_invite_code(*, db: Database, bus: EventBus, caller: Caller) -> dict[str, str]:
    """Replace the invite code; the old one stops working at once (host).

    The event says only that the team changed: invite codes never travel in events.
    """
    for _attempt in range(3):
        code = new_invite_code()
        try:
            async with team_change(db, bus, caller.team_id) as change:
                await db.execute(
                    teams.update().where(teams.c.id == caller.team_id).values(invite_code=code, updated_at=utcnow())
                )
                row = await db.fetch_one(sa.select(teams).where(teams.c.id == caller.team_id))
                change.publish(TEAM_UPDATED, team_out(row, count=await _count(db, caller.team_id)))
            return {"invite_code": code}
        except Exception as exc:
            if not is_duplicate(exc):
                raise
    raise Conflict("Could not rotate the invite code; try again.")


async def change_password(*, db: Database, passwords: PasswordHasher, caller: Caller, password: str) -> None:
    """Replace the join password (host)."""
    password_hash = await passwords.hash(password)
    await db.execute(
        teams.update().where(teams.c.id == caller.team_id).values(join_password_hash=password_hash, updated_at=utcnow())
    )


async def _by_code(db: Database, limiter: AttemptLimiter, user_id: int, code: str, address: str = "") -> Record:
    user_key, address_key = f"join:user:{user_id}", f"join:addr:{address}"
    await limiter.check({user_key: JOIN_FAILURES_PER_USER, address_key: JOIN_FAILURES_PER_ADDRESS})
    row = await db.fetch_one(sa.select(teams, member_count).where(teams.c.invite_code == normalise_code(code)))
    if row is None:
        await limiter.fail(user_key, address_key)
        raise NotFound("No team has that invite code.")
    return row


async def preview(
    *, db: Database, users: Nicknames, limiter: AttemptLimiter, user_id: int, code: str, address: str = ""
) -> dict[str, Any]:
    """What a team looks like to someone holding its invite code."""
    row = await _by_code(db, limiter, user_id, code, address)
    team_id, host_id = cell(row, "id", int), cell(row, "host_id", int)
    is_member = await db.fetch_val(
        sa.select(sa.func.count()).where(memberships.c.team_id == team_id, memberships.c.user_id == user_id)
    )
    return {
        "id": team_id,
        "name": row["name"],
        "description": row["description"],
        "capacity": row["capacity"],
        "member_count": row["member_count"],
        "host_id": host_id,
        "host_nickname": await users.nickname(host_id),
        "is_member": bool(is_member),
    }


async def join(
    *,
    db: Database,
    bus: EventBus,
    passwords: PasswordHasher,
    limiter: AttemptLimiter,
    user_id: int,
    body: Join,
    address: str = "",
) -> dict[str, Any]:
    """Join a team with its invite code and password, within its capacity."""
    row = await _by_code(db, limiter, user_id, body.invite_code, address)
    team_id = cell(row, "id", int)
    guesser_key = f"join:team-user:{team_id}:{user_id}"
    await limiter.check({guesser_key: JOIN_FAILURES_PER_TEAM_USER})
    if not await passwords.verify(cell(row, "join_password_hash", str), body.password):
        await limiter.fail(f"join:user:{user_id}", guesser_key, f"join:addr:{address}")
        raise PermissionDenied(
            "The join password is wrong.",
            code="wrong_join_password",
            details=[{"field": "password", "message": "Wrong password.", "type": "wrong"}],
        )
    async with team_change(db, bus, team_id) as change:
        await members.add(db=db, change=change, user_id=user_id)
    return await read(db=db, team_id=team_id, user_id=user_id)
