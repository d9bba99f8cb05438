"""Accounts: registration, e-mail verification, profile, password change and reset, deactivation.

E-mail tokens are single-use and stored hashed; verifying never signs anyone in.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from databases import Database
from databases.interfaces import Record

from services.kit.errors import AppError, Conflict, InvalidInput, NotAuthenticated
from services.kit.nicknames import FORMER_MEMBER
from services.kit.passwords import PasswordHasher
from services.kit.responses import iso, utcnow

from .mail import Mailer, reset_mail, verification_mail
from .schemas import (
    AvailabilityQuery,
    ProfileUpdate,
    RegisterIn,
    check_email,
    check_nickname,
    check_password,
    check_username,
    email_key,
)
from .sessions import digest, revoke_all
from .tables import email_tokens, identities, pending_deactivations, users

VERIFY_TTL = timedelta(hours=24)
RESET_TTL = timedelta(hours=1)
RESEND_INTERVAL = timedelta(minutes=5)  # server-side: one verification mail per 5 minutes per account
RESET_INTERVAL = timedelta(minutes=1)
UNVERIFIED_PURGE_AFTER = timedelta(days=3)


class InvalidToken(AppError):
    status, code, message = 400, "invalid_token", "This link is not valid. Ask for a new one."


def public(user: Record | Mapping[str, Any]) -> dict[str, Any]:
    """The profile as the API shows it to its owner."""
    return {
        "id": user["id"],
        "username": user["username"],
        "email": user["email"],
        "nickname": user["nickname"],
        "profile": user["profile"],
        "date_joined": iso(user["date_joined"]),
        "last_login": iso(user["last_login"]),
        "is_verified": bool(user["is_verified"]),
    }


async def _taken(db: Database, column: sa.Column[str], value: str) -> bool:
    return int(await db.fetch_val(sa.select(sa.func.count()).select_from(users).where(column == value))) > 0


async def _new_token(db: Database, *, user_id: int, purpose: str, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await db.execute(
        email_tokens.insert().values(
            user_id=user_id, purpose=purpose, token_hash=digest(token), created_at=now, expires_at=now + ttl
        )
    )
    return token


async def register(
    *,
    db: Database,
    passwords: PasswordHasher,
    mailer: Mailer,
    site: str,
    data: RegisterIn,
    on_taken: Callable[[], Awaitable[None]],
) -> dict[str, Any]:
    """Create an unverified account and mail its verification link.

    Saying that a value is taken tells whether an account exists: ``on_taken`` charges that answer to the
    caller's availability budget first (429 once it is spent), as ``check_availability`` does."""
    taken = []
    for field, column, key in (
        ("username", users.c.username_key, data.username.lower()),
        ("email", users.c.email_key, data.email.lower()),
        ("nickname", users.c.nickname_key, data.nickname.lower()),
    ):
        if await _taken(db, column, key):
            taken.append({"field": field, "message": f"This {field} is already taken.", "type": "taken"})
    if taken:
        await on_taken()
        raise Conflict("Some details are already in use.", code="taken", details=taken)
    password_hash = await passwords.hash(data.password)
    now = utcnow()
    try:
        user_id = await db.execute(
            users.insert().values(
                username=data.username,
                username_key=data.username.lower(),
                email=data.email,
                email_key=data.email.lower(),
                nickname=data.nickname,
                nickname_key=data.nickname.lower(),
                password_hash=password_hash,
                profile=data.profile,
                date_joined=now,
                verification_sent_at=now,
            )
        )
    except Exception as exc:  # a concurrent registration took a unique value between check and insert
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            await on_taken()
            raise Conflict("Some details are already in use.", code="taken") from None
        raise
    token = await _new_token(db, user_id=user_id, purpose="verify", ttl=VERIFY_TTL)
    subject, text = verification_mail(site, data.nickname, token)
    await mailer.send(to=data.email, subject=subject, text=text)
    return public(await get_active(db, user_id))


async def availability(*, db: Database, query: AvailabilityQuery) -> dict[str, Any]:
    """Tell whether a username, e-mail or nickname is valid and free."""
    checks = (
        ("username", check_username, users.c.username_key),
        ("email", check_email, users.c.email_key),
        ("nickname", check_nickname, users.c.nickname_key),
    )
    answer: dict[str, Any] = {}
    for field, check, column in checks:
        value = getattr(query, field)
        if value is None:
            continue
        try:
            value = check(value.strip())
        except ValueError as exc:
            answer[field] = {"available": False, "message": str(exc)}
            continue
        free = not await _taken(db, column, value.lower())
        answer[field] = {"available": free, "message": "Available." if free else f"This {field} is already taken."}
    if not answer:
        raise InvalidInput.field("username", "Ask about a username, email or nickname.")
    return answer


