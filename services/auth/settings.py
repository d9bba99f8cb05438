"""The auth service's configuration: the kit's settings plus every ``TEAMMOA_*`` variable only auth reads."""

from __future__ import annotations

from collections.abc import Mapping

from services.kit.settings import Settings


class AuthSettings(Settings):
    """The development outbox and the reset-mail interval, on top of what every service reads (mail
    delivery itself, shared with schedule, is in the kit's settings)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("auth", environ)
        # At most one password-reset mail per address in this many seconds.
        self.reset_interval_s: float = self.get("TEAMMOA_RESET_INTERVAL_S", cast=float, default=60.0)
        # The development outbox page (always on in embedded mode; a staging stack may turn it on).
        self.dev_outbox: bool = self.embedded or self.get("TEAMMOA_DEV_OUTBOX", cast=bool, default=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None) -> AuthSettings:
        return cls(environ)
