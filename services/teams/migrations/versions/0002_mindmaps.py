"""Mind maps: maps, nodes, links, comments and votes.

Revision ID: 0002_mindmaps
Revises: 0001_initial
Create Date: 2026-11-27

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_mindmaps"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
TitleKey = sa.String(128).with_variant(mysql.VARCHAR(128, collation="utf8mb4_bin"), "mysql", "mariadb")
MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "mindmaps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_mindmaps_team"), nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("title_key", TitleKey, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.UniqueConstraint("team_id", "title_key", name="uq_mindmaps_team_title"),
        **MYSQL,
    )
    op.create_table(
        "mindmap_nodes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_nodes_map"), nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("x", sa.Integer, nullable=False),
        sa.Column("y", sa.Integer, nullable=False),
        sa.Column("color", sa.String(7), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.Column("updated_at", DateTime, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_mindmap_nodes_map", "mindmap_nodes", ["mindmap_id"])
    op.create_table(
        "mindmap_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_links_map"), nullable=False),
        sa.Column(
            "source_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_links_source"), nullable=False
        ),
        sa.Column(
            "target_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_links_target"), nullable=False
        ),
        sa.Column("low_id", sa.Integer, nullable=False),
        sa.Column("high_id", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.UniqueConstraint("low_id", "high_id", name="uq_mindmap_links_pair"),
        **MYSQL,
    )
    op.create_index("ix_mindmap_links_map", "mindmap_links", ["mindmap_id"])
    op.create_index("ix_mindmap_links_high", "mindmap_links", ["high_id"])
    op.create_table(
        "mindmap_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_comments_map"), nullable=False),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_comments_node"), nullable=False),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.Column("updated_at", DateTime, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_mindmap_comments_node", "mindmap_comments", ["node_id", "id"])
    op.create_index("ix_mindmap_comments_map", "mindmap_comments", ["mindmap_id"])
    op.create_table(
        "mindmap_votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_votes_map"), nullable=False),
        sa.Column("node_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_votes_node"), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.UniqueConstraint("node_id", "user_id", name="uq_mindmap_votes_node_user"),
        **MYSQL,
    )
    op.create_index("ix_mindmap_votes_map", "mindmap_votes", ["mindmap_id"])


def downgrade() -> None:
    for name in ("mindmap_votes", "mindmap_comments", "mindmap_links", "mindmap_nodes", "mindmaps"):
        op.drop_table(name)
