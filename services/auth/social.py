"""Sign-in with a provider: the flow bound to the browser, then sign-in, sign-up or connect.

- A flow row holds ``state``, ``nonce`` and the PKCE verifier; the browser holds only a short-lived,
  HttpOnly cookie signed by this service that names the row. The callback spends the row once (a replayed
  callback, or a second tab's, finds it gone), so ``state`` and ``nonce`` are single-use.
- Identities are keyed by (issuer, subject). Nothing is ever linked by e-mail: when the provider's e-mail
  belongs to an account, the visitor is told to sign in with its password and connect from the profile.
- The first sign-in proposes a username and nickname (editable) before the account exists; its e-mail
  counts as verified only when the provider asserts it, otherwise a verification mail goes out as for a
  password sign-up and the account signs in once verified.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from databases import Database

from services.kit.errors import AppError, Conflict, InvalidInput, NotFound
from services.kit.responses import iso, utcnow

from .keys import KeyRing
from .mail import Mailer, verification_mail
from .provider_clients import Identity, ProviderClient, ProviderRejected, ProviderUnavailable
from .schemas import check_nickname, check_password, email_key
from .sessions import digest
from .tables import email_tokens, identities, sign_in_flows, users

FLOW_TTL = timedelta(minutes=10)
SIGNUP_TTL = timedelta(minutes=30)
FLOW_COOKIE = "teammoa_signin_flow"
SIGNUP_COOKIE = "teammoa_signup_pending"
COOKIE_PATH = "/api/v1/users/oauth/"
NO_PASSWORD = "!"  # noqa: S105 - the hash of an account created by a provider: matches no password
VERIFY_TTL = timedelta(hours=24)


class FlowFailed(Exception):
    """A provider sign-in that cannot go on; ``code`` is what the browser is told."""

    def __init__(self, code: str, detail: str = "", purpose: str = "signin") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.purpose = purpose  # signin | connect: which page explains the failure


class LastSignInMethod(AppError):
    status, code = 409, "last_sign_in_method"
    message = "This is your only way to sign in. Set a password or connect another account first."


@dataclass(frozen=True)
class Outcome:
    """What a finished callback leads to."""

    kind: str  # session | signup | connected | check_email
    user_id: int | None = None
    signup_cookie: str | None = None


def _handle_cookie(keys: KeyRing, handle: str, purpose: str, ttl: timedelta) -> str:
    return keys.sign({"h": handle}, purpose=purpose, ttl_s=int(ttl.total_seconds()))


async def start(
    *, db: Database, keys: KeyRing, client: ProviderClient, purpose: str, user_id: int | None = None
) -> tuple[str, str]:
    """The provider's authorization URL and the signed cookie that binds the flow to this browser."""
    handle, state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: within PKCE's 43–128
    url = await client.authorization_url(state=state, nonce=nonce, verifier=verifier)
    now = utcnow()
    await db.execute(sign_in_flows.delete().where(sign_in_flows.c.expires_at < now - timedelta(hours=1)))
    await db.execute(
        sign_in_flows.insert().values(
            handle_hash=digest(handle),
            purpose=purpose,
            provider=client.config.name,
            user_id=user_id,
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            created_at=now,
            expires_at=now + FLOW_TTL,
        )
    )
    return url, _handle_cookie(keys, handle, "signin-flow", FLOW_TTL)


async def _spend(db: Database, keys: KeyRing, cookie: str | None, purpose: str) -> Any:
    """The flow the cookie names, taken once: a second use finds nothing."""
    claims = keys.read(cookie, purpose=purpose) if cookie else None
    if not claims or not isinstance(claims.get("h"), str):
        raise FlowFailed("state_mismatch", "no flow cookie")
    hashed = digest(claims["h"])
    row = await db.fetch_one(sign_in_flows.select().where(sign_in_flows.c.handle_hash == hashed))
    if row is None or row["used_at"] is not None or row["expires_at"] <= utcnow():
        raise FlowFailed("state_mismatch", "flow unknown, spent or expired")
    claim = "used:" + secrets.token_hex(16)
    await db.execute(
        sign_in_flows.update()
        .where(sign_in_flows.c.id == row["id"], sign_in_flows.c.handle_hash == hashed)
        .values(handle_hash=claim, used_at=utcnow())
    )
    if await db.fetch_val(sa.select(sign_in_flows.c.id).where(sign_in_flows.c.handle_hash == claim)) is None:
        raise FlowFailed("state_mismatch", "flow spent concurrently")
    return row


