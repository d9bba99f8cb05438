"""Request models of the teams API (responses are plain dicts built next to the rules).

Partial updates (``*Update``) declare every field optional with a ``None`` default that is never
validated: an absent field stays unchanged, an explicit ``null`` is refused with the field named
(``Patch._not_null``), so ``changes()`` never holds a None.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints, ValidationInfo, field_validator

from services.kit.responses import MAX_PAGE_SIZE, PageQuery
from services.kit.validation import Schema

PRIORITIES = ("critical", "high", "medium", "low", "minimal")  # highest rank first
MAX_DESCRIPTION_CHARS = 500
MAX_MILESTONE_DESCRIPTION_CHARS = 2000
MAX_POST_BODY_CHARS = 20_000
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
EARLIEST_DATE = dt.date(2000, 1, 1)  # milestone dates: a team's plans, not the calendar's whole range
LATEST_DATE = dt.date(2100, 12, 31)
MAX_MILESTONE_DAYS = 10 * 366  # one milestone spans at most ten years


def _sane_date(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"Use a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.")
    return value


def check_span(start: dt.date, end: dt.date) -> str | None:
    """Why a milestone's dates cannot go together, or None."""
    if end < start:
        return "The end date must not be before the start date."
    if (end - start).days >= MAX_MILESTONE_DAYS:
        return f"A milestone spans at most {MAX_MILESTONE_DAYS} days."
    return None


MilestoneDate = Annotated[dt.date, AfterValidator(_sane_date)]


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(name: str) -> str:
    if name not in _known_zones():
        raise ValueError("Unknown time zone; use an IANA name such as Asia/Seoul or UTC.")
    return name


TeamName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_CHARS)]
JoinPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=4, max_length=128)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]
Capacity = Annotated[int, Field(ge=1, le=100)]


class Patch(Schema):
    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


class TeamCreate(Schema):
    name: TeamName
    description: Description = ""
    capacity: Capacity
    join_password: JoinPassword
    time_zone: TimeZone = "UTC"


class TeamUpdate(Patch):
    name: TeamName | None = None
    description: Description | None = None
    capacity: Capacity | None = None
    time_zone: TimeZone | None = None


class InvitePreview(Schema):
    invite_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Join(InvitePreview):
    password: Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=128)]


class PasswordChange(Schema):
    password: JoinPassword


class HostTransfer(Schema):
    user_id: Id


class MyTeamsQuery(PageQuery):
    pass


class MembersQuery(PageQuery):
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)  # a team holds at most 100 members


MilestoneTitle = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MilestoneDescription = Annotated[str, StringConstraints(max_length=MAX_MILESTONE_DESCRIPTION_CHARS)]
Priority = Literal["critical", "high", "medium", "low", "minimal"]
ProgressMode = Literal["auto", "manual"]
Percent = Annotated[int, Field(ge=0, le=100)]


class MilestoneCreate(Schema):
    title: MilestoneTitle
    description: MilestoneDescription = ""
    start_date: MilestoneDate
    end_date: MilestoneDate
    priority: Priority = "medium"
    progress_mode: ProgressMode = "auto"
    progress: Percent | None = None

    @field_validator("end_date")
    @classmethod
    def _not_before_start(cls, end: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start_date")
        if start is not None and (problem := check_span(start, end)):
            raise ValueError(problem)
        return end

    @field_validator("progress")
    @classmethod
    def _manual_only(cls, progress: int | None, info: ValidationInfo) -> int | None:
        if progress is not None and info.data.get("progress_mode") == "auto":
            raise ValueError("Progress is set by hand only in manual mode.")
        return progress


class MilestoneUpdate(Patch):
    title: MilestoneTitle | None = None
    description: MilestoneDescription | None = None
    start_date: MilestoneDate | None = None
    end_date: MilestoneDate | None = None
    priority: Priority | None = None
    progress_mode: ProgressMode | None = None
    progress: Percent | None = None


class MilestonesQuery(PageQuery):
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    order: Literal["priority", "start_date"] = "priority"


TodoContent = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TodoCreate(Schema):
    content: TodoContent
    milestone_id: Id | None = None


class TodoEdit(Schema):
    content: TodoContent


class TodoAssign(Schema):
    user_id: Id


class TodoComplete(Schema):
    completed: StrictBool


class TodoReorder(Schema):
    position: Annotated[int, Field(ge=0, le=1_000_000)]


class TodoMilestone(Schema):
    milestone_id: Id | None


class TodosQuery(PageQuery):
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    state: Literal["backlog", "assigned", "done"] | None = None
    assignee_id: Id | None = None
    milestone_id: Id | None = None


PostTitle = Annotated[str, StringConstraints(min_length=1, max_length=100)]
PostBody = Annotated[str, StringConstraints(max_length=MAX_POST_BODY_CHARS)]


class PostCreate(Schema):
    title: PostTitle
    body: PostBody = ""


class PostUpdate(Patch):
    title: PostTitle | None = None
    body: PostBody | None = None


class PostsQuery(PageQuery):
    q: Annotated[str, StringConstraints(max_length=100)] = ""
