"""Compare the lower-cased uniqueness keys byte for byte on MySQL.

The keys are lower-cased in Python, so case is already folded. MySQL's default utf8mb4_unicode_ci
would fold much more: "José" = "Jose", and every emoji equals every other ("😀😀" = "🎉🎉"),
refusing nicknames and e-mail addresses that SQLite (and the rules) accept.

Revision ID: 0002_binary_keys
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_binary_keys"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

KEYS = {"username_key": 30, "email_key": 254, "nickname_key": 40}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "mysql":
        return  # SQLite compares bytes already
    for column, length in KEYS.items():
        op.alter_column(
            "users",
            column,
            existing_nullable=False,
            type_=sa.String(length, collation=collation),
            existing_type=sa.String(length),
        )


def upgrade() -> None:
    _collate("utf8mb4_bin")


def downgrade() -> None:
    _collate("utf8mb4_unicode_ci")
