"""Sign-in with OpenID Connect providers and GitHub: linked identities and the flows under way.

Revision ID: 0003_sign_in_providers
Revises: 0002_binary_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_sign_in_providers"
down_revision = "0002_binary_keys"
branch_labels = None
depends_on = None


def _exact() -> sa.types.TypeEngine[str]:
    return sa.String(255).with_variant(sa.String(255, collation="utf8mb4_bin"), "mysql")


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False, index=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("issuer", _exact(), nullable=False),
        sa.Column("subject", _exact(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),
    )
    op.create_table(
        "sign_in_flows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handle_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
        sa.Column("used_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sign_in_flows")
    op.drop_table("identities")
