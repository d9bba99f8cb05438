"""Meeting invitations in the outbox, read back with the ``icalendar`` package: REQUEST on booking and on
every change (SEQUENCE rising, one UID), CANCEL on cancelling, UTC times right across daylight-saving
changes in two zones, no control characters."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from services.schedule.invitations import Person, document

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _invitations(data_dir: str) -> list[tuple[Message, str, icalendar.Calendar]]:
    """Every mail of the outbox that carries a calendar part: (mail, raw .ics, parsed), oldest first."""
    found = []
    for path in sorted((Path(data_dir) / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                raw = part.get_payload(decode=True).decode()
                found.append((message, raw, icalendar.Calendar.from_ical(raw)))
    return found


def _event(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


def _check_wellformed(raw: str, calendar: icalendar.Calendar) -> None:
    assert not CONTROL.search(raw.replace("\r\n", ""))
    assert all(len(line.encode()) <= 75 for line in raw.split("\r\n"))
    again = icalendar.Calendar.from_ical(calendar.to_ical())
    assert again == calendar  # round-trips
    assert _event(again)["UID"] == _event(calendar)["UID"]


def test_booking_mails_every_member_a_request_with_organizer_and_attendees(client, environ, signup, make_team):
    alice, bob = signup("alice", nickname='Al "the" host'), signup("bob")
    team = make_team(alice, bob, time_zone="Asia/Seoul")
    body = {"title": "Plan; review, ok", "start": "2027-03-08T10:00:00", "duration_minutes": 45, "place": "Room 3"}
    r = client.post(f"{team.api}/meetings/", headers=alice.headers, json=body | {"notes": "Line one\nline two\x07"})
    assert r.status_code == 201, r.text
    mails = _invitations(environ["TEAMMOA_DATA_DIR"])
    assert sorted(m["To"] for m, _, _ in mails) == ["alice@example.com", "bob@example.com"]
    message, _, calendar = mails[0]
    assert message["Subject"] == "Invitation: Plan; review, ok"
    assert calendar["METHOD"] == "REQUEST"
    event = _event(calendar)
    assert str(event["UID"]) == r.json()["uid"] and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == dt.datetime(2027, 3, 8, 1, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=45)
    assert str(event["SUMMARY"]) == "Plan; review, ok" and str(event["LOCATION"]) == "Room 3"
    assert str(event["DESCRIPTION"]) == "Line one\nline two"
    assert str(event["ORGANIZER"]) == "mailto:alice@example.com"
    assert event["ORGANIZER"].params["CN"] == "Al the host"
    attendees = sorted(str(a) for a in event["ATTENDEE"])
    assert attendees == ["mailto:alice@example.com", "mailto:bob@example.com"]
    assert str(event["STATUS"]) == "CONFIRMED"
    for _, raw_ics, parsed in mails:
        _check_wellformed(raw_ics, parsed)
    text = message.get_body(("plain",)).get_content()
    assert text.startswith('Al "the" host invites you to Plan; review, ok.')
    assert "When: Mon 08 Mar 2027 10:00–10:45 (Asia/Seoul, UTC+0900)" in text and "Answer in TeamMoa" in text


def test_a_proposal_mails_nobody_until_confirmed_then_changes_and_cancel(client, environ, signup, make_team):
    alice, bob = signup("alice"), signup("bob")
    team = make_team(alice, bob)
    proposal = client.post(
        f"{team.api}/meetings/", headers=bob.headers, json={"title": "Retro", "start": "2027-03-09T15:00:00"}
    ).json()
    assert _invitations(environ["TEAMMOA_DATA_DIR"]) == []
    base = f"{team.api}/meetings/{proposal['id']}"
    assert client.post(f"{base}/confirm/", headers=alice.headers).status_code == 200
    assert client.patch(f"{base}/", headers=alice.headers, json={"start": "2027-03-09T16:00:00"}).status_code == 200
    assert client.post(f"{base}/cancel/", headers=alice.headers).status_code == 200
    to_bob = [(raw, c) for m, raw, c in _invitations(environ["TEAMMOA_DATA_DIR"]) if m["To"] == "bob@example.com"]
    assert [str(c["METHOD"]) for _, c in to_bob] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [_event(c) for _, c in to_bob]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [1, 2, 3]  # rising on every change
    assert [e.decoded("DTSTART").hour for e in events] == [6, 7, 7]  # 15:00 then 16:00 in Seoul, in UTC
    assert str(events[-1]["STATUS"]) == "CANCELLED"
    assert str(events[-1]["ORGANIZER"]) == "mailto:alice@example.com"
    for raw, parsed in to_bob:
        _check_wellformed(raw, parsed)


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # New York leaves EST (UTC−5) for EDT (UTC−4) on Sunday 2027-03-14.
        ("America/New_York", dt.datetime(2027, 3, 12, 14, 0, tzinfo=dt.UTC), dt.datetime(2027, 3, 16, 13, 0, tzinfo=dt.UTC)),
        # Berlin leaves CET (UTC+1) for CEST (UTC+2) on Sunday 2027-03-28.
        ("Europe/Berlin", dt.datetime(2027, 3, 26, 8, 0, tzinfo=dt.UTC), dt.datetime(2027, 3, 30, 7, 0, tzinfo=dt.UTC)),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_a_dst_change_in_the_week(
    client, environ, signup, make_team, zone, before, after
):
    alice = signup("alice")
    team = make_team(alice, time_zone=zone)
    local = [before.astimezone(ZoneInfo(zone)), after.astimezone(ZoneInfo(zone))]
    assert [t.hour for t in local] == [9, 9]  # the same wall time, an hour apart in UTC
    for day in local:
        start = day.replace(tzinfo=None).isoformat()
        assert (
            client.post(
                f"{team.api}/meetings/", headers=alice.headers, json={"title": "Standup", "start": start}
            ).status_code
            == 201
        )
    starts = [_event(c).decoded("DTSTART") for _, _, c in _invitations(environ["TEAMMOA_DATA_DIR"])]
    assert starts == [before, after]
    assert all(s.tzinfo is not None and s.utcoffset() == dt.timedelta(0) for s in starts)


def test_the_document_drops_control_characters_and_round_trips():
    class Row:
        id, team_id, uid, sequence, status = 1, 1, "meeting-x@teammoa", 4, "booked"
        title, place, notes, time_zone = "Bad\x00title\u2028here", "Room\x1b 1", "a\r\nb\x7f", "Asia/Seoul"
        starts_at, ends_at = dt.datetime(2027, 1, 1, 1, 0), dt.datetime(2027, 1, 1, 2, 0)

    raw = document(
        method="REQUEST",
        meeting=Row,
        organizer=Person(1, "a@example.com", 'A "x";\x01'),
        attendees=[Person(2, "b@example.com", "Bé, ünïcode " * 8)],
    )
    calendar = icalendar.Calendar.from_ical(raw)
    _check_wellformed(raw, calendar)
    event = _event(calendar)
    assert str(event["SUMMARY"]) == "Badtitlehere" and str(event["LOCATION"]) == "Room 1"
    assert str(event["DESCRIPTION"]) == "a\nb"
    assert event["ORGANIZER"].params["CN"] == "A x;"
    assert event["ATTENDEE"].params["CN"] == ("Bé, ünïcode " * 8)
