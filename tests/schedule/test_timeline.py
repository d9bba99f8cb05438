"""Weeks, ranges and instants in a team's zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.schedule.aggregate import team_view
from services.schedule.slots import FULL_DAY, SLOTS_PER_DAY
from services.schedule.suggest import suggest
from services.schedule.timeline import (
    RangeError,
    date_range,
    missing_slots,
    parse_instant,
    parse_week,
    slot_start,
    week_dates,
    zone_of,
)

ZONES = ["America/New_York", "Europe/Berlin", "Asia/Seoul", "Australia/Lord_Howe", "UTC", "America/Santiago"]


@given(st.sampled_from(ZONES), st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
@example("America/New_York", dt.date(2026, 3, 8))
@example("America/New_York", dt.date(2026, 11, 1))
@example("America/Santiago", dt.date(2026, 9, 6))  # the change happens at midnight
@example("Australia/Lord_Howe", dt.date(2026, 10, 4))  # a half-hour change
@example("Europe/Berlin", dt.date(2026, 10, 25))
def test_every_local_date_has_48_slots_whose_instants_never_go_backwards(zone_name, day):
    zone = zone_of(zone_name)
    starts = [slot_start(day, k, zone) for k in range(SLOTS_PER_DAY + 1)]
    instants = [s.astimezone(dt.UTC) for s in starts]  # same-zone comparisons would use wall clocks
    assert all(a <= b for a, b in itertools.pairwise(instants))
    assert instants[-1] == slot_start(day + dt.timedelta(days=1), 0, zone).astimezone(dt.UTC)
    missing = set(missing_slots(day, zone))
    for k in range(SLOTS_PER_DAY):
        wall = starts[k].replace(tzinfo=None)
        if k in missing:
            assert wall > dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=30 * k)  # after the gap
        else:
            assert (wall.date(), wall.hour * 2 + wall.minute // 30) == (day, k)


def test_a_new_york_week_across_the_spring_change_keeps_48_slots_a_day_and_shifts_the_offset():
    zone = zone_of("America/New_York")
    dates = date_range(dt.date(2026, 3, 5), dt.date(2026, 3, 11), zone=zone)
    everyone_free = {1: dict.fromkeys(dates, FULL_DAY), 2: dict.fromkeys(dates, FULL_DAY)}
    days = team_view(dates=dates, members=[1, 2], masks=everyone_free)
    assert [len(d.slots) for d in days] == [48] * 7
    assert slot_start(dt.date(2026, 3, 6), 18, zone).isoformat() == "2026-03-06T09:00:00-05:00"
    assert slot_start(dt.date(2026, 3, 9), 18, zone).isoformat() == "2026-03-09T09:00:00-04:00"
    assert missing_slots(dt.date(2026, 3, 8), zone) == [4, 5]  # 02:00–03:00 does not exist that night
    assert slot_start(dt.date(2026, 3, 8), 4, zone).isoformat() == "2026-03-08T03:00:00-04:00"  # after the gap


def test_a_berlin_week_across_the_autumn_change_has_48_slots_and_a_25_hour_sunday():
    zone = zone_of("Europe/Berlin")
    sunday = dt.date(2026, 10, 25)
    assert week_dates(dt.date(2026, 10, 19))[-1] == sunday
    assert missing_slots(sunday, zone) == []
    assert slot_start(sunday, 0, zone).isoformat() == "2026-10-25T00:00:00+02:00"
    assert slot_start(sunday, 47, zone).isoformat() == "2026-10-25T23:30:00+01:00"
    length = slot_start(sunday, 48, zone).astimezone(dt.UTC) - slot_start(sunday, 0, zone).astimezone(dt.UTC)
    assert length == dt.timedelta(hours=25)


def test_suggestions_skip_the_hour_a_spring_change_removes():
    zone = zone_of("Europe/Berlin")
    sunday = dt.date(2026, 3, 29)
    closed = {sunday: missing_slots(sunday, zone)}
    masks = {1: {sunday: 0b1111_1100}, 2: {sunday: 0b1111_1100}}  # 01:00–04:00 wall clock
    windows = suggest(dates=[sunday], members=[1, 2], masks=masks, length=2, closed=closed, limit=5)
    assert [w.start for w in windows] == [2, 6]  # 01:00–02:00 and 03:00–04:00; 02:00–03:00 never happened


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-11-30", dt.date(2026, 11, 30)),
        ("2026-W49", dt.date(2026, 11, 30)),
        ("2026W01", dt.date(2025, 12, 29)),
        ("2026-12-02", dt.date(2026, 12, 2)),
    ],
)
def test_a_week_is_read_as_a_start_date_or_an_iso_week(text, monday):
    assert parse_week(text) == monday


@pytest.mark.parametrize(
    "text", ["2026/11/30", "30-11-2026", "2026-13-01", "2026-W54", "next week", "", "2026-02-30", "9999-12-31"]
)
def test_an_unknown_week_format_is_refused(text):
    with pytest.raises(RangeError):
        parse_week(text)


def test_a_range_is_at_most_62_days_and_never_ends_before_it_starts():
    zone = zone_of("UTC")
    assert len(date_range(dt.date(2026, 1, 1), dt.date(2026, 3, 3), zone=zone)) == 62
    with pytest.raises(RangeError, match="63 days"):
        date_range(dt.date(2026, 1, 1), dt.date(2026, 3, 4), zone=zone)
    with pytest.raises(RangeError, match="before start"):
        date_range(dt.date(2026, 1, 2), dt.date(2026, 1, 1), zone=zone)


def test_without_a_range_the_current_week_in_the_team_zone_is_used():
    late_sunday_utc = dt.datetime(2026, 11, 29, 20, 0, tzinfo=dt.UTC)  # already Monday in Seoul
    assert date_range(None, None, zone=zone_of("Asia/Seoul"), now=late_sunday_utc)[0] == dt.date(2026, 11, 30)
    assert date_range(None, None, zone=zone_of("UTC"), now=late_sunday_utc)[0] == dt.date(2026, 11, 23)


def test_an_instant_without_offset_is_taken_in_the_team_zone_and_a_lost_plus_sign_is_restored():
    zone = zone_of("Asia/Seoul")
    expected = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
    assert parse_instant("2026-11-30T09:00:00", "start", zone) == expected
    assert parse_instant("2026-11-30T09:00:00 09:00", "start", zone) == expected
    assert parse_instant("2026-11-30T00:00:00Z", "start", zone) == expected
    with pytest.raises(RangeError):
        parse_instant("tomorrow", "start", zone)
