"""Meeting invitations: an iCalendar ``REQUEST`` (or ``CANCEL``) mailed to every member.

One ``UID`` per meeting for its whole life and a ``SEQUENCE`` that rises on every change, so calendar
apps update one entry. Times are UTC (``…Z``), which no daylight-saving change can shift; the team's
zone is named in the text. Text values are escaped and stripped of control characters (``ics.escape``);
parameter values (names) are quoted and lose the characters a quoted value cannot hold.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from services.kit.errors import AppError, Unavailable
from services.kit.mail import Mailer
from services.kit.peers import Peers

from .ics import PRODID, escape, fold, plain, utc_stamp
from .timeline import zone_of

log = logging.getLogger("teammoa.schedule.invitations")
WORDS = {"REQUEST": ("Invitation", "invites you to"), "CANCEL": ("Cancelled", "cancelled")}


@dataclass(frozen=True, slots=True)
class Person:
    user_id: int
    email: str
    name: str


def _param(value: str) -> str:
    """A quoted parameter value: no control characters, no double quotes (RFC 5545 §3.1)."""
    return '"' + plain(value).replace('"', "") + '"'


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def document(
    *, method: str, meeting: Any, organizer: Person, attendees: list[Person], stamp: dt.datetime | None = None
) -> str:
    """The VCALENDAR of one meeting for a method (REQUEST or CANCEL)."""
    cancelled = method == "CANCEL" or meeting.status == "cancelled"
    description = meeting.notes or ""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{escape(meeting.uid)}",
        f"SEQUENCE:{int(meeting.sequence)}",
        f"DTSTAMP:{utc_stamp(stamp or dt.datetime.now(dt.UTC))}",
        f"DTSTART:{utc_stamp(_utc(meeting.starts_at))}",
        f"DTEND:{utc_stamp(_utc(meeting.ends_at))}",
        f"SUMMARY:{escape(meeting.title)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"ORGANIZER;CN={_param(organizer.name)}:mailto:{organizer.email}",
    ]
    if meeting.place:
        lines.append(f"LOCATION:{escape(meeting.place)}")
    if description:
        lines.append(f"DESCRIPTION:{escape(description)}")
    for person in attendees:
        lines.append(
            f"ATTENDEE;CN={_param(person.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{person.email}"
        )
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def mail_text(*, method: str, meeting: Any, organizer: Person, site: str, team_id: int) -> tuple[str, str]:
    """Subject and text of the mail that carries the invitation."""
    label, verb = WORDS[method]
    if method == "REQUEST" and int(meeting.sequence) > 0:
        label, verb = "Updated invitation", "changed"
    zone = zone_of(meeting.time_zone)
    start = _utc(meeting.starts_at).astimezone(zone)
    end = _utc(meeting.ends_at).astimezone(zone)
    title = plain(meeting.title)
    lines = [
        f"{plain(organizer.name)} {verb} {title}.",
        "",
        f"When: {start:%a %d %b %Y %H:%M}–{end:%H:%M} ({meeting.time_zone}, UTC{start:%z})",
    ]
    if meeting.place:
        lines.append(f"Where: {plain(meeting.place)}")
    if meeting.notes and method == "REQUEST":
        lines += ["", plain(meeting.notes).replace("\r", "")]
    lines += ["", f"Answer in TeamMoa: {site}/teams/{team_id}/schedule"]
    return f"{label}: {title}", "\n".join(lines) + "\n"


async def contacts(peers: Peers, user_ids: list[int]) -> dict[int, Person]:
    """Mail addresses and names of users, asked of auth (a failing auth service sends nothing)."""
    if not user_ids:
        return {}
    try:
        response = await peers.request("auth", "POST", "/internal/users/contacts", json={"ids": sorted(set(user_ids))})
        if response.status_code != 200:
            raise Unavailable("The auth service failed.")
    except AppError as exc:
        log.warning("invitation contacts unavailable: %s", exc.message)
        return {}
    return {
        int(u["id"]): Person(int(u["id"]), str(u["email"]), str(u.get("nickname") or u["email"]))
        for u in response.json().get("users", [])
    }


async def send(
    *, mailer: Mailer, peers: Peers, site: str, method: str, meeting: Any, organizer_id: int, attendee_ids: list[int]
) -> int:
    """Mail the meeting's invitation (or cancellation) to each attendee; returns the number of mails."""
    people = await contacts(peers, [organizer_id, *attendee_ids])
    organizer = people.get(organizer_id)
    if organizer is None:
        log.warning("meeting %s: the organizer has no address; no invitation sent", meeting.id)
        return 0
    attendees = [people[uid] for uid in sorted(set(attendee_ids)) if uid in people]
    text = document(method=method, meeting=meeting, organizer=organizer, attendees=attendees)
    subject, body = mail_text(method=method, meeting=meeting, organizer=organizer, site=site, team_id=int(meeting.team_id))
    for person in attendees:
        await mailer.send(to=person.email, subject=subject, text=body, calendar=(method, text))
    return len(attendees)
