"""Settings read once from ``TEAMMOA_*`` environment variables.

Embedded mode (the default) needs nothing installed: SQLite files under the data directory and an
in-memory broker. Production mode refuses to start with a default or missing secret.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from starlette.config import Config
from starlette.datastructures import CommaSeparatedStrings, Secret

EMBEDDED = "embedded"
PRODUCTION = "production"
DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"  # noqa: S105 - the refused default
SERVICES = ("auth", "teams", "schedule", "realtime")
SERVICES_WITH_DATABASE = ("auth", "teams", "schedule")  # realtime keeps everything in Redis


SettingsT = TypeVar("SettingsT", bound="Settings")


class ConfigurationError(RuntimeError):
    """The environment cannot run this service safely."""


class Settings:
    """One service's configuration, read once from the environment."""

    def __init__(self, service: str, environ: Mapping[str, str] | None = None) -> None:
        config = Config(environ=dict(os.environ if environ is None else environ))
        upper = service.upper()
        self.service = service
        self.mode = config("TEAMMOA_MODE", default=EMBEDDED)
        if self.mode not in (EMBEDDED, PRODUCTION):
            raise ConfigurationError(f"TEAMMOA_MODE must be {EMBEDDED} or {PRODUCTION}, not {self.mode!r}")
        self.data_dir = Path(config("TEAMMOA_DATA_DIR", default="var")).resolve()
        self.database_url: str = config(
            f"TEAMMOA_{upper}_DATABASE_URL", default=f"sqlite:///{self.data_dir / (service + '.db')}"
        )
        self.db_pool_max: int = config("TEAMMOA_DB_POOL_MAX", cast=int, default=10)
        self.auto_migrate: bool = config("TEAMMOA_AUTO_MIGRATE", cast=bool, default=self.embedded)
        self.redis_url: str = config("TEAMMOA_REDIS_URL", default="")
        self.redis_prefix: str = config("TEAMMOA_REDIS_PREFIX", default="teammoa:")
        self.service_token: Secret = Secret(config("TEAMMOA_SERVICE_TOKEN", default=DEV_SERVICE_TOKEN))
        self.site_url: str = config("TEAMMOA_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
        self.allowed_origins = list(config("TEAMMOA_ALLOWED_ORIGINS", cast=CommaSeparatedStrings, default=self.site_url))
        self.cookie_secure: bool = config("TEAMMOA_COOKIE_SECURE", cast=bool, default=not self.embedded)
        self.peer_urls = {name: config(f"TEAMMOA_{name.upper()}_URL", default=f"http://{name}:8000") for name in SERVICES}
        self.argon2_memory_kib: int = config("TEAMMOA_ARGON2_MEMORY_KIB", cast=int, default=19 * 1024)  # OWASP minimum
        self.argon2_time_cost: int = config("TEAMMOA_ARGON2_TIME_COST", cast=int, default=2)
        self.argon2_parallelism: int = config("TEAMMOA_ARGON2_PARALLELISM", cast=int, default=1)
        # Admission control (kit.admission): requests at work per process, how many may wait, how long.
        self.max_in_flight: int = config("TEAMMOA_MAX_IN_FLIGHT", cast=int, default=24)  # 0: no limit
        self.admission_queue: int = config("TEAMMOA_ADMISSION_QUEUE", cast=int, default=200)
        self.admission_wait_s: float = config("TEAMMOA_ADMISSION_WAIT_MS", cast=int, default=500) / 1000
        # The password hashes waiting for a core (kit.passwords): bounded the same way.
        self.hash_queue: int = config("TEAMMOA_HASH_QUEUE", cast=int, default=32)
        self.hash_wait_s: float = config("TEAMMOA_HASH_WAIT_MS", cast=int, default=1000) / 1000
        self.hash_threads: int = config("TEAMMOA_HASH_THREADS", cast=int, default=0)  # 0: half the cores
        self.health_interval_s: float = config("TEAMMOA_HEALTH_INTERVAL_MS", cast=int, default=1000) / 1000
        self.log_requests: bool = config("TEAMMOA_LOG_REQUESTS", cast=bool, default=True)
        # Addresses/networks of the proxies whose X-Forwarded-For counts (kit.clients); none by default.
        self.trusted_proxies = list(config("TEAMMOA_TRUSTED_PROXIES", cast=CommaSeparatedStrings, default=""))
        # Outgoing mail (kit.mail, used by auth and schedule): SMTP when a host is set, else the outbox.
        self.mail_from: str = config("TEAMMOA_MAIL_FROM", default="TeamMoa <no-reply@teammoa.local>")
        self.smtp_host: str = config("TEAMMOA_SMTP_HOST", default="")
        self.smtp_port: int = config("TEAMMOA_SMTP_PORT", cast=int, default=587)
        self.smtp_user: str = config("TEAMMOA_SMTP_USER", default="")
        # A Secret: its repr, and so any log or traceback that shows it, reads "**********".
        self.smtp_password: Secret = Secret(config("TEAMMOA_SMTP_PASSWORD", default=""))
        self._config = config

    @classmethod
    def from_environ(cls: type[SettingsT], environ: Mapping[str, str] | None) -> SettingsT:
        """A service's own settings class (``services/<svc>/settings.py``) builds itself from ``environ``."""
        raise NotImplementedError(f"{cls.__name__} names no service: use Settings(service, environ)")

    @property
    def embedded(self) -> bool:
        return self.mode == EMBEDDED

    def get(self, name: str, cast: Callable[[Any], Any] | None = None, default: Any = None) -> Any:
        """Read one more service-specific variable (only a service's own ``settings.py`` does)."""
        if cast is None:
            return self._config(name, default=default)
        return self._config(name, cast=cast, default=default)

    def environ(self) -> dict[str, str]:
        """Every variable this service was started with (for families of names such as TEAMMOA_OIDC_*)."""
        return dict(self._config.environ)

    def check(self) -> None:
        """Refuse to run production with a default or missing secret."""
        if self.mode != PRODUCTION:
            return
        token = str(self.service_token)
        if not token or token == DEV_SERVICE_TOKEN or len(token) < 32:
            raise ConfigurationError("TEAMMOA_SERVICE_TOKEN must be set to a random value of 32+ characters")
        if self.service in SERVICES_WITH_DATABASE and self.database_url.startswith("sqlite"):
            raise ConfigurationError(f"TEAMMOA_{self.service.upper()}_DATABASE_URL must name a MySQL database")
        if self.service == "realtime" and not self.redis_url:
            raise ConfigurationError("TEAMMOA_REDIS_URL is required: realtime instances share state through Redis")


def service_settings(cls: type[SettingsT], settings: Settings | None) -> SettingsT:
    """``settings`` as a service's own settings class ``cls``, read from the same environment.

    Each service keeps its own ``TEAMMOA_*`` variables in ``services/<svc>/settings.py``, a subclass of
    ``Settings``; callers that hold the kit's ``Settings`` (tests, the embedded gateway) pass it as it is.
    """
    if isinstance(settings, cls):
        return settings
    return cls.from_environ(None if settings is None else settings.environ())
