"""The teams service's configuration: the kit's settings plus every ``TEAMMOA_*`` variable only teams reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.kit.settings import Settings


class TeamsSettings(Settings):
    """Where uploaded files live, on top of what every service reads."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("teams", environ)
        # Shared by every teams instance (a volume in compose, a PersistentVolumeClaim in Kubernetes).
        self.files_dir: Path = Path(self.get("TEAMMOA_FILES_DIR", default=str(self.data_dir / "files"))).absolute()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None) -> TeamsSettings:
        return cls(environ)
