"""Sign-in with a provider through the real stack: Nginx in front, auth on MariaDB and Redis, a real OpenID
provider (oidc-provider on Node) — the redirect URI, the flow cookie, the redirects and the session cookies all
pass the production gateway configuration, and neither the gateway's nor auth's logs keep the code."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Stack, free_block, run_stack
from tests.social.providers import CLIENT_ID, CLIENT_SECRET, OpenIdProvider, query_of

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(name="social_stack", scope="module")
def fx_social_stack() -> Iterator[tuple[Stack, OpenIdProvider]]:
    port = free_block()
    op = OpenIdProvider.start([f"http://127.0.0.1:{port}/api/v1/users/oauth/corp/callback/"])
    try:
        env = {
            "TEAMMOA_OIDC_CORP_ISSUER": op.issuer,
            "TEAMMOA_OIDC_CORP_CLIENT_ID": CLIENT_ID,
            "TEAMMOA_OIDC_CORP_CLIENT_SECRET": CLIENT_SECRET,
        }
        for stack in run_stack(env, gateway_port=port):
            yield stack, op
    finally:
        op.stop()


def test_a_provider_sign_up_and_sign_in_work_through_the_gateway(social_stack):
    stack, op = social_stack
    op.add_account("stack-person", email="stack-person@example.org", name="Stack Person")
    with httpx.Client(base_url=stack.url, timeout=20) as browser:
        listed = browser.get("/api/v1/users/oauth/providers/").json()["providers"]
        assert listed == [{"name": "corp", "label": "Corp", "kind": "oidc"}]
        started = browser.get("/api/v1/users/oauth/corp/start/", headers={"Host": "evil.example"})
        assert started.status_code == 302
        authorize = started.headers["location"]
        assert query_of(authorize)["redirect_uri"] == f"{stack.url}/api/v1/users/oauth/corp/callback/"
        assert "teammoa_signin_flow" in browser.cookies
        back = op.sign_in(authorize, "stack-person", until=stack.url)
        code = query_of(back)["code"]
        landed = browser.get(back.removeprefix(stack.url))
        assert landed.status_code == 303 and landed.headers["location"] == "/signup/provider"
        proposal = browser.get("/api/v1/users/oauth/signup/").json()
        assert proposal["username"] == "stack-person" and proposal["email_verified"] is True
        created = browser.post("/api/v1/users/oauth/signup/", json={"username": "stack-person", "nickname": "Stacker"})
        assert created.status_code == 201, created.text
        assert browser.get("/api/v1/users/me/").json()["nickname"] == "Stacker"
    with httpx.Client(base_url=stack.url, timeout=20) as again:
        started = again.get("/api/v1/users/oauth/corp/start/")
        back = op.sign_in(started.headers["location"], "stack-person", until=stack.url)
        assert again.get(back.removeprefix(stack.url)).headers["location"] == "/teams"
        assert again.get("/api/v1/users/me/").json()["username"] == "stack-person"
    logs = stack.log("nginx-access") + "".join(stack.log(name) for name in stack.state["ports"] if name.startswith("auth"))
    assert code not in logs  # the authorization code is in no log
    audit = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and "teammoa.auth.audit" in line]
    assert any("method=provider:corp" in line["message"] for line in audit), audit
