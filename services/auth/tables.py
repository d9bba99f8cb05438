"""The auth service's tables: users, single-use e-mail tokens, refresh tokens, signing keys, and the
deactivations that still have to reach the teams service."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(30), nullable=False),
    sa.Column("username_key", sa.String(30), nullable=False, unique=True),  # lower-cased: unique ignoring case
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_key", sa.String(254), nullable=False, unique=True),
    sa.Column("nickname", sa.String(20), nullable=False),
    sa.Column("nickname_key", sa.String(40), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("profile", sa.String(500), nullable=False, server_default=""),
    sa.Column("is_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("date_joined", sa.DateTime, nullable=False),
    sa.Column("last_login", sa.DateTime, nullable=True),
    sa.Column("verification_sent_at", sa.DateTime, nullable=True),
    sa.Column("deactivated_at", sa.DateTime, nullable=True),
)

email_tokens = sa.Table(
    "email_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("purpose", sa.String(16), nullable=False),  # verify | reset
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("family", sa.String(32), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Column("replaced_by", sa.String(64), nullable=True),  # hash of the successor: the rotation marker
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(32), primary_key=True),
    sa.Column("private_pem", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("retired_at", sa.DateTime, nullable=True),
)

pending_deactivations = sa.Table(
    "pending_deactivations",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
)

# Subjects are case-sensitive: compared byte for byte on MySQL too (its default collation folds case).
_exact = sa.String(255).with_variant(sa.String(255, collation="utf8mb4_bin"), "mysql")

identities = sa.Table(
    "identities",  # an account's sign-in providers: keyed by (issuer, subject), never by e-mail
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("issuer", _exact, nullable=False),
    sa.Column("subject", _exact, nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_used_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),
)

sign_in_flows = sa.Table(
    "sign_in_flows",  # a provider sign-in under way (state, nonce, PKCE verifier) or a sign-up awaiting its names
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handle_hash", sa.String(64), nullable=False, unique=True),  # the browser's cookie holds the handle
    sa.Column("purpose", sa.String(16), nullable=False),  # signin | connect | signup
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=True),  # connect: the account that asked
    sa.Column("state", sa.String(64), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("payload", sa.Text, nullable=True),  # signup: the identity, as JSON
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    sa.Column("used_at", sa.DateTime, nullable=True),
)
