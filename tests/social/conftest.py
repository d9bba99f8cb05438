"""Fixtures of the social sign-in suite: a real OpenID provider (oidc-provider on Node) and GitHub's
contract server, both on 127.0.0.1, and an embedded TeamMoa configured to use them.

    op              the OpenID provider (session-scoped); TeamMoa knows it as "local"
    github          the GitHub contract server (session-scoped)
    social_client   a TestClient of a TeamMoa with both providers configured (site http://testserver)
    provider_login  (client, provider, account) → the callback response after signing in at the provider
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from tests.auth.conftest import fx_auth_db  # noqa: F401 - the auth database fixture, shared
from tests.social.github_contract import GitHubContract, GitHubUser
from tests.social.providers import CLIENT_ID, CLIENT_SECRET, OpenIdProvider

SITE = "http://testserver"
OIDC_CALLBACK = f"{SITE}/api/v1/users/oauth/local/callback/"
GITHUB_CALLBACK = f"{SITE}/api/v1/users/oauth/github/callback/"


@pytest.fixture(name="op", scope="session")
def fx_op() -> Iterator[OpenIdProvider]:
    provider = OpenIdProvider.start([OIDC_CALLBACK])
    yield provider
    provider.stop()


@pytest.fixture(name="github", scope="session")
def fx_github() -> Iterator[GitHubContract]:
    contract = GitHubContract(CLIENT_ID, CLIENT_SECRET, GITHUB_CALLBACK).start()
    yield contract
    contract.stop()


def provider_environ(op: OpenIdProvider, github: GitHubContract) -> dict[str, str]:
    return {
        "TEAMMOA_OIDC_LOCAL_ISSUER": op.issuer,
        "TEAMMOA_OIDC_LOCAL_CLIENT_ID": CLIENT_ID,
        "TEAMMOA_OIDC_LOCAL_CLIENT_SECRET": CLIENT_SECRET,
        "TEAMMOA_OIDC_LOCAL_LABEL": "Local ID",
        "TEAMMOA_GITHUB_CLIENT_ID": CLIENT_ID,
        "TEAMMOA_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        "TEAMMOA_GITHUB_URL": github.url,
        "TEAMMOA_GITHUB_API_URL": github.url,
    }


@pytest.fixture(name="social_environ")
def fx_social_environ(environ, op, github) -> dict[str, str]:
    return {**environ, **provider_environ(op, github)}


@pytest.fixture(name="social_client")
def fx_social_client(social_environ) -> Iterator[TestClient]:
    from gateway.embedded import create_app

    with TestClient(create_app(social_environ), base_url=SITE) as client:
        yield client


@pytest.fixture(name="provider_login")
def fx_provider_login(op: OpenIdProvider, github: GitHubContract) -> Callable[..., httpx.Response]:
    """Start at TeamMoa, sign in at the provider as ``account``, come back: TeamMoa's callback response."""

    def login(client: TestClient, provider: str, account: str | GitHubUser, *, start: str | None = None) -> httpx.Response:
        started = client.get(start or f"/api/v1/users/oauth/{provider}/start/", follow_redirects=False)
        assert started.status_code == 302, started.text
        authorize = started.headers["location"]
        if provider == "github":
            assert isinstance(account, GitHubUser)
            github.sign_in_as(account)
            with httpx.Client() as browser:
                back = browser.get(authorize, follow_redirects=False).headers["location"]
        else:
            assert isinstance(account, str)
            back = op.sign_in(authorize, account, until=SITE)
        assert back.startswith(SITE), back
        return client.get(back.removeprefix(SITE), follow_redirects=False)

    return login
