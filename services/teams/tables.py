"""The teams service's tables (SQLAlchemy Core). Mind-map tables live in ``mindmaps/tables.py`` on the
same metadata.

Times are naive UTC (MySQL drops zones); ``DATETIME(6)`` on MySQL keeps microseconds so "longest-standing
member" is well ordered. The host of a team is ``teams.host_id``; a membership row holds no role, so the
two can never disagree. Rows are deleted explicitly, children first (SQLite does not enforce foreign keys
on the connections ``databases`` opens), see ``purge.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")  # post bodies exceed TEXT's 64 KB

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("join_password_hash", sa.String(255), nullable=False),
    sa.Column("invite_code", sa.String(16), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("host_id", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.Column("updated_at", DateTime, nullable=False),
    sa.Column("data_version", sa.BigInteger, nullable=False, server_default="0"),  # counted up by team_change
    sa.UniqueConstraint("invite_code", name="uq_teams_invite_code"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_memberships_team"), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("joined_at", DateTime, nullable=False),
    sa.Column("last_seen_at", DateTime, nullable=True),
    sa.UniqueConstraint("team_id", "user_id", name="uq_memberships_team_user"),
    sa.Index("ix_memberships_user", "user_id"),
)

milestones = sa.Table(
    "milestones",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_milestones_team"), nullable=False),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("progress_mode", sa.String(6), nullable=False),
    sa.Column("progress", sa.Integer, nullable=False),
    sa.Column("completed_at", DateTime, nullable=True),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.Column("updated_at", DateTime, nullable=False),
    sa.Index("ix_milestones_team", "team_id"),
)

todos = sa.Table(
    "todos",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_todos_team"), nullable=False),
    sa.Column("content", sa.String(200), nullable=False),
    sa.Column("assignee_id", sa.Integer, nullable=True),
    sa.Column("is_completed", sa.Boolean, nullable=False),
    sa.Column("completed_at", DateTime, nullable=True),
    sa.Column("milestone_id", sa.Integer, sa.ForeignKey("milestones.id", name="fk_todos_milestone"), nullable=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.Index("ix_todos_team", "team_id", "position"),
    sa.Index("ix_todos_milestone", "milestone_id"),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_posts_team"), nullable=False),
    sa.Column("author_id", sa.Integer, nullable=False),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("body", LongText, nullable=False),
    sa.Column("body_html", LongText, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.Column("updated_at", DateTime, nullable=False),
    sa.Index("ix_posts_team_created", "team_id", "created_at"),
)

post_files = sa.Table(
    "post_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_post_files_team"), nullable=False),
    sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", name="fk_post_files_post"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("storage_key", sa.String(64), nullable=False),
    sa.Column("uploaded_by", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.Index("ix_post_files_post", "post_id"),
)