async def _consume(db: Database, token: str, purpose: str) -> Record:
    """Spend a single-use token: the hash is swapped for a claim marker, so only one caller wins."""
    hashed = digest(token)
    row = await db.fetch_one(
        email_tokens.select().where(email_tokens.c.token_hash == hashed, email_tokens.c.purpose == purpose)
    )
    if row is None:
        raise InvalidToken("This link is not valid or was already used.")
    if row["expires_at"] <= utcnow():
        raise InvalidToken("This link has expired. Ask for a new one.", code="token_expired")
    claim = "used:" + secrets.token_hex(16)
    await db.execute(
        email_tokens.update()
        .where(email_tokens.c.id == row["id"], email_tokens.c.token_hash == hashed)
        .values(token_hash=claim, used_at=utcnow())
    )
    if await db.fetch_val(sa.select(email_tokens.c.id).where(email_tokens.c.token_hash == claim)) is None:
        raise InvalidToken("This link is not valid or was already used.")
    return row


async def verify_email(*, db: Database, token: str) -> None:
    """Mark the account verified; the token works once and never signs in."""
    row = await _consume(db, token, "verify")
    await db.execute(users.update().where(users.c.id == row["user_id"]).values(is_verified=True))


async def resend_verification(*, db: Database, mailer: Mailer, site: str, email: str) -> None:
    """Mail a new link to an unverified account, at most once per 5 minutes (silently otherwise)."""
    user = await db.fetch_one(users.select().where(users.c.email_key == email_key(email), users.c.is_active.is_(True)))
    if user is None or user["is_verified"]:
        return
    now = utcnow()
    if user["verification_sent_at"] and now - user["verification_sent_at"] < RESEND_INTERVAL:
        return
    await db.execute(users.update().where(users.c.id == user["id"]).values(verification_sent_at=now))
    token = await _new_token(db, user_id=user["id"], purpose="verify", ttl=VERIFY_TTL)
    subject, text = verification_mail(site, user["nickname"], token)
    await mailer.send(to=user["email"], subject=subject, text=text)


async def get_active(db: Database, user_id: int) -> Record:
    user = await db.fetch_one(users.select().where(users.c.id == user_id, users.c.is_active.is_(True)))
    if user is None:
        raise NotAuthenticated("Your account is no longer active.")
    return user


async def update_profile(*, db: Database, user_id: int, data: ProfileUpdate) -> dict[str, Any]:
    """Change the nickname and/or profile text."""
    values: dict[str, str] = {}
    if data.nickname is not None:
        clash = await db.fetch_val(
            sa.select(users.c.id).where(users.c.nickname_key == data.nickname.lower(), users.c.id != user_id)
        )
        if clash:
            raise Conflict(
                "This nickname is already taken.",
                code="taken",
                details=[{"field": "nickname", "message": "This nickname is already taken.", "type": "taken"}],
            )
        values.update(nickname=data.nickname, nickname_key=data.nickname.lower())
    if data.profile is not None:
        values["profile"] = data.profile
    if values:
        await db.execute(users.update().where(users.c.id == user_id).values(**values))
    return public(await get_active(db, user_id))


async def _check_password(passwords: PasswordHasher, user: Record, password: str, field: str) -> None:
    if not await passwords.verify(user["password_hash"], password):
        raise InvalidInput(
            "The password is not correct.",
            details=[{"field": field, "message": "The password is not correct.", "type": "wrong"}],
        )


def _validated_new_password(password: str, username: str) -> str:
    try:
        return check_password(password, username=username)
    except ValueError as exc:
        raise InvalidInput.field("new_password", str(exc)) from None


async def _revoke_reset_links(db: Database, user_id: int) -> None:
    """Spend every outstanding reset link of an account (after a reset or a password change)."""
    await db.execute(
        email_tokens.delete().where(
            email_tokens.c.user_id == user_id, email_tokens.c.purpose == "reset", email_tokens.c.used_at.is_(None)
        )
    )


async def change_password(
    *, db: Database, passwords: PasswordHasher, user_id: int, current: str, new: str, keep_family: str | None
) -> None:
    """Replace the password; this session stays, every other one ends."""
    user = await get_active(db, user_id)
    await _check_password(passwords, user, current, "current_password")
    new = _validated_new_password(new, user["username"])
    await db.execute(users.update().where(users.c.id == user_id).values(password_hash=await passwords.hash(new)))
    await _revoke_reset_links(db, user_id)
    await revoke_all(db, user_id, keep_family=keep_family)


