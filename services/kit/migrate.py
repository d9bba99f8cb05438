"""Migrate services' databases as a deploy step, apart from the instances that serve traffic.

    python -m services.kit.migrate auth teams schedule

Each service's own Alembic history (``services/<service>/migrations``) is applied to the database its
settings name (``TEAMMOA_<SERVICE>_DATABASE_URL``), creating the MySQL database when missing. Run it
once per deploy, before the new instances start (they run with ``TEAMMOA_AUTO_MIGRATE=false``), so
two web nodes never race to migrate during a rolling deploy. A service without migrations is
reported and skipped; an unknown name is an error. Exit status 0 only when every one succeeded.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .db import migrate
from .settings import Settings

SERVICES_ROOT = Path(__file__).resolve().parent.parent
WITH_DATABASE = ("auth", "teams", "schedule")


def migrate_service(service: str) -> str:
    """Bring one service's database to its newest revision; say what was done."""
    location = SERVICES_ROOT / service / "migrations"
    if not (location / "env.py").exists():
        return f"{service}: no migrations, skipped"
    settings = Settings(service)
    started = time.perf_counter()
    migrate(settings.database_url, location)
    return f"{service}: migrated to head in {time.perf_counter() - started:.1f}s"


def main(argv: list[str]) -> int:
    services = argv or list(WITH_DATABASE)
    unknown = [name for name in services if name not in WITH_DATABASE]
    if unknown:
        print(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(WITH_DATABASE)}", file=sys.stderr)
        return 2
    for service in services:
        try:
            print(migrate_service(service), flush=True)
        except Exception as exc:  # report which service failed, with the cause, and stop
            print(f"{service}: migration FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
