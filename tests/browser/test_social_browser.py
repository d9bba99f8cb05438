"""Sign-in with a provider in Chromium: a real OpenID provider (oidc-provider on Node, tests/oidc_provider) and
GitHub's contract server (tests/social/github_contract.py: GitHub's documented responses, not GitHub), with a
TeamMoa of this module's own that has both configured.

Sign up with a provider, sign in again, connect from the profile, disconnect, and the e-mail collision."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.browser.conftest import LiveServer, log_in, open_path, screenshot, serve, sign_up_and_log_in, wait_ready
from tests.servers import free_port
from tests.social.conftest import provider_environ
from tests.social.github_contract import GitHubContract, GitHubUser
from tests.social.providers import CLIENT_ID, CLIENT_SECRET, OpenIdProvider

pytestmark = pytest.mark.browser


@pytest.fixture(name="social_site", scope="module")
def fx_social_site(tmp_path_factory) -> Iterator[tuple[LiveServer, OpenIdProvider, GitHubContract]]:
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    op = OpenIdProvider.start([f"{site}/api/v1/users/oauth/local/callback/"])
    github = GitHubContract(CLIENT_ID, CLIENT_SECRET, f"{site}/api/v1/users/oauth/github/callback/").start()
    try:
        server = serve(tmp_path_factory.mktemp("social-site"), port, provider_environ(op, github))
        live = next(server)
        yield live, op, github
        server.close()
    finally:
        github.stop()
        op.stop()


@pytest.fixture(name="live_server", scope="module")
def fx_live_server(social_site) -> LiveServer:
    """The pages of this module talk to the TeamMoa that has the providers configured."""
    return social_site[0]


def _at_provider(page, account: str) -> None:
    page.wait_for_selector("#op-login")
    page.fill("#op-login", account)
    page.click("#op-submit")


def test_sign_up_with_a_provider_then_sign_in_again(new_page, social_site):
    _, op, _ = social_site
    sub = "br-" + uuid.uuid4().hex[:8]
    op.add_account(sub, email=f"{sub}@example.org", name="Browser Person")
    page = new_page()
    open_path(page, "/signup")
    page.locator('a.provider-button[data-provider="local"]').wait_for()
    screenshot(page, "social-signup-buttons")
    page.click('a.provider-button[data-provider="local"]')
    _at_provider(page, sub)
    page.wait_for_url("**/signup/provider")
    wait_ready(page)
    assert page.input_value("input[name=username]") == sub
    assert page.input_value("input[name=nickname]") == "Browser Person"
    assert page.locator(f'[data-email="{sub}@example.org"]').is_visible()
    screenshot(page, "social-signup-provider")
    page.fill("input[name=nickname]", "Brow")
    page.click("form button[type=submit]")
    page.wait_for_url("**/teams")
    wait_ready(page)
    assert "Brow" in page.locator("header.page-header").inner_text()  # "Your teams, Brow."

    again = new_page()  # another browser: no TeamMoa session, no provider session
    open_path(again, "/login")
    again.click('a.provider-button[data-provider="local"]')
    _at_provider(again, sub)
    again.wait_for_url("**/teams")
    wait_ready(again)
    open_path(again, "/profile")
    assert again.locator('.connected-account[data-provider="local"]').is_visible()
    assert again.locator("form[aria-label='Set a password']").is_visible()  # created by a provider: no password yet
    assert "null" not in again.locator(".connected-accounts").inner_text()


def test_connect_from_the_profile_then_disconnect(new_page, social_site):
    _, _, github = social_site
    page = new_page()
    user = sign_up_and_log_in(page, social_site[0], "conn" + uuid.uuid4().hex[:6])
    emails = [{"email": "hub@example.org", "primary": True, "verified": True, "visibility": None}]
    github.sign_in_as(GitHubUser(id=7_000_000 + uuid.uuid4().int % 100_000, login="hub-x", name=None, emails=emails))
    open_path(page, "/profile")
    page.click('button[data-connect="github"]')
    page.wait_for_url("**/profile?connected=github")
    wait_ready(page)
    row = page.locator('.connected-account[data-provider="github"]')
    row.wait_for()
    assert "hub@example.org" in row.inner_text()
    screenshot(page, "social-profile-connected")

    other = new_page()  # the connected account now signs in to the same TeamMoa account
    open_path(other, "/login")
    other.click('a.provider-button[data-provider="github"]')
    other.wait_for_url("**/teams")
    open_path(other, "/profile")
    assert user.username in other.locator(".profile-summary").inner_text()

    page.click('button[data-disconnect="github"]')
    row.wait_for(state="detached")
    assert page.locator('button[data-connect="github"]').is_visible()


def test_an_email_that_belongs_to_an_account_is_not_linked_and_the_page_says_what_to_do(new_page, social_site):
    live, op, _ = social_site
    page = new_page()
    owner = sign_up_and_log_in(page, live, "own" + uuid.uuid4().hex[:6])
    sub = "col-" + uuid.uuid4().hex[:8]
    op.add_account(sub, email=owner.email, name="Collider")
    stranger = new_page()
    open_path(stranger, "/login")
    stranger.click('a.provider-button[data-provider="local"]')
    _at_provider(stranger, sub)
    stranger.wait_for_url("**/login?oauth_error=email_in_use**")
    wait_ready(stranger)
    notice = stranger.locator('.provider-error[data-code="email_in_use"] .notice')
    notice.wait_for()
    message = notice.inner_text()
    assert "password" in message and "connect Local ID" in message, message  # the label, not the URL's text
    screenshot(stranger, "social-email-collision")
    assert stranger.locator("form[aria-label='Log in']").is_visible()
    log_in(stranger, owner.username, owner.password)  # the owner's way in is unchanged


def test_the_buttons_speak_korean(new_page):
    page = new_page(locale="ko-KR")
    open_path(page, "/login")
    button = page.locator('a.provider-button[data-provider="github"]')
    button.wait_for()
    assert button.inner_text().strip() == "GitHub(으)로 계속하기"
    assert page.locator(".divider-label").inner_text().strip() == "또는 다음으로 로그인"
