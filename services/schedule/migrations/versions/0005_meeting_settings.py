"""Each team's meeting settings (the reminder offset).

Revision ID: 0005_meeting_settings
Revises: 0004_calendar_feeds
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_meeting_settings"
down_revision = "0004_calendar_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_settings",
        sa.Column("team_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("reminder_minutes", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_meeting_settings"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("meeting_settings")
