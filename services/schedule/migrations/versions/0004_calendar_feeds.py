"""Private calendar feeds: one secret token (kept hashed) per user.

Revision ID: 0004_calendar_feeds
Revises: 0003_meeting_claims
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_calendar_feeds"
down_revision = "0003_meeting_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("etag", sa.String(64), nullable=True),
        sa.Column("changed_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
