"""A user's private calendar feed: their teams' booked meetings and milestone deadlines, as one .ics.

The feed URL holds a secret token (32 random bytes); only its SHA-256 is stored, so the URL is shown
once, when made. Making a new one replaces (revokes) the old; deleting it revokes it. A wrong or revoked
token is a plain 404. The body is deterministic (each item's ``DTSTAMP`` is its last change), so its hash
is the ``ETag``; ``Last-Modified`` is when that hash last changed, which also moves when items go away.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.errors import NotFound, Unavailable
from services.kit.peers import Peers
from services.kit.responses import iso, utcnow

from .ics import PRODID, escape, fold, utc_stamp
from .tables import calendar_feeds, meetings

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
PAST = dt.timedelta(days=30)  # meetings that ended up to this long ago stay in the feed


@dataclass(frozen=True, slots=True)
class Feed:
    body: str
    etag: str
    last_modified: dt.datetime  # naive UTC, whole seconds


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def status(db: Database, user_id: int) -> dict[str, Any]:
    row: Any = await db.fetch_one(sa.select(calendar_feeds.c.created_at).where(calendar_feeds.c.user_id == user_id))
    return {"active": row is not None, "created_at": iso(row.created_at) if row is not None else None}


async def issue(db: Database, user_id: int) -> tuple[str, dt.datetime]:
    """A new secret token for the user's feed; the previous one stops working."""
    token, now = secrets.token_urlsafe(32), utcnow()
    async with db.transaction():
        await db.execute(calendar_feeds.delete().where(calendar_feeds.c.user_id == user_id))
        await db.execute(calendar_feeds.insert().values(user_id=user_id, token_hash=_hash(token), created_at=now))
    return token, now


async def revoke(db: Database, user_id: int) -> None:
    await db.execute(calendar_feeds.delete().where(calendar_feeds.c.user_id == user_id))


async def owner(db: Database, token: str) -> Any:
    """The feed row of a token; NotFound for a malformed, wrong or revoked one."""
    if not TOKEN_RE.match(token):
        raise NotFound()
    row: Any = await db.fetch_one(sa.select(calendar_feeds).where(calendar_feeds.c.token_hash == _hash(token)))
    if row is None or not secrets.compare_digest(str(row.token_hash), _hash(token)):
        raise NotFound()
    return row


async def _calendar_of(peers: Peers, user_id: int) -> dict[str, Any]:
    response = await peers.request("teams", "GET", f"/internal/users/{user_id}/calendar/")
    if response.status_code != 200:
        raise Unavailable("The teams service failed.")
    body: dict[str, Any] = response.json()
    return body


def _stamp(value: dt.datetime) -> dt.datetime:
    return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).replace(microsecond=0)


def _meeting_lines(row: Any, team_name: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape(row.uid)}",
        f"SEQUENCE:{int(row.sequence)}",
        f"DTSTAMP:{utc_stamp(_stamp(row.updated_at))}",
        f"DTSTART:{utc_stamp(_stamp(row.starts_at))}",
        f"DTEND:{utc_stamp(_stamp(row.ends_at))}",
        f"SUMMARY:{escape(row.title)}",
        f"CATEGORIES:{escape(team_name)}",
        "STATUS:CONFIRMED",
    ]
    if row.place:
        lines.append(f"LOCATION:{escape(row.place)}")
    if row.notes:
        lines.append(f"DESCRIPTION:{escape(row.notes)}")
    return [*lines, "END:VEVENT"]


def _milestone_lines(milestone: dict[str, Any], team_name: str, host: str) -> list[str]:
    due = dt.date.fromisoformat(str(milestone["end_date"]))
    changed = dt.datetime.fromisoformat(str(milestone["updated_at"]))
    return [
        "BEGIN:VEVENT",
        f"UID:milestone-{int(milestone['id'])}@{host}",
        f"DTSTAMP:{utc_stamp(_stamp(changed))}",
        f"DTSTART;VALUE=DATE:{due:%Y%m%d}",
        f"DTEND;VALUE=DATE:{due + dt.timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{escape('Deadline: ' + str(milestone['title']))}",
        f"CATEGORIES:{escape(team_name)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


async def build(*, db: Database, peers: Peers, row: Any, host: str) -> Feed:
    """The feed of the row's user, with its ETag and Last-Modified (remembered when the body changed)."""
    facts = await _calendar_of(peers, int(row.user_id))
    names = {int(team["id"]): str(team["name"]) for team in facts.get("teams", [])}
    rows: list[Any] = (
        await db.fetch_all(
            sa.select(meetings)
            .where(
                meetings.c.team_id.in_(sorted(names)),
                meetings.c.status == "booked",
                meetings.c.ends_at > utcnow() - PAST,
            )
            .order_by(meetings.c.starts_at, meetings.c.id)
        )
        if names
        else []
    )
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    lines.append("X-WR-CALNAME:TeamMoa")
    for meeting in rows:
        lines += _meeting_lines(meeting, names.get(int(meeting.team_id), ""))
    for milestone in facts.get("milestones", []):
        if int(milestone["team_id"]) in names:
            lines += _milestone_lines(milestone, names[int(milestone["team_id"])], host)
    lines.append("END:VCALENDAR")
    body = "".join(fold(line) + "\r\n" for line in lines)
    etag = hashlib.sha256(body.encode()).hexdigest()
    changed = row.changed_at
    if row.etag != etag or changed is None:
        changed = utcnow().replace(microsecond=0)
        await db.execute(
            calendar_feeds.update()
            .where(calendar_feeds.c.user_id == row.user_id, calendar_feeds.c.token_hash == row.token_hash)
            .values(etag=etag, changed_at=changed)
        )
    return Feed(body=body, etag=etag, last_modified=changed.replace(microsecond=0))
