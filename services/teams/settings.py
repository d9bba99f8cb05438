"""The teams service's configuration: the kit's settings plus every ``TEAMMOA_*`` variable only teams reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.kit.settings import Settings

from .files import DEFAULT_TEAM_QUOTA_BYTES


class TeamsSettings(Settings):
    """Where uploaded files live and how much a team may store, on top of what every service reads."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("teams", environ)
        # Shared by every teams instance (a volume in compose, a PersistentVolumeClaim in Kubernetes).
        self.files_dir: Path = Path(self.get("TEAMMOA_FILES_DIR", default=str(self.data_dir / "files"))).absolute()
        quota_mb = self.get("TEAMMOA_TEAM_STORAGE_QUOTA_MB", cast=int, default=DEFAULT_TEAM_QUOTA_BYTES // (1024 * 1024))
        self.storage_quota_bytes: int = quota_mb * 1024 * 1024  # uploads per team

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None) -> TeamsSettings:
        return cls(environ)
