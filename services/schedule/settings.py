"""The schedule service's configuration: the kit's settings (schedule reads no variable of its own yet;
a new ``TEAMMOA_*`` variable of this service goes here)."""

from __future__ import annotations

from collections.abc import Mapping

from services.kit.settings import Settings


class ScheduleSettings(Settings):
    """What every service reads; nothing more so far."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("schedule", environ)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None) -> ScheduleSettings:
        return cls(environ)
