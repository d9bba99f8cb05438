"""Who is calling, in which team: 401 anonymous, 404 outside the team, 403 for a member on host actions.

Every team-scoped endpoint starts with ``member(request)`` or ``host(request)``; every later lookup
filters by ``caller.team_id`` so an object of another team is indistinguishable from a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import Request

from services.kit.db import Prepared
from services.kit.errors import NotFound, PermissionDenied
from services.kit.responses import utcnow
from services.kit.tokens import authenticate
from services.kit.validation import path_int

from .tables import memberships, teams

LAST_SEEN_RESOLUTION = dt.timedelta(minutes=1)  # at most one write per member per minute


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in member acting in one team."""

    user_id: int
    team_id: int
    host_id: int
    time_zone: str
    version: int = 0  # the team row's data_version as this request read it (cached answers are tagged with it)

    @property
    def is_host(self) -> bool:
        return self.user_id == self.host_id


def role_of(user_id: int, host_id: int) -> str:
    return "host" if user_id == host_id else "member"


# Every team request runs this: compiled once (kit.db.Prepared), one round trip.
_MEMBER = Prepared(
    sa.select(teams.c.host_id, teams.c.time_zone, memberships.c.last_seen_at, teams.c.data_version)
    .join(memberships, memberships.c.team_id == teams.c.id)
    .where(teams.c.id == sa.bindparam("team_id"), memberships.c.user_id == sa.bindparam("user_id"))
)


async def member(request: Request) -> Caller:
    """The caller as a member of the team in the URL (401 anonymous, 404 not a member)."""
    principal = await authenticate(request)
    team_id = path_int(request, "team_id")
    db = request.app.state.db
    row = await _MEMBER.fetch_one(db, team_id=team_id, user_id=principal.user_id)
    if row is None:
        raise NotFound()
    host_id, time_zone, last_seen_at, data_version = row
    now = utcnow()
    if last_seen_at is None or now - last_seen_at > LAST_SEEN_RESOLUTION:
        await db.execute(
            memberships.update()
            .where(memberships.c.team_id == team_id, memberships.c.user_id == principal.user_id)
            .values(last_seen_at=now)
        )
    return Caller(user_id=principal.user_id, team_id=team_id, host_id=host_id, time_zone=time_zone, version=data_version)


async def host(request: Request) -> Caller:
    """The caller as the host of the team in the URL (403 for other members)."""
    caller = await member(request)
    require_host(caller)
    return caller


def require_host(caller: Caller, message: str = "Only the team's host can do that.") -> None:
    if not caller.is_host:
        raise PermissionDenied(message)
