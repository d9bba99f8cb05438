"""Access-token verification against the auth service's JWKS, and the caller of a request.

Tokens are EdDSA (Ed25519) JWTs with a ``kid``; only auth holds the private keys. Each service
checks its own audience (``teammoa:<service>``). The key set is cached and refetched when a token
names an unknown ``kid`` (at most once per ``REFETCH_MIN_INTERVAL_S``, so forged kids cannot make us
hammer auth).

A token that verified is remembered until it expires (``VERIFIED_CACHE_MAX`` tokens per process): a
signed-in user's next requests skip the signature check, which is pure computation on immutable
input. A remembered token still needs its key in the current key set, so a key withdrawn from the
JWKS stops its tokens at the next refetch, as before. Membership and roles are never cached here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.requests import HTTPConnection

from .errors import NotAuthenticated, PermissionDenied
from .revocations import Revocations

ACCESS_COOKIE = "teammoa_access"
REFRESH_COOKIE = "teammoa_refresh"
CSRF_COOKIE = "teammoa_csrf"
CSRF_HEADER = "x-csrf-token"
ISSUER = "teammoa-auth"
ALGORITHM = "EdDSA"
JWKS_TTL_S = 10 * 60
REFETCH_MIN_INTERVAL_S = 5.0
LEEWAY_S = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VERIFIED_CACHE_MAX = 20_000  # tokens; ~10 MB at most, far more than one instance's signed-in users
Claims = dict[str, Any]  # a JWT's payload


def audience(service: str) -> str:
    return f"teammoa:{service}"


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user a request acts for."""

    user_id: int
    nickname: str
    via_cookie: bool


class TokenVerifier:
    """Verify access tokens with public keys from a JWKS source (HTTP in production)."""

    def __init__(
        self,
        fetch_jwks: Callable[[], Awaitable[dict[str, Any]]],
        *,
        service: str,
        revocations: Revocations | None = None,
    ) -> None:
        self._fetch = fetch_jwks
        self.revocations = revocations
        self._audience = audience(service)
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._verified: dict[str, tuple[str, float, Claims]] = {}  # token -> (kid, exp, claims)

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if (not force and age < JWKS_TTL_S) or (force and age < REFETCH_MIN_INTERVAL_S):
                return
            document = await self._fetch()
            keys: dict[str, Ed25519PublicKey] = {}
            for jwk in document.get("keys", []):
                if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                    keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
            self._keys, self._fetched_at = keys, time.monotonic()

    async def _key_for(self, kid: str) -> Ed25519PublicKey | None:
        if not self._keys or time.monotonic() - self._fetched_at > JWKS_TTL_S:
            await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        return self._keys.get(kid)

    def _remembered(self, token: str) -> Claims | None:
        """The claims of a token that verified before, while it is unexpired and its key still published."""
        hit = self._verified.get(token)
        if hit is None:
            return None
        kid, exp, claims = hit
        if exp <= time.time() - LEEWAY_S or kid not in self._keys:
            del self._verified[token]
            return None
        return dict(claims)

    def _remember(self, token: str, kid: str, claims: Claims) -> None:
        if len(self._verified) >= VERIFIED_CACHE_MAX:
            now = time.time() - LEEWAY_S
            self._verified = {t: hit for t, hit in self._verified.items() if hit[1] > now}
            if len(self._verified) >= VERIFIED_CACHE_MAX:
                self._verified.clear()
        self._verified[token] = (kid, float(claims["exp"]), dict(claims))

    async def verify(self, token: str) -> Claims:
        """The claims of a valid access token; NotAuthenticated for anything else."""
        claims = self._remembered(token)
        if claims is None:
            claims = await self._verify(token)
        if self.revocations is not None and self.revocations.revoked(int(claims["sub"]), float(claims["iat"])):
            raise NotAuthenticated("This account is no longer active. Sign in again.", code="session_revoked")
        return claims

    async def _verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise NotAuthenticated("Your session is not valid. Sign in again.") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise NotAuthenticated("Your session is not valid. Sign in again.")
        try:
            key = await self._key_for(kid)
        except Exception:
            from .errors import Unavailable

            raise Unavailable("Cannot verify sign-ins right now.") from None
        if key is None:
            raise NotAuthenticated("Your session is not valid. Sign in again.")
        try:
            claims: Claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=ISSUER,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("Your session has expired. Sign in again.", code="token_expired") from None
        except jwt.PyJWTError:
            raise NotAuthenticated("Your session is not valid. Sign in again.") from None
        if claims.get("typ") != "access" or not str(claims.get("sub", "")).isdigit():
            raise NotAuthenticated("Your session is not valid. Sign in again.")
        self._remember(token, kid, claims)
        return claims


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def csrf_token(secret: str, sid: str) -> str:
    """The CSRF token of a session: an HMAC of its id, so a cookie planted by a sibling site cannot match."""
    mac = hmac.new(secret.encode(), b"teammoa-csrf\n" + sid.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def check_csrf(conn: HTTPConnection, sid: str | None) -> None:
    """Unsafe cookie-authenticated requests must send the session's CSRF token in ``X-CSRF-Token``
    (the page reads it from the ``teammoa_csrf`` cookie); any other value, or no session id, is refused."""
    header = conn.headers.get(CSRF_HEADER, "")
    secret = str(conn.app.state.settings.service_token)
    if not sid or not header or not hmac.compare_digest(csrf_token(secret, sid).encode(), header.encode()):
        raise PermissionDenied("The CSRF token is missing or wrong. Reload the page and try again.", code="csrf_failed")


def check_origin(conn: HTTPConnection) -> None:
    """A browser request from another site is refused (login CSRF): its Origin, when sent, must be ours."""
    origin = conn.headers.get("origin")
    allowed = conn.app.state.settings.allowed_origins
    if (origin is not None and origin not in allowed) or conn.headers.get("sec-fetch-site") == "cross-site":
        raise PermissionDenied("Requests from other sites are not accepted here.", code="csrf_failed")


async def authenticate(conn: HTTPConnection, *, csrf: bool = True) -> Principal:
    """The caller of this request, from a Bearer token or the access cookie (with CSRF check)."""
    verifier: TokenVerifier = conn.app.state.tokens
    token = _bearer(conn)
    via_cookie = False
    if token is None:
        token = conn.cookies.get(ACCESS_COOKIE)
        via_cookie = True
    if not token:
        raise NotAuthenticated()
    claims = await verifier.verify(token)
    if via_cookie and csrf and conn.scope["type"] == "http" and conn.scope["method"] not in SAFE_METHODS:
        check_csrf(conn, claims.get("sid"))
    return Principal(user_id=int(claims["sub"]), nickname=str(claims.get("name", "")), via_cookie=via_cookie)
