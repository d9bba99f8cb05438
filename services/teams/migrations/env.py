"""Alembic environment of the teams service (its own migration history)."""

from services.kit.db import run_migrations_env
from services.teams.tables import metadata

run_migrations_env(metadata)