async def _identity_row(db: Database, identity: Identity) -> Any:
    return await db.fetch_one(
        identities.select().where(identities.c.issuer == identity.issuer, identities.c.subject == identity.subject)
    )


async def _email_in_use(db: Database, email: str | None) -> bool:
    if not email:
        return False
    key = email_key(email)
    return bool(await db.fetch_val(sa.select(sa.func.count()).select_from(users).where(users.c.email_key == key)))


async def finish(
    *,
    db: Database,
    keys: KeyRing,
    client: ProviderClient,
    cookie: str | None,
    state: str | None,
    code: str | None,
    error: str | None,
) -> tuple[str, Outcome]:
    """Check the callback against this browser's flow, ask the provider who it is, and decide.

    Returns the flow's purpose and the outcome; raises FlowFailed (with the flow's purpose, so the failure
    is shown on the right page) for anything that must not go on.
    """
    flow = await _spend(db, keys, cookie, "signin-flow")
    purpose = str(flow["purpose"])
    try:
        if flow["provider"] != client.config.name or not state or not hmac.compare_digest(flow["state"], state):
            raise FlowFailed("state_mismatch", "state does not match this browser's flow")
        if error:
            raise FlowFailed("access_denied" if error == "access_denied" else "provider_error", error[:64])
        if not code:
            raise FlowFailed("provider_error", "no code")
        try:
            identity = await client.identity(code=code, verifier=flow["code_verifier"], nonce=flow["nonce"])
        except ProviderRejected as exc:
            raise FlowFailed("provider_rejected", str(exc)) from None
        except ProviderUnavailable as exc:
            raise FlowFailed("provider_unavailable", str(exc)) from None
        if purpose == "connect":
            return purpose, await _connect(db, identity, int(flow["user_id"]))
        return purpose, await _sign_in(db, keys, identity)
    except FlowFailed as exc:
        exc.purpose = purpose
        raise


async def _connect(db: Database, identity: Identity, user_id: int) -> Outcome:
    user = await db.fetch_one(users.select().where(users.c.id == user_id, users.c.is_active.is_(True)))
    if user is None:
        raise FlowFailed("account_inactive")
    existing = await _identity_row(db, identity)
    if existing is not None:
        if existing["user_id"] != user_id:
            raise FlowFailed("identity_in_use", "linked to another account")
        return Outcome("connected", user_id=user_id)
    same_provider = await db.fetch_val(
        sa.select(identities.c.id).where(identities.c.user_id == user_id, identities.c.provider == identity.provider)
    )
    if same_provider is not None:
        raise FlowFailed("already_connected")
    await _link(db, identity, user_id)
    return Outcome("connected", user_id=user_id)


async def _link(db: Database, identity: Identity, user_id: int) -> None:
    try:
        await db.execute(
            identities.insert().values(
                user_id=user_id,
                provider=identity.provider,
                issuer=identity.issuer,
                subject=identity.subject,
                email=identity.email,
                created_at=utcnow(),
            )
        )
    except Exception as exc:  # the same identity linked concurrently
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            raise FlowFailed("identity_in_use", "linked concurrently") from None
        raise


