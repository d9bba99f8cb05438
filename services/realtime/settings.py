"""The realtime service's configuration: the kit's settings plus every ``TEAMMOA_*`` variable only realtime reads."""

from __future__ import annotations

from collections.abc import Mapping

from services.kit.settings import Settings

PRESENCE_TTL_S = 30.0  # a dead instance's connections leave the presence lists within this
OUTBOX_MAX_FRAMES = 1024  # per connection; a client this far behind is closed as too slow
SOCKETS_PER_USER = 32  # per instance: a user's tabs; more are refused (TEAMMOA_REALTIME_SOCKETS_PER_USER)
SUBSCRIBE_RATE_PER_S = 4.0  # per user, over all of their sockets: each subscribe may cost a lookup in teams
SUBSCRIBE_BURST = 64  # a user's tabs reconnecting at once resubscribe within this


class RealtimeSettings(Settings):
    """Presence expiry, the per-socket outbound queue, sockets and subscribes per user, beside every service's settings."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("realtime", environ)
        self.presence_ttl_s: float = self.get("TEAMMOA_PRESENCE_TTL_S", cast=float, default=PRESENCE_TTL_S)
        self.outbox_max: int = self.get("TEAMMOA_REALTIME_OUTBOX_MAX", cast=int, default=OUTBOX_MAX_FRAMES)
        self.sockets_per_user: int = self.get("TEAMMOA_REALTIME_SOCKETS_PER_USER", cast=int, default=SOCKETS_PER_USER)
        self.subscribe_rate: float = self.get("TEAMMOA_REALTIME_SUBSCRIBE_RATE", cast=float, default=SUBSCRIBE_RATE_PER_S)
        self.subscribe_burst: int = self.get("TEAMMOA_REALTIME_SUBSCRIBE_BURST", cast=int, default=SUBSCRIBE_BURST)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None) -> RealtimeSettings:
        return cls(environ)
