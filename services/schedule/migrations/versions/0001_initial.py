"""Availability of each member of each team, one 48-slot mask per local date.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability",
        sa.Column("team_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("user_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("mask", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "day", name="pk_availability"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_availability_team_day", "availability", ["team_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_availability_team_day", table_name="availability")
    op.drop_table("availability")
