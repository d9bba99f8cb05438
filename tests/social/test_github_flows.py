"""Sign-in with GitHub over HTTP, against tests/social/github_contract.py — a contract server that answers as
GitHub's documentation says GitHub answers (there is no local GitHub, and no internet here). It proves TeamMoa
speaks GitHub's documented protocol; it cannot prove GitHub still answers that way."""

from __future__ import annotations

import itertools

from services.auth.tables import identities
from tests.social.github_contract import GitHubUser
from tests.social.providers import query_of

API = "/api/v1/users"
_ids = itertools.count(9_000_001)


def _user(login: str, *, verified: bool = True, email: str | None = None) -> GitHubUser:
    address = email or f"{login}@users.example.org"
    return GitHubUser(
        id=next(_ids),
        login=login,
        name=None,
        emails=[
            {"email": f"old-{login}@example.org", "primary": False, "verified": True, "visibility": None},
            {"email": address, "primary": True, "verified": verified, "visibility": "private"},
        ],
    )


def test_github_sign_up_uses_the_verified_primary_address_and_the_numeric_id(social_client, provider_login, auth_db):
    octo = _user("octo-cat")
    back = provider_login(social_client, "github", octo)
    assert back.headers["location"] == "/signup/provider"
    proposal = social_client.get(f"{API}/oauth/signup/").json()
    assert proposal["email"] == "octo-cat@users.example.org" and proposal["email_verified"] is True
    assert proposal["username"] == "octo-cat" and proposal["label"] == "GitHub"
    created = social_client.post(f"{API}/oauth/signup/", json={"username": "octo", "nickname": "Octo"})
    assert created.status_code == 201 and created.json()["signed_in"] is True
    row = auth_db.one(identities.select().where(identities.c.provider == "github"))
    assert row["subject"] == str(octo.id)
    # a renamed GitHub login is still the same person: the id is the key
    social_client.cookies.clear()
    octo.login = "octo-renamed"
    assert provider_login(social_client, "github", octo).headers["location"] == "/teams"
    assert social_client.get(f"{API}/me/").json()["username"] == "octo"


def test_an_unverified_github_primary_address_is_not_taken_as_verified(social_client, provider_login):
    provider_login(social_client, "github", _user("unsure", verified=False))
    assert social_client.get(f"{API}/oauth/signup/").json()["email_verified"] is False


def test_github_refusing_the_code_is_a_refused_sign_in(social_client, github):
    github.sign_in_as(_user("replayer"))
    started = social_client.get(f"{API}/oauth/github/start/", follow_redirects=False).headers["location"]
    import httpx

    with httpx.Client() as browser:
        back = browser.get(started, follow_redirects=False).headers["location"]
    github.codes.clear()  # the code expired at GitHub before it came back
    response = social_client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert response.status_code == 303
    assert query_of(response.headers["location"])["oauth_error"] == "provider_rejected"


def test_github_down_after_the_redirect_is_a_clear_error(social_client, github):
    github.sign_in_as(_user("downer"))
    started = social_client.get(f"{API}/oauth/github/start/", follow_redirects=False).headers["location"]
    assert query_of(started)["code_challenge_method"] == "S256"
    import httpx

    with httpx.Client() as browser:
        back = browser.get(started, follow_redirects=False).headers["location"]
    github.down = True
    try:
        response = social_client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    finally:
        github.down = False
    assert response.status_code == 303
    assert query_of(response.headers["location"])["oauth_error"] == "provider_unavailable"


def test_github_refuses_a_redirect_uri_that_is_not_ours(social_client, github):
    github.sign_in_as(_user("strayer"))
    started = social_client.get(f"{API}/oauth/github/start/", follow_redirects=False).headers["location"]
    assert query_of(started)["redirect_uri"] == "http://testserver/api/v1/users/oauth/github/callback/"
    import httpx

    evil = started.replace("http%3A%2F%2Ftestserver", "http%3A%2F%2Fevil.example")
    with httpx.Client() as browser:
        answer = browser.get(evil, follow_redirects=False)
    assert answer.status_code == 400 and answer.json() == {"error": "redirect_uri_mismatch"}
