"""Alembic environment of the schedule service."""

from services.kit.db import run_migrations_env
from services.schedule.tables import metadata

run_migrations_env(metadata)
