"""Access tokens: EdDSA JWTs with a kid, 15 minutes, one audience per service, published keys; and
every forgery we can think of is a 401 on GET me/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.tables import signing_keys
from services.kit.tokens import ACCESS_COOKIE
from tests.auth.conftest import API, error_code, login


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _me(client, token: str):
    return client.get(f"{API}/me/", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(name="alice")
def fx_alice(signup):
    return signup("alice")


@pytest.fixture(name="signing_key")
def fx_signing_key(auth_db) -> tuple[str, Ed25519PrivateKey]:
    """The auth service's own signing key, read from its database (to mint tokens auth never would)."""
    row = auth_db.one(signing_keys.select().where(signing_keys.c.retired_at.is_(None)))
    key = serialization.load_pem_private_key(row["private_pem"].encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return row["kid"], key


def _claims(alice, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(alice.id),
        "name": alice.nickname,
        "aud": ["teammoa:auth", "teammoa:teams"],
        "iss": "teammoa-auth",
        "iat": now,
        "exp": now + 900,
        "typ": "access",
        "jti": "x",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_access_tokens_are_eddsa_jwts_with_a_published_kid_lasting_15_minutes(client, alice):
    header = jwt.get_unverified_header(alice.token)
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    jwks = client.get("/.well-known/jwks.json").json()

    assert header["alg"] == "EdDSA"
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["sub"] == str(alice.id) and claims["typ"] == "access" and claims["iss"] == "teammoa-auth"
    assert set(claims["aud"]) == {"teammoa:auth", "teammoa:teams", "teammoa:schedule", "teammoa:realtime"}


def test_the_published_keys_verify_the_token_and_hold_no_private_part(client, alice):
    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"OKP", "Ed25519", "EdDSA", "sig"}
    assert "d" not in key
    public = jwt.PyJWK(key, algorithm="EdDSA").key
    claims = jwt.decode(alice.token, public, algorithms=["EdDSA"], audience="teammoa:schedule")
    assert claims["sub"] == str(alice.id)


def test_a_token_minted_with_the_real_key_is_accepted(client, alice, signing_key):
    kid, key = signing_key

    token = jwt.encode(_claims(alice), key, algorithm="EdDSA", headers={"kid": kid})

    assert _me(client, token).status_code == 200, "the forgery tests below would prove nothing otherwise"


def _forged(alice, signing_key) -> dict[str, str]:
    kid, key = signing_key
    public = key.public_key()
    raw_public = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem_public = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    valid = jwt.encode(_claims(alice), key, algorithm="EdDSA", headers={"kid": kid})
    head, payload, signature = valid.split(".")
    forged_payload = _b64(json.dumps(_claims(alice, sub="999")).encode())

    def hs256(secret: bytes) -> str:
        unsigned = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, _claims(alice))
        return unsigned + "." + _b64(hmac.new(secret, unsigned.encode(), hashlib.sha256).digest())

    stranger = Ed25519PrivateKey.generate()
    return {
        "alg none": _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, _claims(alice)) + ".",
        "alg none without kid": _unsigned({"alg": "none"}, _claims(alice)) + ".",
        "HS256 with the raw public key": hs256(raw_public),
        "HS256 with the PEM public key": hs256(pem_public),
        "HS256 with the base64url public key": hs256(_b64(raw_public).encode()),
        "unknown kid": jwt.encode(_claims(alice), stranger, algorithm="EdDSA", headers={"kid": "unknown-kid"}),
        "another key claiming the real kid": jwt.encode(_claims(alice), stranger, algorithm="EdDSA", headers={"kid": kid}),
        "no kid": jwt.encode(_claims(alice), key, algorithm="EdDSA"),
        "audience of another service only": jwt.encode(
            _claims(alice, aud="teammoa:teams"), key, algorithm="EdDSA", headers={"kid": kid}
        ),
        "no audience": jwt.encode(_claims(alice, aud=None), key, algorithm="EdDSA", headers={"kid": kid}),
        "another issuer": jwt.encode(_claims(alice, iss="someone-else"), key, algorithm="EdDSA", headers={"kid": kid}),
        "not an access token": jwt.encode(_claims(alice, typ="refresh"), key, algorithm="EdDSA", headers={"kid": kid}),
        "a subject that is not a user id": jwt.encode(
            _claims(alice, sub="alice"), key, algorithm="EdDSA", headers={"kid": kid}
        ),
        "tampered payload": f"{head}.{forged_payload}.{signature}",
        "tampered signature": f"{head}.{payload}.{signature[:-4]}AAAA",
        "signature stripped": f"{head}.{payload}.",
        "garbage": "not.a.jwt",
        "empty segments": "..",
    }


def test_forged_tokens_are_refused(client, alice, signing_key):
    for case, token in _forged(alice, signing_key).items():
        response = _me(client, token)
        assert response.status_code == 401, (case, response.text)
        assert error_code(response) == "not_authenticated", case


def test_forged_tokens_are_refused_in_the_access_cookie_too(client, alice, signing_key):
    client.cookies.set(ACCESS_COOKIE, alice.token)
    assert client.get(f"{API}/me/").status_code == 200, "the cookie reaches the service"
    for case, token in _forged(alice, signing_key).items():
        client.cookies.set(ACCESS_COOKIE, token)
        response = client.get(f"{API}/me/")
        assert response.status_code == 401, (case, response.text)


def test_an_expired_token_is_refused_as_expired(client, alice, signing_key):
    kid, key = signing_key
    past = int(time.time()) - 16 * 60
    token = jwt.encode(_claims(alice, iat=past, exp=past + 900), key, algorithm="EdDSA", headers={"kid": kid})

    response = _me(client, token)

    assert response.status_code == 401
    assert error_code(response) == "token_expired"


def test_a_refresh_token_is_not_an_access_token(client, alice):
    session = login(client, "alice", keep_cookies=False)

    assert _me(client, session.refresh).status_code == 401
    client.cookies.set(ACCESS_COOKIE, session.refresh)
    assert client.get(f"{API}/me/").status_code == 401


def test_a_request_without_credentials_is_401(client):
    response = client.get(f"{API}/me/")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic YWxpY2U6cHc=", "Token abc"])
def test_a_malformed_authorization_header_is_401(client, header):
    assert client.get(f"{API}/me/", headers={"Authorization": header}).status_code == 401


def test_a_token_of_a_deactivated_account_stops_working(client, alice):
    assert (
        client.request("DELETE", f"{API}/me/", json={"password": alice.password}, headers=alice.headers).status_code == 204
    )

    assert _me(client, alice.token).status_code == 401
