"""The verifier remembers tokens that verified: until they expire, and only while their key is published."""

import datetime as dt
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from services.kit import tokens
from services.kit.errors import NotAuthenticated
from services.kit.tokens import ISSUER, JWKS_TTL_S, TokenVerifier

pytestmark = pytest.mark.anyio


def _key(kid):
    private = Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg="EdDSA")
    return private, jwk


def _token(private, kid, ttl_s=60):
    now = int(time.time())
    claims = {
        "sub": "7",
        "name": "Ann",
        "aud": ["teammoa:teams"],
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl_s,
        "typ": "access",
    }
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})


@pytest.fixture(name="published")
def fx_published():
    private, jwk = _key("k1")
    return {"private": private, "document": {"keys": [jwk]}}


@pytest.fixture(name="verifier")
def fx_verifier(published):
    async def fetch():
        return published["document"]

    return TokenVerifier(fetch, service="teams")


async def test_a_remembered_token_is_refused_once_it_expires(published, verifier, monkeypatch):
    token = _token(published["private"], "k1", ttl_s=30)
    assert (await verifier.verify(token))["sub"] == "7"
    assert (await verifier.verify(token))["sub"] == "7"
    later = time.time() + 60

    class Later(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.fromtimestamp(later, tz)

    monkeypatch.setattr(tokens.time, "time", lambda: later)  # the remembered token's clock
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)  # PyJWT's, for the full check
    with pytest.raises(NotAuthenticated) as refused:
        await verifier.verify(token)
    assert refused.value.code == "token_expired"


async def test_a_remembered_token_is_refused_once_its_key_is_withdrawn(published, verifier):
    token = _token(published["private"], "k1")
    await verifier.verify(token)
    new_private, new_jwk = _key("k2")
    published["document"] = {"keys": [new_jwk]}  # k1 withdrawn from the JWKS
    verifier._fetched_at -= JWKS_TTL_S + 1  # the cached key set is due for a refetch
    assert (await verifier.verify(_token(new_private, "k2")))["sub"] == "7"
    with pytest.raises(NotAuthenticated):
        await verifier.verify(token)


async def test_changing_the_returned_claims_does_not_change_the_next_answer(published, verifier):
    token = _token(published["private"], "k1")
    first = await verifier.verify(token)
    first["sub"] = "8"
    assert (await verifier.verify(token))["sub"] == "7"


async def test_a_token_with_a_bad_signature_is_refused_even_beside_a_remembered_one(published, verifier):
    token = _token(published["private"], "k1")
    await verifier.verify(token)
    head, body, signature = token.split(".")
    forged = ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    with pytest.raises(NotAuthenticated):
        await verifier.verify(forged)
