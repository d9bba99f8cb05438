"""A version on every team row, counted up by every change to the team's data.

Revision ID: 0003_team_data_version
Revises: 0002_mindmaps
Create Date: 2026-12-07

Every write to a team's data already locks the team row first (``changes.team_change``); it now
also counts ``data_version`` up in that same transaction. The membership check every team request
makes reads the row anyway, so a cached answer (the todo list, the team) is served only while its
version is still the row's: synchronous invalidation from any instance, no extra round trip.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_team_data_version"
down_revision: str | None = "0002_mindmaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite supports it with a constant default): no table copy, on either backend.
    op.add_column("teams", sa.Column("data_version", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("data_version")
