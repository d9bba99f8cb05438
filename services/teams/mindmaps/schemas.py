"""Request models of the mind-map API (limits from docs/spec.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt, field_validator

from services.kit.validation import Schema

CANVAS_MIN, CANVAS_MAX = 0, 10_000  # positions are clamped to the canvas, never refused
DEFAULT_COLOR = "#fde68a"
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
TITLE_MAX = 64
CONTENT_MAX = 2000
COMMENT_MAX = 1000


def _clamp(value: object) -> object:
    """Round a finite number and clamp it to the canvas; anything else is left for pydantic to refuse."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if not isinstance(value, int | float):
        return value
    if value != value or value in (float("inf"), float("-inf")):
        return value
    return int(min(max(round(value), CANVAS_MIN), CANVAS_MAX))


Coordinate = Annotated[int, BeforeValidator(_clamp)]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Color = Annotated[str, Field(pattern=COLOR_PATTERN)]


class MindMapIn(Schema):
    title: Title


class NodeIn(Schema):
    title: Title
    content: str = Field("", max_length=CONTENT_MAX)
    x: Coordinate = CANVAS_MAX // 2
    y: Coordinate = CANVAS_MAX // 2
    color: Color = DEFAULT_COLOR


class NodeUpdate(Schema):
    """A partial edit; ``version`` (optional) must be the node's current one, or the edit is refused."""

    title: Title | None = None
    content: str | None = Field(None, max_length=CONTENT_MAX)
    x: Coordinate | None = None
    y: Coordinate | None = None
    color: Color | None = None
    version: StrictInt | None = Field(None, ge=0, le=2**31 - 1)

    @field_validator("title", "content", "x", "y", "color", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class LinkIn(Schema):
    source_id: StrictInt = Field(ge=1, le=2**62)
    target_id: StrictInt = Field(ge=1, le=2**62)


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
