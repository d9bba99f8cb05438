"""Dates, weeks and instants in a team's time zone.

Availability is kept by local date and wall-clock slot, so every date has 48 slots whatever the
daylight-saving rules do. Turning a slot into an instant resolves it the way a wall clock would: a
time skipped by a spring-forward change maps to the first instant after the gap (and is never
suggested, see ``missing_slots``); a time repeated by a fall-back change means its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .slots import SLOT_MINUTES, SLOTS_PER_DAY

WEEK_DAYS = 7
MAX_RANGE_DAYS = 62  # the team view and suggestions cover at most about two months
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
UTC = dt.UTC
FIRST_YEAR, LAST_YEAR = 1970, 2999  # far from date.min/max, so range arithmetic never overflows


class RangeError(ValueError):
    """A date, week or range the API cannot serve."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone a team lives in; an unknown name falls back to UTC rather than failing."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_date(text: str, field: str) -> dt.date:
    """Read a ``YYYY-MM-DD`` date."""
    if not _ISO_DATE.match(text.strip()):
        raise RangeError(field, f"{field} must be a date like 2026-11-30.")
    try:
        value = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise RangeError(field, f"{text.strip()} is not a calendar date.") from None
    return within_years(value, field)


def within_years(value: dt.date, field: str) -> dt.date:
    """Refuse dates outside the years a calendar can sensibly plan for."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise RangeError(field, f"{field} must fall between {FIRST_YEAR} and {LAST_YEAR}.")
    return value


def parse_week(text: str) -> dt.date:
    """Read a week as its first date (``YYYY-MM-DD``) or as an ISO week (``YYYY-Www``, from Monday)."""
    text = text.strip()
    if found := _ISO_WEEK.match(text):
        try:
            monday = dt.date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
        except ValueError:
            raise RangeError("week", f"{text} is not an ISO week.") from None
        return within_years(monday, "week")
    if _ISO_DATE.match(text):
        return parse_date(text, "week")
    raise RangeError("week", "week must be a date like 2026-11-30 or an ISO week like 2026-W49.")


def week_dates(start: dt.date) -> list[dt.date]:
    """The seven dates of the week beginning at ``start``."""
    return [start + dt.timedelta(days=n) for n in range(WEEK_DAYS)]


def today(zone: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the zone."""
    return (now or dt.datetime.now(UTC)).astimezone(zone).date()


def monday_of(day: dt.date) -> dt.date:
    """The Monday starting the week of ``day``."""
    return day - dt.timedelta(days=day.weekday())


def date_range(
    start: dt.date | None, end: dt.date | None, *, zone: ZoneInfo, now: dt.datetime | None = None
) -> list[dt.date]:
    """The dates from start to end inclusive (the current week when neither is given)."""
    if start is None:
        if end is None:
            return week_dates(monday_of(today(zone, now)))
        start = end - dt.timedelta(days=WEEK_DAYS - 1)
    elif end is None:
        end = start + dt.timedelta(days=WEEK_DAYS - 1)
    if end < start:
        raise RangeError("end", "end must not be before start.")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise RangeError("end", f"The range covers {days} days; at most {MAX_RANGE_DAYS} are allowed.")
    return [start + dt.timedelta(days=n) for n in range(days)]


def slot_start(day: dt.date, boundary: int, zone: ZoneInfo) -> dt.datetime:
    """The instant slot boundary ``boundary`` (0–48) of a local date begins, in the zone.

    A wall time skipped by a spring-forward change resolves to the first instant after the gap, so
    instants never go backwards along a day.
    """
    while True:
        local = day + dt.timedelta(days=boundary // SLOTS_PER_DAY)
        minutes = (boundary % SLOTS_PER_DAY) * SLOT_MINUTES
        wall = dt.datetime(local.year, local.month, local.day, minutes // 60, minutes % 60)
        instant = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
        if instant.replace(tzinfo=None) == wall:
            return instant
        boundary += 1  # inside a gap: gaps last an hour or two, so this ends quickly


def missing_slots(day: dt.date, zone: ZoneInfo) -> list[int]:
    """The slots of a local date that do not exist (skipped by a spring-forward change)."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
    if midnight.utcoffset() == (midnight + dt.timedelta(days=1)).utcoffset():
        return []  # no change of offset on this date
    missing = []
    for slot in range(SLOTS_PER_DAY):
        minutes = slot * SLOT_MINUTES
        wall = dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
        if wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
            missing.append(slot)
    return missing


def parse_instant(text: str, field: str, zone: ZoneInfo) -> dt.datetime:
    """Read an ISO 8601 date-time; one without an offset is taken in the team's zone."""
    text = text.strip().replace(" ", "+") if "T" in text else text.strip()  # an unescaped '+' arrives as ' '
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RangeError(field, f"{field} must be an ISO 8601 date-time like 2026-11-30T09:00:00+09:00.") from None
    within_years(value.date(), field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)
