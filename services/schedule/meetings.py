"""Meetings of a team: book (host) or propose (member), confirm, change, cancel, answer, list upcoming.

Rules: members read; the team's host changes any meeting, a member changes or cancels only a proposal
of their own; another team's meeting does not exist (404). Times are stored as naive UTC with the
team's zone beside them; every change an invitation must show raises ``sequence``. Events go out on the
team's ``team.<id>`` channel after the write, so members see bookings and answers live.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from databases import Database
from sqlalchemy.dialects import mysql, sqlite

from services.kit.channels import team_channel
from services.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.kit.events import EventBus
from services.kit.mail import Mailer
from services.kit.peers import Peers
from services.kit.responses import iso, utcnow

from . import invitations
from .availability import read_team
from .directory import Team, TeamDirectory
from .schemas import ANSWERS, MeetingBody, MeetingChange
from .slots import SLOT_MINUTES
from .tables import meeting_answers, meetings
from .timeline import RangeError, parse_instant, zone_of

UPCOMING_LIMIT = 50
OPEN = ("proposed", "booked")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on a team's meetings, with what they need: the store, the bus and the directory."""

    db: Database
    events: EventBus
    directory: TeamDirectory
    team: Team
    user_id: int
    host: str  # the site's host name, for iCalendar UIDs
    mailer: Mailer
    peers: Peers
    site: str
    outgoing: list[tuple[str, int]] = field(default_factory=list)  # (iCalendar method, meeting id) to mail

    @property
    def is_host(self) -> bool:
        return self.team.host_id == self.user_id


