"""The schedule service's tables (SQLAlchemy Core).

One row per (team, member, local date) that was ever saved; ``mask`` bit k set means free in slot k
(48 bits). A date without a row, or with mask 0 (a cleared date: saves upsert, never delete, so
that they cannot deadlock), has no free slot.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

availability = sa.Table(
    "availability",
    metadata,
    sa.Column("team_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("mask", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),  # naive UTC
    sa.Index("ix_availability_team_day", "team_id", "day"),
    mysql_charset="utf8mb4",
)
