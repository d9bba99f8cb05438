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

# Meetings: times are naive UTC with the team's zone kept beside them. ``uid`` is the iCalendar UID,
# stable for the meeting's life; ``sequence`` rises on every change an invitation must carry.
meetings = sa.Table(
    "meetings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.BigInteger, nullable=False),
    sa.Column("uid", sa.String(100), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),  # proposed | booked | cancelled
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("starts_at", sa.DateTime, nullable=False),
    sa.Column("ends_at", sa.DateTime, nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("place", sa.String(300), nullable=False),
    sa.Column("notes", sa.String(2000), nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=False),
    sa.Column("organizer_id", sa.BigInteger, nullable=False),  # the host who booked or confirmed it
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("invited", sa.Text, nullable=True),  # JSON list of the user ids last sent the invitation
    sa.Index("ix_meetings_team_start", "team_id", "starts_at"),
    mysql_charset="utf8mb4",
)

meeting_answers = sa.Table(
    "meeting_answers",
    metadata,
    sa.Column("meeting_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("answer", sa.String(16), nullable=False),  # going | maybe | not_going
    sa.Column("answered_at", sa.DateTime, nullable=False),
    mysql_charset="utf8mb4",
)

# One row per follow-up done once across instances (a cancellation mail on a team's deletion, a leaving
# member's cancellation): the instance whose insert succeeds does the work, the others see the key taken.
meeting_claims = sa.Table(
    "meeting_claims",
    metadata,
    sa.Column("meeting_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("claim", sa.String(64), primary_key=True),
    sa.Column("claimed_at", sa.DateTime, nullable=False),
    mysql_charset="utf8mb4",
)

# A user's private calendar feed: only the SHA-256 of the secret token is kept. ``etag`` and
# ``changed_at`` remember the last body served, so Last-Modified moves when anything in it changed,
# removals included.
calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("etag", sa.String(64), nullable=True),
    sa.Column("changed_at", sa.DateTime, nullable=True),
    mysql_charset="utf8mb4",
)

# A team's meeting settings: the reminder offset in minutes (0: no reminder). A team without a row has
# the default (see ``reminders.DEFAULT_MINUTES``).
meeting_settings = sa.Table(
    "meeting_settings",
    metadata,
    sa.Column("team_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("reminder_minutes", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    mysql_charset="utf8mb4",
)