def _instant(text: str, field: str, team: Team) -> dt.datetime:
    try:
        return parse_instant(text, field, zone_of(team.time_zone))
    except RangeError as exc:
        raise InvalidInput.field(exc.field, str(exc)) from None


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def needed_slots(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> dict[dt.date, int]:
    """The half-hour slots (as day masks of local dates) a window touches in the zone."""
    masks: dict[dt.date, int] = {}
    at = start
    while at < end:
        local = at.astimezone(zone)
        slot = (local.hour * 60 + local.minute) // SLOT_MINUTES
        masks[local.date()] = masks.get(local.date(), 0) | (1 << slot)
        at += dt.timedelta(
            minutes=SLOT_MINUTES - local.minute % SLOT_MINUTES, seconds=-local.second, microseconds=-local.microsecond
        )
    return masks


async def not_free(
    *, db: Database, directory: TeamDirectory, team: Team, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Current members whose saved availability does not cover the whole window, by name."""
    needed = needed_slots(start, end, zone_of(team.time_zone))
    if not needed:
        return []
    masks = await read_team(db=db, team_id=team.id, members=team.members, start=min(needed), end=max(needed))
    missing = sorted(
        uid for uid in team.members if any(masks.get(uid, {}).get(day, 0) & m != m for day, m in needed.items())
    )
    names = await directory.nicknames(missing)
    return [{"user_id": uid, "nickname": names.get(uid)} for uid in missing]


async def conflicts(actor: Actor, *, start: str, duration_minutes: int) -> dict[str, Any]:
    """Who is not marked free for a window being considered."""
    begin = _instant(start, "start", actor.team)
    end = begin + dt.timedelta(minutes=duration_minutes)
    who = await not_free(db=actor.db, directory=actor.directory, team=actor.team, start=begin, end=end)
    return {"start": iso(begin), "end": iso(end), "time_zone": actor.team.time_zone, "not_free": who}


async def _row(db: Database, team: Team, meeting_id: int) -> Any:
    row: Any = await db.fetch_one(sa.select(meetings).where(meetings.c.id == meeting_id, meetings.c.team_id == team.id))
    if row is None:
        raise NotFound()
    return row


async def _answers(db: Database, team: Team, meeting_ids: list[int]) -> dict[int, dict[int, str]]:
    if not meeting_ids:
        return {}
    rows: list[Any] = await db.fetch_all(
        sa.select(meeting_answers.c.meeting_id, meeting_answers.c.user_id, meeting_answers.c.answer).where(
            meeting_answers.c.meeting_id.in_(meeting_ids)
        )
    )
    found: dict[int, dict[int, str]] = {}
    for row in rows:
        if int(row.user_id) in team.members:  # a former member's answer no longer counts
            found.setdefault(int(row.meeting_id), {})[int(row.user_id)] = str(row.answer)
    return found


def _out(row: Any, answers: dict[int, str], names: dict[int, str | None], team: Team, user_id: int) -> dict[str, Any]:
    zone = zone_of(row.time_zone)
    start = row.starts_at.replace(tzinfo=dt.UTC)
    end = row.ends_at.replace(tzinfo=dt.UTC)
    counts = {answer: sum(1 for a in answers.values() if a == answer) for answer in ANSWERS}
    counts["pending"] = len(team.members) - sum(counts.values())
    return {
        "id": row.id,
        "team_id": int(row.team_id),
        "uid": row.uid,
        "status": row.status,
        "title": row.title,
        "start": iso(row.starts_at),
        "end": iso(row.ends_at),
        "local_start": start.astimezone(zone).isoformat(),
        "local_end": end.astimezone(zone).isoformat(),
        "time_zone": row.time_zone,
        "duration_minutes": int((end - start).total_seconds() // 60),
        "place": row.place,
        "notes": row.notes,
        "created_by": int(row.created_by),
        "organizer_id": int(row.organizer_id),
        "sequence": int(row.sequence),
        "answers": [
            {"user_id": uid, "nickname": names.get(uid), "answer": answers.get(uid)} for uid in sorted(team.members)
        ],
        "counts": counts,
        "my_answer": answers.get(user_id),
        "updated_at": iso(row.updated_at),
    }


async def _present(actor: Actor, rows: list[Any], *, with_conflicts: bool = False) -> list[dict[str, Any]]:
    answers = await _answers(actor.db, actor.team, [int(row.id) for row in rows])
    names = await actor.directory.nicknames(sorted(actor.team.members))
    out = []
    for row in rows:
        item = _out(row, answers.get(int(row.id), {}), names, actor.team, actor.user_id)
        if with_conflicts:
            start, end = row.starts_at.replace(tzinfo=dt.UTC), row.ends_at.replace(tzinfo=dt.UTC)
            item["not_free"] = await not_free(db=actor.db, directory=actor.directory, team=actor.team, start=start, end=end)
        out.append(item)
    return out


async def _one(actor: Actor, meeting_id: int) -> dict[str, Any]:
    row = await _row(actor.db, actor.team, meeting_id)
    return (await _present(actor, [row], with_conflicts=True))[0]


async def _publish(actor: Actor, type_: str, meeting: dict[str, Any]) -> None:
    data = {key: meeting[key] for key in ("id", "status", "title", "start", "end", "sequence", "counts")}
    await actor.events.publish(team_channel(actor.team.id), type_, {"meeting": data, "by": actor.user_id})


def _window(actor: Actor, start: str, duration_minutes: int) -> tuple[dt.datetime, dt.datetime]:
    begin = _instant(start, "start", actor.team)
    if begin <= dt.datetime.now(dt.UTC):
        raise InvalidInput.field("start", "A meeting must start in the future.")
    return begin, begin + dt.timedelta(minutes=duration_minutes)


async def create(actor: Actor, body: MeetingBody) -> dict[str, Any]:
    """The host books a meeting; any other member proposes one for the host to confirm."""
    begin, end = _window(actor, body.start, body.duration_minutes)
    now = utcnow()
    status = "booked" if actor.is_host else "proposed"
    meeting_id = await actor.db.execute(
        meetings.insert().values(
            team_id=actor.team.id,
            uid=f"meeting-{secrets.token_hex(12)}@{actor.host}",
            status=status,
            title=body.title,
            starts_at=_naive(begin),
            ends_at=_naive(end),
            time_zone=actor.team.time_zone,
            place=body.place,
            notes=body.notes,
            created_by=actor.user_id,
            organizer_id=actor.team.host_id if actor.team.host_id is not None else actor.user_id,
            sequence=0,
            created_at=now,
            updated_at=now,
        )
    )
    meeting = await _one(actor, int(meeting_id))
    await _publish(actor, f"meeting.{status}", meeting)
    if status == "booked":
        actor.outgoing.append(("REQUEST", int(meeting_id)))
    return meeting


def _may_change(actor: Actor, row: Any) -> None:
    if row.status == "cancelled":
        raise Conflict("This meeting was cancelled.")
    if actor.is_host or (row.status == "proposed" and int(row.created_by) == actor.user_id):
        return
    raise PermissionDenied("Only the team's host (or the member who proposed it) may change this meeting.")


async def change(actor: Actor, meeting_id: int, body: MeetingChange) -> dict[str, Any]:
    """Change the fields given; the invitation's sequence rises."""
    row = await _row(actor.db, actor.team, meeting_id)
    _may_change(actor, row)
    values: dict[str, Any] = {}
    for name in ("title", "place", "notes"):
        if getattr(body, name) is not None:
            values[name] = getattr(body, name)
    if body.start is not None or body.duration_minutes is not None:
        length = body.duration_minutes or int((row.ends_at - row.starts_at).total_seconds() // 60)
        if body.start is not None:
            begin, end = _window(actor, body.start, length)
        else:
            begin = row.starts_at.replace(tzinfo=dt.UTC)
            end = begin + dt.timedelta(minutes=length)
        values |= {"starts_at": _naive(begin), "ends_at": _naive(end)}
    if not values:
        raise InvalidInput("Give at least one field to change.")
    await actor.db.execute(
        meetings.update()
        .where(meetings.c.id == row.id)
        .values(**values, sequence=meetings.c.sequence + 1, updated_at=utcnow())
    )
    meeting = await _one(actor, int(row.id))
    await _publish(actor, "meeting.changed", meeting)
    if row.status == "booked":
        actor.outgoing.append(("REQUEST", int(row.id)))
    return meeting


async def confirm(actor: Actor, meeting_id: int) -> dict[str, Any]:
    """The host turns a member's proposal into a booked meeting."""
    row = await _row(actor.db, actor.team, meeting_id)
    if not actor.is_host:
        raise PermissionDenied("Only the team's host may confirm a proposal.")
    if row.status != "proposed":
        raise Conflict("Only a proposed meeting can be confirmed.")
    await actor.db.execute(
        meetings.update()
        .where(meetings.c.id == row.id, meetings.c.status == "proposed")
        .values(status="booked", organizer_id=actor.user_id, sequence=meetings.c.sequence + 1, updated_at=utcnow())
    )
    meeting = await _one(actor, int(row.id))
    await _publish(actor, "meeting.booked", meeting)
    actor.outgoing.append(("REQUEST", int(row.id)))
    return meeting


async def cancel(actor: Actor, meeting_id: int) -> dict[str, Any]:
    """Cancel a meeting (the host, or the proposer of their own proposal)."""
    row = await _row(actor.db, actor.team, meeting_id)
    _may_change(actor, row)
    await actor.db.execute(
        meetings.update()
        .where(meetings.c.id == row.id)
        .values(status="cancelled", sequence=meetings.c.sequence + 1, updated_at=utcnow())
    )
    meeting = await _one(actor, int(row.id))
    await _publish(actor, "meeting.cancelled", meeting)
    if row.status == "booked":
        actor.outgoing.append(("CANCEL", int(row.id)))
    return meeting


async def answer(actor: Actor, meeting_id: int, value: str) -> dict[str, Any]:
    """Record the caller's answer: going, maybe or not going."""
    row = await _row(actor.db, actor.team, meeting_id)
    if row.status == "cancelled":
        raise Conflict("This meeting was cancelled.")
    # One upsert: two first answers of the same member at once cannot collide on the primary key.
    await actor.db.execute(
        _answer_upsert(actor.db.url.dialect, meeting_id=row.id, user_id=actor.user_id, answer=value, at=utcnow())
    )
    meeting = (await _present(actor, [row]))[0]
    await _publish(actor, "meeting.answered", meeting)
    return meeting


def _answer_upsert(dialect: str, *, meeting_id: int, user_id: int, answer: str, at: dt.datetime) -> sa.Insert:
    values = {"meeting_id": meeting_id, "user_id": user_id, "answer": answer, "answered_at": at}
    if dialect == "mysql":
        mysql_insert = mysql.insert(meeting_answers).values(values)
        return mysql_insert.on_duplicate_key_update(answer=answer, answered_at=at)
    sqlite_insert = sqlite.insert(meeting_answers).values(values)
    return sqlite_insert.on_conflict_do_update(
        index_elements=[meeting_answers.c.meeting_id, meeting_answers.c.user_id],
        set_={"answer": answer, "answered_at": at},
    )


async def read(actor: Actor, meeting_id: int) -> dict[str, Any]:
    return await _one(actor, meeting_id)


async def upcoming(actor: Actor) -> dict[str, Any]:
    """Open meetings of the team that have not ended, soonest first."""
    rows = await actor.db.fetch_all(
        sa.select(meetings)
        .where(meetings.c.team_id == actor.team.id, meetings.c.status.in_(OPEN), meetings.c.ends_at > utcnow())
        .order_by(meetings.c.starts_at, meetings.c.id)
        .limit(UPCOMING_LIMIT)
    )
    return {"time_zone": actor.team.time_zone, "items": await _present(actor, list(rows))}


async def deliver(actor: Actor) -> None:
    """Mail the invitations a request queued (run after the response: mail never delays the answer)."""
    for method, meeting_id in actor.outgoing:
        row: Any = await actor.db.fetch_one(sa.select(meetings).where(meetings.c.id == meeting_id))
        if row is None:
            continue
        invited = sorted(actor.team.members)
        await actor.db.execute(meetings.update().where(meetings.c.id == row.id).values(invited=json.dumps(invited)))
        await invitations.send(
            mailer=actor.mailer,
            peers=actor.peers,
            site=actor.site,
            method=method,
            meeting=row,
            organizer_id=int(row.organizer_id),
            attendee_ids=invited,
        )
    actor.outgoing.clear()
