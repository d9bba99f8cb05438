"""Meeting reminders: a mail to those going or maybe, at the team's offset before the start (none, 1 h or
1 day), sent once however many instances look.

Every instance scans now and then for booked meetings whose reminder time has come; for each, the one
whose ``meeting_claims`` insert of ``reminder:<sequence>`` succeeds mails it. A meeting moved later gets
a new sequence, so its new time is reminded again; one already reminded is not reminded twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.errors import InvalidInput, PermissionDenied
from services.kit.mail import Mailer
from services.kit.peers import Peers
from services.kit.responses import iso, utcnow

from . import invitations
from .directory import Team
from .followups import claim
from .ics import plain
from .tables import meeting_answers, meeting_settings, meetings
from .timeline import zone_of

log = logging.getLogger("teammoa.schedule.reminders")
CHOICES = (0, 60, 24 * 60)  # none, 1 hour, 1 day
DEFAULT_MINUTES = 60
LONGEST = dt.timedelta(minutes=max(CHOICES))
SCAN_EVERY_S = 60


async def read_setting(db: Database, team: Team) -> dict[str, Any]:
    row: Any = await db.fetch_one(sa.select(meeting_settings).where(meeting_settings.c.team_id == team.id))
    minutes = int(row.reminder_minutes) if row is not None else DEFAULT_MINUTES
    return {"team_id": team.id, "reminder_minutes": minutes, "choices": list(CHOICES)}


async def save_setting(db: Database, team: Team, user_id: int, minutes: int) -> dict[str, Any]:
    """The host chooses the team's reminder offset."""
    if team.host_id != user_id:
        raise PermissionDenied("Only the team's host may change the reminders.")
    if minutes not in CHOICES:
        raise InvalidInput.field("reminder_minutes", "reminder_minutes must be 0, 60 or 1440.")
    async with db.transaction():
        await db.execute(meeting_settings.delete().where(meeting_settings.c.team_id == team.id))
        await db.execute(meeting_settings.insert().values(team_id=team.id, reminder_minutes=minutes, updated_at=utcnow()))
    return await read_setting(db, team)


async def _offsets(db: Database, team_ids: list[int]) -> dict[int, int]:
    rows: list[Any] = await db.fetch_all(sa.select(meeting_settings).where(meeting_settings.c.team_id.in_(team_ids)))
    found = {int(row.team_id): int(row.reminder_minutes) for row in rows}
    return {team_id: found.get(team_id, DEFAULT_MINUTES) for team_id in team_ids}


def _text(row: Any, site: str) -> tuple[str, str]:
    zone = zone_of(row.time_zone)
    start = row.starts_at.replace(tzinfo=dt.UTC).astimezone(zone)
    title = plain(row.title)
    lines = [f"Reminder: {title} starts at {start:%a %d %b %Y %H:%M} ({row.time_zone})."]
    if row.place:
        lines.append(f"Where: {plain(row.place)}")
    lines += ["", f"See it in TeamMoa: {site}/teams/{int(row.team_id)}/schedule"]
    return f"Reminder: {title}", "\n".join(lines) + "\n"


async def run_once(*, db: Database, mailer: Mailer, peers: Peers, site: str, now: dt.datetime | None = None) -> int:
    """Send the reminders that are due; returns how many meetings this instance reminded."""
    now = now or utcnow()
    rows: list[Any] = await db.fetch_all(
        sa.select(meetings).where(
            meetings.c.status == "booked", meetings.c.starts_at > now, meetings.c.starts_at <= now + LONGEST
        )
    )
    if not rows:
        return 0
    offsets = await _offsets(db, sorted({int(row.team_id) for row in rows}))
    sent = 0
    for row in rows:
        minutes = offsets[int(row.team_id)]
        if minutes == 0 or row.starts_at - dt.timedelta(minutes=minutes) > now:
            continue
        if not await claim(db, int(row.id), f"reminder:{int(row.sequence)}"):
            continue
        sent += 1
        invited = set(json.loads(row.invited or "[]"))
        answers: list[Any] = await db.fetch_all(
            sa.select(meeting_answers.c.user_id).where(
                meeting_answers.c.meeting_id == row.id, meeting_answers.c.answer.in_(("going", "maybe"))
            )
        )
        people = await invitations.contacts(peers, [int(a.user_id) for a in answers if int(a.user_id) in invited])
        subject, text = _text(row, site)
        for person in sorted(people.values(), key=lambda p: p.user_id):
            await mailer.send(to=person.email, subject=subject, text=text)
        log.info("meeting %s reminded (%d mails, due %s)", row.id, len(people), iso(row.starts_at))
    return sent
