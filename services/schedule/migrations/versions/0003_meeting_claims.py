"""Who was last invited to a meeting, and follow-ups claimed once across instances.

Revision ID: 0003_meeting_claims
Revises: 0002_meetings
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_meeting_claims"
down_revision = "0002_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meetings", sa.Column("invited", sa.Text, nullable=True))
    op.create_table(
        "meeting_claims",
        sa.Column("meeting_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("claim", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "claim", name="pk_meeting_claims"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("meeting_claims")
    with op.batch_alter_table("meetings") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("invited")
