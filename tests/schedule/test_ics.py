"""The iCalendar file: one VEVENT, CRLF lines of at most 75 octets, UTC times, escaped text."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.schedule.ics import calendar, event_uid, fold

START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
END = START + dt.timedelta(hours=1)


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_the_calendar_has_one_event_with_utc_times_uid_and_stamp():
    text = calendar(
        uid="abc@teammoa",
        start=START,
        end=END,
        summary="Moa; team, meeting",
        stamp=dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=dt.UTC),
    )
    lines = _unfold(text)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert "VERSION:2.0" in lines and "UID:abc@teammoa" in lines and "DTSTAMP:20261127T010203Z" in lines
    assert "DTSTART:20261130T000000Z" in lines and "DTEND:20261130T010000Z" in lines
    assert "SUMMARY:Moa\\; team\\, meeting" in lines


@given(st.text(min_size=0, max_size=300))
def test_long_lines_are_folded_to_75_octets_and_unfold_to_the_original(summary):
    line = "SUMMARY:" + summary.replace("\r", "").replace("\n", "")
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_the_uid_is_stable_for_the_same_window_and_differs_for_another():
    same = event_uid(team_id=1, start=START, end=END, host="example.org")
    assert same == event_uid(team_id=1, start=START.astimezone(dt.UTC), end=END, host="example.org")
    assert same != event_uid(team_id=2, start=START, end=END, host="example.org")
    assert same.endswith("@example.org")
