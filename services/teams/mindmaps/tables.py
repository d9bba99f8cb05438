"""Mind-map tables, on the teams service's metadata.

A map's ``version`` counts its changes: every write bumps it in the write's own transaction, and the event
published after commit carries it, so clients can tell what they missed. Rows are deleted explicitly,
children first (SQLite does not enforce foreign keys on the connections ``databases`` opens).

Titles are unique per team ignoring case: ``title_key`` holds the lower-cased title under a binary
collation, so MariaDB and SQLite agree on what counts as the same title.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from services.teams.tables import metadata

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
TitleKey = sa.String(128).with_variant(mysql.VARCHAR(128, collation="utf8mb4_bin"), "mysql", "mariadb")

mindmaps = sa.Table(
    "mindmaps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_mindmaps_team"), nullable=False),
    sa.Column("title", sa.String(64), nullable=False),
    sa.Column("title_key", TitleKey, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.UniqueConstraint("team_id", "title_key", name="uq_mindmaps_team_title"),
)

mindmap_nodes = sa.Table(
    "mindmap_nodes",
    metadata,
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
    sa.Index("ix_mindmap_nodes_map", "mindmap_id"),
)

mindmap_links = sa.Table(
    "mindmap_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_links_map"), nullable=False),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_links_source"), nullable=False),
    sa.Column("target_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_links_target"), nullable=False),
    sa.Column("low_id", sa.Integer, nullable=False),  # min(source, target): one link per pair, either direction
    sa.Column("high_id", sa.Integer, nullable=False),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.UniqueConstraint("low_id", "high_id", name="uq_mindmap_links_pair"),
    sa.Index("ix_mindmap_links_map", "mindmap_id"),
    sa.Index("ix_mindmap_links_high", "high_id"),
)

mindmap_comments = sa.Table(
    "mindmap_comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_comments_map"), nullable=False),
    sa.Column("node_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_comments_node"), nullable=False),
    sa.Column("author_id", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.Column("updated_at", DateTime, nullable=False),
    sa.Index("ix_mindmap_comments_node", "node_id", "id"),
    sa.Index("ix_mindmap_comments_map", "mindmap_id"),
)

mindmap_votes = sa.Table(
    "mindmap_votes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mindmap_id", sa.Integer, sa.ForeignKey("mindmaps.id", name="fk_mindmap_votes_map"), nullable=False),
    sa.Column("node_id", sa.Integer, sa.ForeignKey("mindmap_nodes.id", name="fk_mindmap_votes_node"), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("created_at", DateTime, nullable=False),
    sa.UniqueConstraint("node_id", "user_id", name="uq_mindmap_votes_node_user"),
    sa.Index("ix_mindmap_votes_map", "mindmap_id"),
)
