"""The auth service's configuration: the kit's settings plus every ``TEAMMOA_*`` variable only auth reads."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Secret

from services.kit.settings import Settings


class AuthSettings(Settings):
    """Mail delivery and the development outbox, on top of what every service reads."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("auth", environ)
        self.mail_from: str = self.get("TEAMMOA_MAIL_FROM", default="TeamMoa <no-reply@teammoa.local>")
        self.smtp_host: str = self.get("TEAMMOA_SMTP_HOST", default="")  # empty: mail goes to the outbox
        self.smtp_port: int = self.get("TEAMMOA_SMTP_PORT", cast=int, default=587)
        self.smtp_user: str = self.get("TEAMMOA_SMTP_USER", default="")
        # A Secret: its repr and its place in logs and tracebacks show "**********", never the password.
        self.smtp_password: Secret = Secret(self.get("TEAMMOA_SMTP_PASSWORD", default=""))
        # At most one password-reset mail per address in this many seconds.
        self.reset_interval_s: float = self.get("TEAMMOA_RESET_INTERVAL_S", cast=float, default=60.0)
        # The development outbox page (always on in embedded mode; a staging stack may turn it on).
        self.dev_outbox: bool = self.embedded or self.get("TEAMMOA_DEV_OUTBOX", cast=bool, default=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None) -> AuthSettings:
        return cls(environ)
