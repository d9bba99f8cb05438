"""Meetings booked from the team's availability, and each member's answer.

Revision ID: 0002_meetings
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_meetings"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        sa.Column("ends_at", sa.DateTime, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("notes", sa.String(2000), nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("organizer_id", sa.BigInteger, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("uid", name="uq_meetings_uid"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_meetings_team_start", "meetings", ["team_id", "starts_at"])
    op.create_table(
        "meeting_answers",
        sa.Column("meeting_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("user_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("answered_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "user_id", name="pk_meeting_answers"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("meeting_answers")
    op.drop_index("ix_meetings_team_start", table_name="meetings")
    op.drop_table("meetings")
