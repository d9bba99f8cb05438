"""Sessions: sign-in with rate limits, rotating refresh tokens (stored hashed; reuse revokes the
whole family), and the cookies that carry them in a browser."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record
from starlette.responses import Response

from services.kit.errors import NotAuthenticated, PermissionDenied
from services.kit.passwords import PasswordHasher
from services.kit.ratelimit import AttemptLimiter
from services.kit.responses import utcnow
from services.kit.tokens import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE, csrf_token

from .keys import ACCESS_TOKEN_TTL_S, KeyRing
from .schemas import email_key
from .tables import refresh_tokens, users

REFRESH_TOKEN_TTL = timedelta(days=30)
LOGIN_WINDOW_S = 15 * 60
LOGIN_FAILS_PER_ACCOUNT = 5
LOGIN_FAILS_PER_ADDRESS = 20
REFRESH_COOKIE_PATH = "/api/v1/users/"

audit = logging.getLogger("teammoa.auth.audit")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Session:
    user: dict[str, Any]
    access_token: str
    refresh_token: str
    sid: str  # the refresh family: the session's id, to which its CSRF token is bound


async def issue(db: Database, keys: KeyRing, user: Record, *, family: str | None = None) -> Session:
    """Mint an access token and a new refresh token (in a new family unless rotating)."""
    refresh = secrets.token_urlsafe(32)
    now = utcnow()
    family = family or secrets.token_hex(16)
    await db.execute(
        refresh_tokens.insert().values(
            user_id=user["id"],
            family=family,
            token_hash=digest(refresh),
            created_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
    )
    return Session(
        user=dict(user),
        access_token=keys.mint_access(user_id=user["id"], nickname=user["nickname"], sid=family),
        refresh_token=refresh,
        sid=family,
    )


async def login(
    *,
    db: Database,
    keys: KeyRing,
    passwords: PasswordHasher,
    limiter: AttemptLimiter,
    login_name: str,
    password: str,
    address: str,
) -> Session:
    """Check the credentials under the per-account and per-address failure limits."""
    key = email_key(login_name) if "@" in login_name else login_name.strip().lower()
    column = users.c.email_key if "@" in login_name else users.c.username_key
    user = await db.fetch_one(users.select().where(column == key, users.c.is_active.is_(True)))
    account_key = f"login:acct:{user['id'] if user else key}"
    address_key = f"login:addr:{address}"
    await limiter.check(
        {account_key: LOGIN_FAILS_PER_ACCOUNT, address_key: LOGIN_FAILS_PER_ADDRESS},
        "Too many failed sign-ins. Try again later.",
    )
    verified = await passwords.verify(user["password_hash"] if user else None, password)
    if user is None or not verified:
        await limiter.fail(account_key, address_key)
        raise NotAuthenticated("The username, e-mail or password is not correct.", code="invalid_credentials")
    if not user["is_verified"]:
        raise PermissionDenied("Verify your e-mail address first: we sent you a link.", code="email_not_verified")
    return await begin(db=db, keys=keys, user_id=user["id"], method="password", address=address)


async def begin(*, db: Database, keys: KeyRing, user_id: int, method: str, address: str) -> Session:
    """A new session after any successful sign-in (password or provider): the same tokens and audit line."""
    await db.execute(users.update().where(users.c.id == user_id).values(last_login=utcnow()))
    user = await db.fetch_one(users.select().where(users.c.id == user_id, users.c.is_active.is_(True)))
    if user is None:  # deactivated meanwhile
        raise NotAuthenticated("The username, e-mail or password is not correct.", code="invalid_credentials")
    audit.info("sign-in user=%s method=%s address=%s", user_id, method, address)
    return await issue(db, keys, user)


async def rotate(*, db: Database, keys: KeyRing, token: str) -> Session:
    """Exchange a refresh token for a new one; a token used twice revokes its whole family."""
    invalid = NotAuthenticated("Your session has ended. Sign in again.", code="session_ended")
    row = await db.fetch_one(refresh_tokens.select().where(refresh_tokens.c.token_hash == digest(token)))
    if row is None:
        raise invalid
    now = utcnow()
    if row["revoked_at"] is not None:
        if row["replaced_by"] is not None:  # a rotated token came back: assume it was stolen
            await revoke_family(db, row["family"])
        raise invalid
    if row["expires_at"] <= now:
        raise invalid
    successor = secrets.token_urlsafe(32)
    marker = digest(successor)
    await db.execute(
        refresh_tokens.update()
        .where(refresh_tokens.c.id == row["id"], refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now, replaced_by=marker)
    )
    claimed = await db.fetch_val(sa.select(refresh_tokens.c.replaced_by).where(refresh_tokens.c.id == row["id"]))
    if claimed != marker:  # a concurrent request rotated it first: the same token was used twice
        await revoke_family(db, row["family"])
        raise invalid
    user = await db.fetch_one(users.select().where(users.c.id == row["user_id"], users.c.is_active.is_(True)))
    if user is None:
        raise invalid
    await db.execute(
        refresh_tokens.insert().values(
            user_id=user["id"], family=row["family"], token_hash=marker, created_at=now, expires_at=now + REFRESH_TOKEN_TTL
        )
    )
    return Session(
        user=dict(user),
        access_token=keys.mint_access(user_id=user["id"], nickname=user["nickname"], sid=row["family"]),
        refresh_token=successor,
        sid=row["family"],
    )


async def revoke_family(db: Database, family: str) -> None:
    await db.execute(
        refresh_tokens.update()
        .where(refresh_tokens.c.family == family, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_token(db: Database, token: str) -> None:
    """Sign out one session: its whole family ends."""
    row = await db.fetch_one(refresh_tokens.select().where(refresh_tokens.c.token_hash == digest(token)))
    if row is not None:
        await revoke_family(db, row["family"])


async def revoke_all(db: Database, user_id: int, *, keep_family: str | None = None) -> None:
    """End every session of a user (but the one named)."""
    query = refresh_tokens.update().where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
    if keep_family:
        query = query.where(refresh_tokens.c.family != keep_family)
    await db.execute(query.values(revoked_at=utcnow()))


async def family_of(db: Database, token: str | None) -> str | None:
    if not token:
        return None
    family = await db.fetch_val(sa.select(refresh_tokens.c.family).where(refresh_tokens.c.token_hash == digest(token)))
    return None if family is None else str(family)


def set_cookies(response: Response, session: Session, *, secure: bool, secret: str) -> None:
    """Access and refresh tokens as HttpOnly cookies; the session's CSRF token, readable by the page's script."""
    response.set_cookie(
        ACCESS_COOKIE,
        session.access_token,
        max_age=ACCESS_TOKEN_TTL_S,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        session.refresh_token,
        max_age=int(REFRESH_TOKEN_TTL.total_seconds()),
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token(secret, session.sid),
        max_age=int(REFRESH_TOKEN_TTL.total_seconds()),
        path="/",
        httponly=False,
        secure=secure,
        samesite="lax",
    )


def clear_cookies(response: Response, *, secure: bool) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="lax")
