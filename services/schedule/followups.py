"""What a team's events mean for its meetings, heard on the ``team.<id>`` channel the directory follows.

- ``team.disbanded``: every open meeting is cancelled; those last invited to a booked one get a
  ``METHOD:CANCEL`` mail.
- ``member.left`` / ``member.removed``: the member's answers to the team's future meetings are removed
  and they get a ``METHOD:CANCEL`` for each booked one they were invited to, so it leaves their calendar.

Every instance following the team hears the event; a row in ``meeting_claims`` makes one of them (the
one whose insert succeeds) do each follow-up, so nothing is mailed twice.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.mail import Mailer
from services.kit.peers import Peers
from services.kit.responses import utcnow

from . import invitations
from .tables import meeting_answers, meeting_claims, meetings

log = logging.getLogger("teammoa.schedule.followups")
OPEN = ("proposed", "booked")


async def claim(db: Database, meeting_id: int, key: str) -> bool:
    """Take a follow-up for this instance; False when another instance (or an earlier event) did."""
    try:
        await db.execute(meeting_claims.insert().values(meeting_id=meeting_id, claim=key[:64], claimed_at=utcnow()))
    except Exception as exc:
        if type(exc).__name__ == "IntegrityError":  # sqlite3, PyMySQL and aiomysql alike
            return False
        raise
    return True


def _invited(row: Any) -> list[int]:
    try:
        return [int(uid) for uid in json.loads(row.invited or "[]")]
    except (ValueError, TypeError):
        return []


async def teams_with_open_meetings(db: Database) -> list[int]:
    """Teams with a meeting not yet over: the directory keeps following them."""
    query = sa.select(meetings.c.team_id).where(meetings.c.status.in_(OPEN), meetings.c.ends_at > utcnow()).distinct()
    return [int(row[0]) for row in await db.fetch_all(query)]


async def team_disbanded(*, db: Database, mailer: Mailer, peers: Peers, site: str, team_id: int) -> int:
    """Cancel the team's open meetings; returns how many this instance cancelled."""
    rows: list[Any] = await db.fetch_all(
        sa.select(meetings).where(meetings.c.team_id == team_id, meetings.c.status.in_(OPEN))
    )
    done = 0
    for row in rows:
        if not await claim(db, int(row.id), "disbanded"):
            continue
        await db.execute(
            meetings.update()
            .where(meetings.c.id == row.id)
            .values(status="cancelled", sequence=meetings.c.sequence + 1, updated_at=utcnow())
        )
        done += 1
        if row.status == "booked":
            cancelled: Any = await db.fetch_one(sa.select(meetings).where(meetings.c.id == row.id))
            await invitations.send(
                mailer=mailer,
                peers=peers,
                site=site,
                method="CANCEL",
                meeting=cancelled,
                organizer_id=int(row.organizer_id),
                attendee_ids=_invited(row),
            )
    return done


async def member_left(*, db: Database, mailer: Mailer, peers: Peers, site: str, team_id: int, user_id: int) -> int:
    """Take a former member out of the team's future meetings; returns how many this instance did."""
    rows: list[Any] = await db.fetch_all(
        sa.select(meetings).where(meetings.c.team_id == team_id, meetings.c.status.in_(OPEN), meetings.c.ends_at > utcnow())
    )
    done = 0
    for row in rows:
        if not await claim(db, int(row.id), f"left:{user_id}:{int(row.sequence)}"):
            continue
        done += 1
        await db.execute(
            meeting_answers.delete().where(meeting_answers.c.meeting_id == row.id, meeting_answers.c.user_id == user_id)
        )
        invited = _invited(row)
        if user_id not in invited:
            continue
        remaining = [uid for uid in invited if uid != user_id]
        await db.execute(meetings.update().where(meetings.c.id == row.id).values(invited=json.dumps(remaining)))
        if row.status == "booked":
            await invitations.send(
                mailer=mailer,
                peers=peers,
                site=site,
                method="CANCEL",
                meeting=row,
                organizer_id=int(row.organizer_id),
                attendee_ids=[user_id],
            )
    return done
