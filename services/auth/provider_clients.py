"""Talking to sign-in providers, through Authlib: the authorization URL (code flow, PKCE S256, state,
nonce) and the code exchange, then who signed in.

OpenID Connect: discovery from ``<issuer>/.well-known/openid-configuration`` (its ``issuer`` must be the
configured one, character for character), the ID token verified against the provider's JWKS (cached; refetched
once when a token names an unknown ``kid``, at most every ``JWKS_REFETCH_MIN_S``), ``iss``, ``aud`` (and
``azp``), ``exp``/``iat`` with ``CLOCK_SKEW_S`` of leeway, and the ``nonce`` of this browser's flow. Claims the
ID token lacks (e-mail, names) come from the userinfo endpoint, whose ``sub`` must match.

GitHub is plain OAuth2: the code is exchanged for an access token, then ``GET /user`` says who it is (its
numeric ``id`` is the subject, never the login, which can be renamed) and ``GET /user/emails`` which address is
primary and verified.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2  # what Authlib's HTTP client is built on
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from .providers import ProviderConfig

TIMEOUT_S = 5.0
CLOCK_SKEW_S = 60
METADATA_TTL_S = 3600
JWKS_TTL_S = 3600
JWKS_REFETCH_MIN_S = 1.0  # a token naming an unknown key refetches the JWKS at most once a second
OIDC_SCOPE = "openid email profile"
GITHUB_SCOPE = "read:user user:email"
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class ProviderUnavailable(Exception):
    """The provider did not answer, or not sensibly (network error, 5xx, broken discovery)."""


class ProviderRejected(Exception):
    """The provider's answer does not prove who signed in (bad token, wrong claims, refused code)."""


@dataclass(frozen=True)
class Identity:
    """Who signed in at a provider: keyed by (issuer, subject), never by e-mail."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    username: str
    name: str


def _auth_method(config: ProviderConfig, metadata: dict[str, Any] | None) -> str:
    """GitHub documents the secret in the form body; OIDC providers say what they take (Basic by default)."""
    if config.kind == "github":
        return "client_secret_post"
    offered = (metadata or {}).get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return "client_secret_basic" if "client_secret_basic" in offered else "client_secret_post"


def _oauth_client(
    config: ProviderConfig, scope: str, redirect_uri: str, metadata: dict[str, Any] | None = None
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=str(config.client_secret),
        token_endpoint_auth_method=_auth_method(config, metadata),
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=TIMEOUT_S,
        follow_redirects=False,
    )


async def _exchange(
    config: ProviderConfig, scope: str, token_url: str, code: str, verifier: str, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Code + PKCE verifier for tokens; a refusal is ProviderRejected, no answer ProviderUnavailable."""
    async with _oauth_client(config, scope, config.redirect_uri, metadata) as client:
        try:
            token = await client.fetch_token(token_url, code=code, code_verifier=verifier, grant_type="authorization_code")
        except OAuthError as exc:
            raise ProviderRejected(f"token endpoint refused the code: {exc.error}") from None
        except httpx2.HTTPStatusError as exc:
            if exc.response.status_code >= 500:
                raise ProviderUnavailable(f"token endpoint answered {exc.response.status_code}") from None
            raise ProviderRejected(f"token endpoint answered {exc.response.status_code}") from None
        except (httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}") from None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise ProviderRejected("no access token in the token response")
    return dict(token)


