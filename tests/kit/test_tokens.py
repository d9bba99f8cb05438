"""The JWKS verifier: cached keys, a refetch on an unknown kid (throttled), audience and type checks."""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from services.kit.errors import NotAuthenticated
from services.kit.tokens import ISSUER, TokenVerifier

pytestmark = pytest.mark.anyio


def _key(kid):
    private = Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg="EdDSA")
    return private, jwk


def _token(private, kid, **overrides):
    now = int(time.time())
    claims = {
        "sub": "7",
        "name": "Ann",
        "aud": ["teammoa:teams"],
        "iss": ISSUER,
        "iat": now,
        "exp": now + 60,
        "typ": "access",
    } | overrides
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})


@pytest.fixture(name="keys")
def fx_keys():
    first = _key("k1")
    published = {"keys": [first[1]]}
    calls = []

    async def fetch():
        calls.append(time.monotonic())
        return published

    return first, published, calls, fetch


async def test_a_valid_token_is_accepted_with_one_fetch(keys):
    (private, _), _, calls, fetch = keys
    verifier = TokenVerifier(fetch, service="teams")
    for _ in range(3):
        claims = await verifier.verify(_token(private, "k1"))
    assert claims["sub"] == "7"
    assert len(calls) == 1


async def test_an_unknown_kid_triggers_one_refetch_and_a_rotated_key_works(keys):
    (private, _), published, calls, fetch = keys
    verifier = TokenVerifier(fetch, service="teams")
    await verifier.verify(_token(private, "k1"))
    new_private, new_jwk = _key("k2")
    published["keys"].append(new_jwk)
    verifier._fetched_at -= 10  # past the refetch throttle
    assert (await verifier.verify(_token(new_private, "k2")))["sub"] == "7"
    assert len(calls) == 2


async def test_forged_kids_cannot_make_the_verifier_hammer_auth(keys):
    (private, _), _, calls, fetch = keys
    verifier = TokenVerifier(fetch, service="teams")
    await verifier.verify(_token(private, "k1"))
    for n in range(5):
        with pytest.raises(NotAuthenticated):
            await verifier.verify(_token(private, f"forged{n}"))
    assert len(calls) == 1  # within the throttle interval nothing is refetched


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": ["teammoa:auth"]},
        {"typ": "refresh"},
        {"exp": int(time.time()) - 60},
        {"iss": "someone-else"},
        {"sub": "not-a-number"},
    ],
)
async def test_wrong_audience_type_expiry_issuer_or_subject_is_refused(keys, overrides):
    (private, _), _, _, fetch = keys
    verifier = TokenVerifier(fetch, service="teams")
    with pytest.raises(NotAuthenticated):
        await verifier.verify(_token(private, "k1", **overrides))


async def test_unsigned_and_hmac_tokens_are_refused(keys):
    (_, jwk), _, _, fetch = keys
    verifier = TokenVerifier(fetch, service="teams")
    claims = {"sub": "7", "aud": ["teammoa:teams"], "iss": ISSUER, "iat": 0, "exp": 2**40, "typ": "access"}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    hmac_signed = jwt.encode(claims, jwk["x"], algorithm="HS256", headers={"kid": "k1"})
    for token in (unsigned, hmac_signed, "garbage", ""):
        with pytest.raises(NotAuthenticated):
            await verifier.verify(token)
