"""Teams, memberships, milestones, todos, posts and their files.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "teams",
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
        sa.UniqueConstraint("invite_code", name="uq_teams_invite_code"),
        **MYSQL,
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_memberships_team"), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("joined_at", DateTime, nullable=False),
        sa.Column("last_seen_at", DateTime, nullable=True),
        sa.UniqueConstraint("team_id", "user_id", name="uq_memberships_team_user"),
        **MYSQL,
    )
    op.create_index("ix_memberships_user", "memberships", ["user_id"])
    op.create_table(
        "milestones",
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
        **MYSQL,
    )
    op.create_index("ix_milestones_team", "milestones", ["team_id"])
    op.create_table(
        "todos",
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
        **MYSQL,
    )
    op.create_index("ix_todos_team", "todos", ["team_id", "position"])
    op.create_index("ix_todos_milestone", "todos", ["milestone_id"])
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_posts_team"), nullable=False),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", LongText, nullable=False),
        sa.Column("body_html", LongText, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.Column("updated_at", DateTime, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_posts_team_created", "posts", ["team_id", "created_at"])
    op.create_table(
        "post_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_post_files_team"), nullable=False),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id", name="fk_post_files_post"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("storage_key", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Integer, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_post_files_post", "post_files", ["post_id"])


def downgrade() -> None:
    for name in ("post_files", "posts", "todos", "milestones", "memberships", "teams"):
        op.drop_table(name)