async def _sign_in(db: Database, keys: KeyRing, identity: Identity) -> Outcome:
    existing = await _identity_row(db, identity)
    if existing is not None:
        user = await db.fetch_one(users.select().where(users.c.id == existing["user_id"], users.c.is_active.is_(True)))
        if user is None:
            raise FlowFailed("account_inactive")
        if not user["is_verified"]:
            raise FlowFailed("email_not_verified")
        await db.execute(identities.update().where(identities.c.id == existing["id"]).values(last_used_at=utcnow()))
        return Outcome("session", user_id=int(user["id"]))
    if await _email_in_use(db, identity.email):
        raise FlowFailed("email_in_use")  # never linked by e-mail: sign in with the password, connect from the profile
    handle = secrets.token_urlsafe(32)
    now = utcnow()
    await db.execute(
        sign_in_flows.insert().values(
            handle_hash=digest(handle),
            purpose="signup",
            provider=identity.provider,
            state="-",
            nonce="-",
            code_verifier="-",
            payload=json.dumps(asdict(identity)),
            created_at=now,
            expires_at=now + SIGNUP_TTL,
        )
    )
    return Outcome("signup", signup_cookie=_handle_cookie(keys, handle, "signup-pending", SIGNUP_TTL))


# --- the sign-up that follows a first provider sign-in ---


async def _pending_row(db: Database, keys: KeyRing, cookie: str | None) -> Any:
    claims = keys.read(cookie, purpose="signup-pending") if cookie else None
    row = None
    if claims and isinstance(claims.get("h"), str):
        row = await db.fetch_one(sign_in_flows.select().where(sign_in_flows.c.handle_hash == digest(claims["h"])))
    if row is None or row["purpose"] != "signup" or row["used_at"] is not None or row["expires_at"] <= utcnow():
        raise NotFound("There is no sign-up waiting. Start again from the sign-up page.", code="no_pending_signup")
    return row


def _username_from(*candidates: str) -> str:
    for candidate in candidates:
        name = re.sub(r"[^A-Za-z0-9._-]", "", candidate.replace(" ", "."))[:30]
        if len(name) >= 3:
            return name
    return "member"


async def _free(db: Database, column: sa.Column[str], base: str, limit: int) -> str:
    candidate = base
    for attempt in range(2, 50):
        if not await db.fetch_val(sa.select(sa.func.count()).select_from(users).where(column == candidate.lower())):
            return candidate
        suffix = str(attempt)
        candidate = base[: limit - len(suffix)] + suffix
    return base[: limit - 6] + secrets.token_hex(3)


async def pending(*, db: Database, keys: KeyRing, cookie: str | None, labels: dict[str, str]) -> dict[str, Any]:
    """The proposal for the sign-up page: names from the claims (free ones), the e-mail and whether it is verified."""
    row = await _pending_row(db, keys, cookie)
    identity = Identity(**json.loads(row["payload"]))
    local = (identity.email or "").split("@", 1)[0]
    username = await _free(db, users.c.username_key, _username_from(identity.username, local, identity.name), 30)
    nickname_base = (identity.name or identity.username or username)[:20]
    try:
        check_nickname(nickname_base)
    except ValueError:
        nickname_base = username[:20]
    nickname = await _free(db, users.c.nickname_key, nickname_base, 20)
    return {
        "provider": identity.provider,
        "label": labels.get(identity.provider, identity.provider),
        "email": identity.email,
        "email_verified": identity.email_verified,
        "username": username,
        "nickname": nickname,
    }


