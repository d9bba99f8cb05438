"""Hostile input 9: token and session attacks, through the gateway of the stack.

Forged, expired, wrong-audience, wrong-issuer, ``alg: none``, algorithm-confusion and tampered access
tokens are refused by every service; a refresh token replayed after rotation revokes its whole family;
a cookie-authenticated write without the CSRF header is refused; and the login limit per client address
counts the address Nginx saw, whatever X-Forwarded-For the client sends.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.kit.tokens import ISSUER

pytestmark = pytest.mark.stack
PROTECTED = ["/api/v1/users/me/", "/api/v1/teams/", "/api/v1/teams/1/schedules/me/"]  # auth, teams, schedule


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture(name="signing", scope="module")
def fx_signing(rstack):
    """The stack's current signing key, read from the auth database (what an attacker must not have)."""
    kid, pem = rstack.sql(
        "auth", "SELECT kid, private_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1"
    )[0]
    return kid, serialization.load_pem_private_key(pem.encode(), password=None)


def _claims(user_id: int, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "name": "x",
        "aud": [f"teammoa:{s}" for s in ("auth", "teams", "schedule", "realtime")],
        "iss": ISSUER,
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _statuses(rstack, token: str) -> list[int]:
    with rstack.http() as http:
        return [http.get(path, headers={"Authorization": f"Bearer {token}"}).status_code for path in PROTECTED]


def test_a_well_signed_token_is_accepted_as_the_control(rstack, signing):
    kid, key = signing
    user = rstack.account("tokok")
    token = jwt.encode(_claims(user.id), key, algorithm="EdDSA", headers={"kid": kid})
    assert _statuses(rstack, token)[:2] == [200, 200]


def test_forged_expired_wrong_audience_and_unsigned_tokens_are_refused_everywhere(rstack, signing):
    kid, key = signing
    user = rstack.account("tokbad")
    stranger = Ed25519PrivateKey.generate()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    good = jwt.encode(_claims(user.id), key, algorithm="EdDSA", headers={"kid": kid})
    head, payload, signature = good.split(".")
    attacks = {
        "forged with the real kid": jwt.encode(_claims(user.id), stranger, algorithm="EdDSA", headers={"kid": kid}),
        "forged with a new kid": jwt.encode(_claims(user.id), stranger, algorithm="EdDSA", headers={"kid": "evil"}),
        "expired": jwt.encode(
            _claims(user.id, iat=int(time.time()) - 3600, exp=int(time.time()) - 60),
            key,
            algorithm="EdDSA",
            headers={"kid": kid},
        ),
        "wrong audience": jwt.encode(_claims(user.id, aud="someone-else"), key, algorithm="EdDSA", headers={"kid": kid}),
        "wrong issuer": jwt.encode(_claims(user.id, iss="evil"), key, algorithm="EdDSA", headers={"kid": kid}),
        "not an access token": jwt.encode(_claims(user.id, typ="refresh"), key, algorithm="EdDSA", headers={"kid": kid}),
        "no expiry": jwt.encode(_claims(user.id, exp=None), key, algorithm="EdDSA", headers={"kid": kid}),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{payload}.",
        "alg none, signature kept": f"{_b64({'alg': 'none', 'kid': kid})}.{payload}.{signature}",
        "HS256 keyed with the public key": "{}.{}.{}".format(*_hs256_confusion(payload, kid, public_pem)),
        "tampered subject": f"{head}.{_b64(_claims(user.id + 1))}.{signature}",
        "garbage": "not.a.token",
    }
    accepted = {name: statuses for name, token in attacks.items() if (statuses := _statuses(rstack, token)) != [401] * 3}
    assert not accepted, accepted
    with rstack.http() as http:
        expired = http.get("/api/v1/teams/", headers={"Authorization": f"Bearer {attacks['expired']}"})
    assert expired.json()["error"]["code"] == "token_expired"  # the client refreshes and retries


def _hs256_confusion(payload: str, kid: str, public_pem: bytes) -> tuple[str, str, str]:
    import hashlib
    import hmac

    head = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
    mac = hmac.new(public_pem, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return head, payload, base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def test_a_refresh_token_replayed_after_rotation_revokes_the_family(rstack):
    user = rstack.account("tokrefresh")
    old = user.cookies["teammoa_refresh"]
    with rstack.http() as http:
        rotated = http.post("/api/v1/users/refresh/", json={"refresh_token": old})
        assert rotated.status_code == 200, rotated.text
        new = rotated.cookies["teammoa_refresh"]
        http.cookies.clear()
        replayed = http.post("/api/v1/users/refresh/", json={"refresh_token": old})
        http.cookies.clear()
        after = http.post("/api/v1/users/refresh/", json={"refresh_token": new})
    assert replayed.status_code == 401
    assert after.status_code == 401, "the rotated token outlived the replay of its predecessor"


def test_a_cookie_authenticated_write_needs_the_csrf_header(rstack):
    user = rstack.account("tokcsrf")
    body = {"name": "CSRF", "capacity": 3, "join_password": "team-pass-42"}
    cookies = {"Cookie": user.cookie_header}
    with rstack.http() as http:
        missing = http.post("/api/v1/teams/", json=body, headers=cookies)
        wrong = http.post("/api/v1/teams/", json=body, headers={**cookies, "X-CSRF-Token": "guess"})
        right = http.post("/api/v1/teams/", json=body, headers={**cookies, "X-CSRF-Token": user.cookies["teammoa_csrf"]})
        me = http.patch("/api/v1/users/me/", json={"profile": "csrf"}, headers=cookies)
    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["error"]["code"] == "csrf_failed"
    assert me.status_code == 403
    assert right.status_code == 201, right.text


def test_the_login_limit_per_address_ignores_a_forged_x_forwarded_for(rstack):
    limit = 20  # failed logins per client address in 15 minutes (docs/spec.md)
    statuses = []
    try:
        with httpx.Client(base_url=rstack.url, timeout=10) as http:
            for n in range(limit + 2):
                forged = f"203.0.113.{n + 1}"
                statuses.append(
                    http.post(
                        "/api/v1/users/login/",
                        json={"login": f"nobody{uuid.uuid4().hex[:8]}", "password": "wrong-pass-1"},
                        headers={"X-Forwarded-For": forged, "X-Real-IP": forged, "Forwarded": f"for={forged}"},
                    ).status_code
                )
    finally:  # forget this address's failures: later tests of the suite log in from it
        client = redis.Redis(port=rstack.redis.port)
        for key in client.scan_iter(match="*rl:login:addr:*"):
            client.delete(key)
        client.close()
    assert statuses[:limit] == [401] * limit, statuses
    assert statuses[limit:] == [429, 429], statuses
