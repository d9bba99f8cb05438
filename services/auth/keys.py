"""Ed25519 signing keys: kept in the auth database so every auth instance signs with the same key,
published as a JWKS, rotated without a redeploy (``python -m services.auth rotate-key``).

Only the auth service can mint tokens: the other services hold public keys only.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from databases import Database
from jwt.algorithms import OKPAlgorithm

from services.kit.responses import utcnow
from services.kit.settings import SERVICES
from services.kit.tokens import ALGORITHM, ISSUER, audience

from .tables import signing_keys

ACCESS_TOKEN_TTL_S = 15 * 60  # short: access tokens are revoked by expiry
AUDIENCES = [audience(name) for name in SERVICES]


@dataclass
class KeyRing:
    """The signing key and every published public key."""

    kid: str
    private_key: Ed25519PrivateKey
    jwks: dict[str, Any]

    def mint_access(self, *, user_id: int, nickname: str, sid: str) -> str:
        """An access token of one session (``sid``: its refresh family, to which the CSRF token is bound)."""
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "name": nickname,
            "aud": AUDIENCES,
            "iss": ISSUER,
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL_S,
            "typ": "access",
            "sid": sid,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def sign(self, claims: dict[str, Any], *, purpose: str, ttl_s: int) -> str:
        """A short-lived signed value for this service alone (e.g. a cookie), not usable as an access token."""
        now = int(time.time())
        body = {**claims, "aud": f"teammoa-auth:{purpose}", "iss": ISSUER, "iat": now, "exp": now + ttl_s}
        return jwt.encode(body, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def read(self, value: str, *, purpose: str) -> dict[str, Any] | None:
        """The claims of a value ``sign`` made for this purpose, unexpired and signed by a published key."""
        try:
            kid = jwt.get_unverified_header(value).get("kid")
            jwk = next((k for k in self.jwks["keys"] if k.get("kid") == kid), None)
            if jwk is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                value,
                jwt.PyJWK(jwk, algorithm=ALGORITHM).key,
                algorithms=[ALGORITHM],
                audience=f"teammoa-auth:{purpose}",
                issuer=ISSUER,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        return claims


def _new_key() -> tuple[str, str, str]:
    key = Ed25519PrivateKey.generate()
    kid = secrets.token_hex(8)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return kid, pem, json.dumps(jwk)


async def add_key(db: Database) -> str:
    """Create a new signing key; it signs from now on, older keys stay published until retired."""
    kid, pem, jwk = _new_key()
    await db.execute(signing_keys.insert().values(kid=kid, private_pem=pem, public_jwk=jwk, created_at=utcnow()))
    return kid


async def load(db: Database) -> KeyRing:
    """The newest active key signs; every active key is published."""
    query = (
        signing_keys.select()
        .where(signing_keys.c.retired_at.is_(None))
        .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid)
    )
    rows = await db.fetch_all(query)
    if not rows:
        await add_key(db)
        rows = await db.fetch_all(query)
    newest = rows[0]
    private = serialization.load_pem_private_key(newest["private_pem"].encode(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    return KeyRing(kid=newest["kid"], private_key=private, jwks={"keys": [json.loads(row["public_jwk"]) for row in rows]})


async def retire_older_than_newest(db: Database, keep: int = 2) -> None:
    """Stop publishing all but the ``keep`` newest keys (run after tokens signed by them expired)."""
    rows = await db.fetch_all(
        sa.select(signing_keys.c.kid).where(signing_keys.c.retired_at.is_(None)).order_by(signing_keys.c.created_at.desc())
    )
    for row in rows[keep:]:
        await db.execute(signing_keys.update().where(signing_keys.c.kid == row["kid"]).values(retired_at=utcnow()))