async def complete_signup(
    *,
    db: Database,
    keys: KeyRing,
    mailer: Mailer,
    site: str,
    cookie: str | None,
    data: Any,
    on_taken: Callable[[], Awaitable[None]],
) -> tuple[int, bool, str]:
    """Create the account and link the identity: its id, whether it can sign in now (e-mail verified), the provider."""
    row = await _pending_row(db, keys, cookie)
    identity = Identity(**json.loads(row["payload"]))
    email = identity.email if identity.email_verified else data.email
    if not email:
        raise InvalidInput.field("email", "Enter your e-mail address.", "required")
    if identity.email_verified and await _email_in_use(db, email):
        raise Conflict(
            "An account already uses this e-mail address. Sign in with its password and connect from your profile.",
            code="email_in_use",
        )
    taken = []
    for field, column, value in (
        ("username", users.c.username_key, data.username.lower()),
        ("email", users.c.email_key, email_key(email)),
        ("nickname", users.c.nickname_key, data.nickname.lower()),
    ):
        if await db.fetch_val(sa.select(sa.func.count()).select_from(users).where(column == value)):
            taken.append({"field": field, "message": f"This {field} is already taken.", "type": "taken"})
    if taken:
        await on_taken()  # tells whether an account exists: charged to the address's availability budget
        raise Conflict("Some details are already in use.", code="taken", details=taken)
    if await _identity_row(db, identity) is not None:
        raise Conflict("This account is already connected to a TeamMoa account.", code="identity_in_use")
    await _spend(db, keys, cookie, "signup-pending")
    now = utcnow()
    async with db.transaction():
        try:
            user_id = await db.execute(
                users.insert().values(
                    username=data.username,
                    username_key=data.username.lower(),
                    email=email,
                    email_key=email_key(email),
                    nickname=data.nickname,
                    nickname_key=data.nickname.lower(),
                    password_hash=NO_PASSWORD,
                    profile="",
                    is_verified=identity.email_verified,
                    date_joined=now,
                    verification_sent_at=None if identity.email_verified else now,
                )
            )
        except Exception as exc:
            if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                raise Conflict("Some details are already in use.", code="taken") from None
            raise
        try:
            await _link(db, identity, int(user_id))
        except FlowFailed:
            raise Conflict("This account is already connected to a TeamMoa account.", code="identity_in_use") from None
    if not identity.email_verified:
        token = secrets.token_urlsafe(32)
        await db.execute(
            email_tokens.insert().values(
                user_id=user_id, purpose="verify", token_hash=digest(token), created_at=now, expires_at=now + VERIFY_TTL
            )
        )
        subject, text = verification_mail(site, data.nickname, token)
        await mailer.send(to=email, subject=subject, text=text)
    return int(user_id), identity.email_verified, identity.provider


# --- connected accounts on the profile ---


async def connected(*, db: Database, user_id: int, labels: dict[str, str]) -> dict[str, Any]:
    user = await db.fetch_one(users.select().where(users.c.id == user_id, users.c.is_active.is_(True)))
    if user is None:
        raise NotFound()
    rows = await db.fetch_all(identities.select().where(identities.c.user_id == user_id).order_by(identities.c.id))
    return {
        "has_password": user["password_hash"] != NO_PASSWORD,
        "identities": [
            {
                "id": row["id"],
                "provider": row["provider"],
                "label": labels.get(row["provider"], row["provider"]),
                "email": row["email"],
                "created_at": iso(row["created_at"]),
                "last_used_at": iso(row["last_used_at"]),
            }
            for row in rows
        ],
    }


async def disconnect(*, db: Database, user_id: int, identity_id: int) -> None:
    """Remove one connected account, unless it is the last way to sign in."""
    async with db.transaction():
        row = await db.fetch_one(identities.select().where(identities.c.id == identity_id, identities.c.user_id == user_id))
        if row is None:
            raise NotFound("This connected account does not exist.")
        user = await db.fetch_one(users.select().where(users.c.id == user_id))
        count = await db.fetch_val(sa.select(sa.func.count()).select_from(identities).where(identities.c.user_id == user_id))
        if user is None or (user["password_hash"] == NO_PASSWORD and count <= 1):
            raise LastSignInMethod()
        await db.execute(identities.delete().where(identities.c.id == identity_id))


async def set_password(*, db: Database, passwords: Any, user_id: int, new: str) -> None:
    """Give an account created by a provider its first password (an existing one is changed elsewhere)."""
    user = await db.fetch_one(users.select().where(users.c.id == user_id, users.c.is_active.is_(True)))
    if user is None:
        raise NotFound()
    if user["password_hash"] != NO_PASSWORD:
        raise Conflict("This account has a password already: change it instead.", code="password_exists")
    try:
        check_password(new, username=user["username"])
    except ValueError as exc:
        raise InvalidInput.field("new_password", str(exc)) from None
    hashed = await passwords.hash(new)
    await db.execute(
        users.update().where(users.c.id == user_id, users.c.password_hash == NO_PASSWORD).values(password_hash=hashed)
    )