async def request_reset(
    *, db: Database, mailer: Mailer, site: str, email: str, interval: timedelta = RESET_INTERVAL
) -> None:
    """Mail a reset link when the address belongs to an active account (the caller learns nothing)."""
    user = await db.fetch_one(users.select().where(users.c.email_key == email_key(email), users.c.is_active.is_(True)))
    if user is None:
        return
    recent = await db.fetch_val(
        sa.select(sa.func.max(email_tokens.c.created_at)).where(
            email_tokens.c.user_id == user["id"], email_tokens.c.purpose == "reset"
        )
    )
    if recent and utcnow() - recent < interval:
        return
    token = await _new_token(db, user_id=user["id"], purpose="reset", ttl=RESET_TTL)
    subject, text = reset_mail(site, user["nickname"], token)
    await mailer.send(to=user["email"], subject=subject, text=text)


async def confirm_reset(*, db: Database, passwords: PasswordHasher, token: str, new: str) -> None:
    """Set a new password with a single-use token; every session ends."""
    row = await db.fetch_one(
        email_tokens.select().where(email_tokens.c.token_hash == digest(token), email_tokens.c.purpose == "reset")
    )
    user = await db.fetch_one(users.select().where(users.c.id == row["user_id"])) if row else None
    if user is not None:
        _validated_new_password(new, user["username"])  # refuse a weak password before spending the token
    row = await _consume(db, token, "reset")
    user = await get_active(db, row["user_id"])
    new_hash = await passwords.hash(new)
    await db.execute(users.update().where(users.c.id == user["id"]).values(password_hash=new_hash, is_verified=True))
    await _revoke_reset_links(db, user["id"])  # an older link mailed before this one must not work any more
    await revoke_all(db, user["id"])


def _anonymous_names(user_id: int) -> dict[str, str]:
    """Names no registration or rename can take, so anonymising never collides with a live account.

    ':' is not allowed in usernames; an e-mail domain without a dot does not validate; the nickname key has
    35 characters, and lower-casing a nickname (at most 20) lengthens it only by the U+0307 that 'İ' gains.
    """
    return {
        "username": f"former:{user_id}",
        "username_key": f"former:{user_id}",
        "email": f"former-{user_id}@invalid",
        "email_key": f"former-{user_id}@invalid",
        "nickname_key": f"former member #{user_id:020d}",
    }


async def deactivate(*, db: Database, passwords: PasswordHasher, user_id: int, password: str) -> None:
    """Anonymise the account, end its sessions and queue the news for the teams service."""
    user = await get_active(db, user_id)
    await _check_password(passwords, user, password, "password")
    now = utcnow()
    async with db.transaction():
        await db.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(
                is_active=False,
                deactivated_at=now,
                **_anonymous_names(user_id),
                nickname=FORMER_MEMBER,
                profile="",
                password_hash="!",  # noqa: S106 - matches no password
            )
        )
        await db.execute(pending_deactivations.insert().values(user_id=user_id, created_at=now))
        await db.execute(identities.delete().where(identities.c.user_id == user_id))  # the provider may sign up anew
    await revoke_all(db, user_id)


async def purge_unverified(*, db: Database) -> int:
    """Delete accounts never verified within 3 days (run once per deployment by a scheduled job)."""
    cutoff = utcnow() - UNVERIFIED_PURGE_AFTER
    stale = [
        row["id"]
        for row in await db.fetch_all(
            sa.select(users.c.id).where(
                users.c.is_verified.is_(False), users.c.is_active.is_(True), users.c.date_joined < cutoff
            )
        )
    ]
    if stale:
        await db.execute(email_tokens.delete().where(email_tokens.c.user_id.in_(stale)))
        await db.execute(identities.delete().where(identities.c.user_id.in_(stale)))
        await db.execute(users.delete().where(users.c.id.in_(stale)))
    return len(stale)


async def profiles(*, db: Database, ids: list[int]) -> list[dict[str, Any]]:
    """Public names of many users in one query (for the other services)."""
    if not ids:
        return []
    rows = await db.fetch_all(
        sa.select(users.c.id, users.c.username, users.c.nickname, users.c.is_active).where(users.c.id.in_(sorted(set(ids))))
    )
    return [
        {"id": r["id"], "username": r["username"], "nickname": r["nickname"], "is_active": bool(r["is_active"])}
        for r in rows
    ]


async def contacts(*, db: Database, ids: list[int]) -> list[dict[str, Any]]:
    """Mail addresses of active, verified users (internal: for invitations the other services send)."""
    if not ids:
        return []
    rows = await db.fetch_all(
        sa.select(users.c.id, users.c.email, users.c.nickname).where(
            users.c.id.in_(sorted(set(ids))), users.c.is_active.is_(True), users.c.is_verified.is_(True)
        )
    )
    return [{"id": r["id"], "email": r["email"], "nickname": r["nickname"]} for r in rows]
