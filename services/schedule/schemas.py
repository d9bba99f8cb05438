"""Request models of the schedule API (responses are built in ``mine.py`` and ``planning.py``)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, StrictInt, ValidationInfo, field_validator

from services.kit.validation import Schema

from .slots import SLOTS_PER_DAY
from .timeline import RangeError, parse_date

MAX_DURATION_MINUTES = 24 * 60
MAX_SUGGESTIONS = 50


def _date(value: object, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a date like 2026-11-30.")
    try:
        return parse_date(value, field)
    except RangeError as exc:
        raise ValueError(str(exc)) from None


class Query(Schema):
    model_config = Schema.model_config | {"extra": "ignore"}  # tolerate cache busters and the like


class WeekQuery(Query):
    week: str | None = Field(None, max_length=20, description="YYYY-MM-DD (first day) or YYYY-Www")


class WeekBody(Schema):
    week_start: dt.date
    slots: dict[str, list[StrictInt]] = Field(default_factory=dict, max_length=7)

    @field_validator("week_start", mode="before")
    @classmethod
    def _week_start(cls, value: object) -> dt.date | None:
        day = _date(value, "week_start")
        if day is None:
            raise ValueError("week_start must be a date like 2026-11-30.")
        return day

    @field_validator("slots")
    @classmethod
    def _slots(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        for key, slots in value.items():
            _date(key, f"The key {key!r}")
            if len(slots) > SLOTS_PER_DAY:
                raise ValueError(f"{key} lists more than {SLOTS_PER_DAY} slots.")
            for slot in slots:
                if not 0 <= slot < SLOTS_PER_DAY:
                    raise ValueError(f"Slot {slot} on {key} is out of range (0–{SLOTS_PER_DAY - 1}).")
        return value

    def days(self) -> dict[dt.date, list[int]]:
        return {dt.date.fromisoformat(key): slots for key, slots in self.slots.items()}


class RangeQuery(Query):
    start: dt.date | None = Field(None, description="first date, YYYY-MM-DD (default: this week's Monday)")
    end: dt.date | None = Field(None, description="last date, inclusive (at most 62 days in all)")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates(cls, value: object, info: ValidationInfo) -> dt.date | None:
        return _date(value, info.field_name or "date")


class SuggestionQuery(RangeQuery):
    duration_minutes: int = Field(60, ge=30, le=MAX_DURATION_MINUTES, multiple_of=30)
    min_attendance: int = Field(1, ge=1, le=1000, description="members who must be free for the whole window")
    limit: int = Field(10, ge=1, le=MAX_SUGGESTIONS)


class IcsQuery(Query):
    start: str = Field(..., max_length=40, description="ISO 8601 date-time; without an offset, the team's zone")
    end: str = Field(..., max_length=40)
    title: str | None = Field(None, max_length=100)


MIN_MEETING_MINUTES = 15
MAX_MEETING_MINUTES = 12 * 60
ANSWERS = ("going", "maybe", "not_going")


class MeetingBody(Schema):
    """Book (host) or propose (member) a meeting."""

    title: str = Field(..., min_length=1, max_length=100)
    start: str = Field(..., max_length=40, description="ISO 8601 date-time; without an offset, the team's zone")
    duration_minutes: int = Field(60, ge=MIN_MEETING_MINUTES, le=MAX_MEETING_MINUTES)
    place: str = Field("", max_length=300, description="a room or a video link")
    notes: str = Field("", max_length=2000)


class MeetingChange(Schema):
    """Change a meeting: only the fields given."""

    title: str | None = Field(None, min_length=1, max_length=100)
    start: str | None = Field(None, max_length=40)
    duration_minutes: int | None = Field(None, ge=MIN_MEETING_MINUTES, le=MAX_MEETING_MINUTES)
    place: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=2000)


class AnswerBody(Schema):
    answer: str = Field(..., description="going | maybe | not_going")

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str) -> str:
        if value not in ANSWERS:
            raise ValueError("answer must be going, maybe or not_going.")
        return value


class ConflictQuery(Query):
    start: str = Field(..., max_length=40, description="ISO 8601 date-time; without an offset, the team's zone")
    duration_minutes: int = Field(60, ge=MIN_MEETING_MINUTES, le=MAX_MEETING_MINUTES)


class ReminderBody(Schema):
    reminder_minutes: int = Field(..., description="0 (none), 60 (1 hour) or 1440 (1 day) before the start")