async def _get_json(url: str, *, headers: dict[str, str] | None = None) -> Any:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as http:
            response = await http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise ProviderUnavailable(f"{url} answered {response.status_code}")
    if response.status_code != 200:
        raise ProviderRejected(f"{url} answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable(f"{url} did not answer JSON") from None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


class OidcClient:
    """One OpenID Connect provider: discovery and JWKS cached per process."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL_S:
            return self._metadata
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await _get_json(url)
        if not isinstance(document, dict) or document.get("issuer") != self.config.issuer:
            raise ProviderUnavailable("the discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not _text(document.get(key)).startswith(("https://", "http://")):
                raise ProviderUnavailable(f"the discovery document has no {key}")
        self._metadata, self._metadata_at = document, time.monotonic()
        return document

    async def _key_set(self, *, refetch: bool) -> KeySet:
        async with self._lock:
            age = time.monotonic() - self._keys_at
            if self._keys is not None and (age < JWKS_REFETCH_MIN_S or (not refetch and age < JWKS_TTL_S)):
                return self._keys
            document = await _get_json((await self.metadata())["jwks_uri"])
            try:
                keys = KeySet.import_key_set(document)
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnavailable("the provider's JWKS cannot be read") from None
            self._keys, self._keys_at = keys, time.monotonic()
            return keys

    async def authorization_url(self, *, state: str, nonce: str, verifier: str) -> str:
        metadata = await self.metadata()
        client = _oauth_client(self.config, OIDC_SCOPE, self.config.redirect_uri)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
        return str(url)

    def _algorithms(self, metadata: dict[str, Any]) -> list[str]:
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        return [alg for alg in offered if alg in SIGNING_ALGORITHMS]  # never "none", never HMAC with the secret

    async def verify_id_token(self, id_token: str, *, nonce: str, access_token: str | None) -> dict[str, Any]:
        """The claims of a valid ID token for this client and this flow; ProviderRejected otherwise."""
        metadata = await self.metadata()
        algorithms = self._algorithms(metadata)
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(refetch=False), algorithms=algorithms)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, await self._key_set(refetch=True), algorithms=algorithms)
        except InvalidKeyIdError:
            raise ProviderRejected("the ID token is signed by a key the provider does not publish") from None
        except (JoseError, ValueError) as exc:
            raise ProviderRejected(f"the ID token does not verify: {type(exc).__name__}") from None
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.config.issuer},
            "aud": {"essential": True, "value": self.config.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True},
        }
        params = {"nonce": nonce, "client_id": self.config.client_id}
        if access_token and token.claims.get("at_hash"):
            params["access_token"] = access_token
        claims = CodeIDToken(token.claims, token.header, options, params)
        try:
            claims.validate(leeway=CLOCK_SKEW_S)
        except (JoseError, ValueError) as exc:
            raise ProviderRejected(f"the ID token's claims do not hold: {exc}") from None
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat > time.time() + CLOCK_SKEW_S:
            raise ProviderRejected("the ID token was issued in the future")
        return dict(claims)

    async def _userinfo(self, metadata: dict[str, Any], access_token: str, subject: str) -> dict[str, Any]:
        url = _text(metadata.get("userinfo_endpoint"))
        if not url:
            return {}
        info = await _get_json(url, headers={"Authorization": f"Bearer {access_token}"})
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise ProviderRejected("userinfo describes another subject")
        return info

    async def identity(self, *, code: str, verifier: str, nonce: str) -> Identity:
        metadata = await self.metadata()
        token = await _exchange(self.config, OIDC_SCOPE, metadata["token_endpoint"], code, verifier, metadata)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderRejected("no ID token in the token response")
        claims = await self.verify_id_token(id_token, nonce=nonce, access_token=token["access_token"])
        subject = str(claims["sub"])
        if "email" not in claims:
            claims = {**await self._userinfo(metadata, token["access_token"], subject), **claims}
        email = _text(claims.get("email")) or None
        verified = claims.get("email_verified") in (True, "true")  # only when the provider asserts it
        name = _text(claims.get("name")) or _text(claims.get("given_name"))
        return Identity(
            provider=self.config.name,
            issuer=self.config.issuer,
            subject=subject,
            email=email,
            email_verified=bool(email) and verified,
            username=_text(claims.get("preferred_username")) or _text(claims.get("nickname")),
            name=name,
        )


class GitHubClient:
    """GitHub: OAuth2 code flow (with PKCE), then its REST API for the user and e-mails."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    async def authorization_url(self, *, state: str, nonce: str, verifier: str) -> str:
        client = _oauth_client(self.config, GITHUB_SCOPE, self.config.redirect_uri)
        url, _ = client.create_authorization_url(
            f"{self.config.issuer}/login/oauth/authorize", state=state, code_verifier=verifier, allow_signup="true"
        )
        return str(url)

    async def identity(self, *, code: str, verifier: str, nonce: str) -> Identity:
        token = await _exchange(self.config, GITHUB_SCOPE, f"{self.config.issuer}/login/oauth/access_token", code, verifier)
        headers = {**GITHUB_HEADERS, "Authorization": f"Bearer {token['access_token']}"}
        user = await _get_json(f"{self.config.api_url}/user", headers=headers)
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise ProviderRejected("GitHub's /user has no numeric id")
        emails = await _get_json(f"{self.config.api_url}/user/emails", headers=headers)
        listed = emails if isinstance(emails, list) else []
        primary = next((e for e in listed if isinstance(e, dict) and e.get("primary")), None)
        email = _text(primary.get("email")) if primary else ""
        return Identity(
            provider=self.config.name,
            issuer=self.config.issuer,
            subject=str(user["id"]),
            email=email or None,
            email_verified=bool(email) and primary is not None and primary.get("verified") is True,
            username=_text(user.get("login")),
            name=_text(user.get("name")),
        )


ProviderClient = OidcClient | GitHubClient


def client_for(config: ProviderConfig) -> ProviderClient:
    return GitHubClient(config) if config.kind == "github" else OidcClient(config)
