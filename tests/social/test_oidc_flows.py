"""Sign-in with a real OpenID Connect provider (oidc-provider on Node, see tests/oidc_provider), over HTTP:
sign-up, sign-in again, connect and disconnect, and every way a sign-in must be refused."""

from __future__ import annotations

import uuid

from services.auth.tables import identities, sign_in_flows, users
from tests.conftest import PASSWORD, token_from_mail
from tests.social.providers import query_of

API = "/api/v1/users"


def _sub() -> str:
    return "op-" + uuid.uuid4().hex[:10]


def _complete_signup(client, **names) -> dict:
    proposal = client.get(f"{API}/oauth/signup/")
    assert proposal.status_code == 200, proposal.text
    body = {"username": proposal.json()["username"], "nickname": proposal.json()["nickname"], **names}
    created = client.post(f"{API}/oauth/signup/", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def test_first_sign_in_proposes_names_then_creates_a_verified_account_with_a_session(op, social_client, provider_login):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org", name="Mina Park")
    back = provider_login(social_client, "local", sub)
    assert back.status_code == 303 and back.headers["location"] == "/signup/provider"
    proposal = social_client.get(f"{API}/oauth/signup/").json()
    assert proposal == {
        "provider": "local",
        "label": "Local ID",
        "email": f"{sub}@example.org",
        "email_verified": True,
        "username": sub,
        "nickname": "Mina Park",
    }
    created = _complete_signup(social_client, nickname="Mina")
    assert created["signed_in"] is True and created["user"]["nickname"] == "Mina" and created["user"]["is_verified"]
    me = social_client.get(f"{API}/me/")
    assert me.status_code == 200 and me.json()["username"] == sub
    # the pending sign-up is spent: a second POST creates nothing
    again = social_client.post(f"{API}/oauth/signup/", json={"username": "other.name", "nickname": "Other"})
    assert again.status_code == 404 and again.json()["error"]["code"] == "no_pending_signup"


def test_signing_in_again_gives_the_session_a_password_sign_in_gives(op, social_client, provider_login, auth_db):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org", name="Second Visit")
    provider_login(social_client, "local", sub)
    user_id = _complete_signup(social_client)["user"]["id"]
    social_client.cookies.clear()
    back = provider_login(social_client, "local", sub)
    assert back.status_code == 303 and back.headers["location"] == "/teams"
    for cookie in ("teammoa_access", "teammoa_refresh", "teammoa_csrf"):
        assert cookie in back.cookies, cookie
    assert social_client.get(f"{API}/me/").json()["id"] == user_id
    refreshed = social_client.post(f"{API}/refresh/", headers={"X-CSRF-Token": social_client.cookies["teammoa_csrf"]})
    assert refreshed.status_code == 200, refreshed.text
    row = auth_db.one(identities.select().where(identities.c.subject == sub))
    assert row["user_id"] == user_id and row["issuer"] == op.issuer and row["last_used_at"] is not None
    assert auth_db.user(user_id)["last_login"] is not None


def _password_user(client, environ, username: str) -> dict:
    """A verified password account, signed in on ``client`` (cookies) — returns its id and CSRF header."""
    email = f"{username}@example.com"
    body = {"username": username, "email": email, "nickname": f"N {username}"[:20], "password": PASSWORD}
    assert client.post(f"{API}/register/", json=body).status_code == 201
    token = token_from_mail(environ["TEAMMOA_DATA_DIR"], email)
    assert client.post(f"{API}/verify-email/", json={"token": token}).status_code == 200
    signed_in = client.post(f"{API}/login/", json={"login": username, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return {"id": signed_in.json()["user"]["id"], "email": email, "csrf": {"X-CSRF-Token": client.cookies["teammoa_csrf"]}}


def _refused(response, code: str, page: str = "/login") -> None:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(page + "?"), location
    assert query_of(location)["oauth_error"] == code, location
    assert "teammoa_access" not in response.cookies


def _callback_parts(op, client, account: str) -> tuple[str, dict[str, str]]:
    """Start a flow and sign in at the provider; our callback's path and query (not yet visited)."""
    started = client.get(f"{API}/oauth/local/start/", follow_redirects=False)
    back = op.sign_in(started.headers["location"], account, until="http://testserver")
    return back.removeprefix("http://testserver").split("?")[0], query_of(back)


def test_a_wrong_or_missing_state_is_refused_and_spends_the_flow(op, social_client, auth_db):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)
    wrong = {**query, "state": "x" + query["state"][1:]}
    _refused(social_client.get(path, params=wrong, follow_redirects=False), "state_mismatch")
    # the flow is spent: even the right state cannot be used now
    _refused(social_client.get(path, params=query, follow_redirects=False), "state_mismatch")
    path, query = _callback_parts(op, social_client, sub)
    without_state = {k: v for k, v in query.items() if k != "state"}
    _refused(social_client.get(path, params=without_state, follow_redirects=False), "state_mismatch")
    assert auth_db.count(identities) == 0


def test_a_callback_from_another_browser_is_refused(op, social_client, social_environ, auth_db):
    """The flow lives in the browser that started it: a code and state replayed elsewhere do nothing."""
    from starlette.testclient import TestClient

    from gateway.embedded import create_app

    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)
    with TestClient(create_app(social_environ), base_url="http://testserver") as other_browser:
        _refused(other_browser.get(path, params=query, follow_redirects=False), "state_mismatch")
    assert auth_db.count(identities) == 0


def test_a_replayed_callback_is_refused(op, social_client, provider_login):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)
    cookie = social_client.cookies["teammoa_signin_flow"]
    first = social_client.get(path, params=query, follow_redirects=False)
    assert first.headers["location"] == "/signup/provider"
    social_client.cookies.set("teammoa_signin_flow", cookie, path="/api/v1/users/oauth/")
    _refused(social_client.get(path, params=query, follow_redirects=False), "state_mismatch")


def test_an_id_token_carrying_another_sign_ins_nonce_is_refused(op, social_client, auth_db):
    """Replayed nonce: flow 2's authorization request carries flow 1's nonce, so the real provider puts it
    in flow 2's ID token; TeamMoa expects flow 2's own nonce."""
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    first = social_client.get(f"{API}/oauth/local/start/", follow_redirects=False).headers["location"]
    old_nonce = query_of(first)["nonce"]
    second = social_client.get(f"{API}/oauth/local/start/", follow_redirects=False).headers["location"]
    assert query_of(second)["nonce"] != old_nonce
    replayed = second.replace("nonce=" + query_of(second)["nonce"], "nonce=" + old_nonce)
    back = op.sign_in(replayed, sub, until="http://testserver")
    _refused(social_client.get(back.removeprefix("http://testserver"), follow_redirects=False), "provider_rejected")
    assert auth_db.count(identities) == 0


def test_tampered_id_tokens_are_refused(op, social_client, auth_db):
    """Each ID token is re-signed by the provider with one thing wrong: only that thing can be the reason."""
    for mode in ("aud", "iss", "expired", "nonce", "unknown_key"):
        sub = _sub()
        op.add_account(sub, email=f"{sub}@example.org")
        op.tamper_next_token(mode)
        path, query = _callback_parts(op, social_client, sub)
        response = social_client.get(path, params=query, follow_redirects=False)
        assert response.status_code == 303 and query_of(response.headers["location"]).get("oauth_error") == (
            "provider_rejected"
        ), (mode, response.headers.get("location"))
        assert "teammoa_signup_pending" not in response.cookies, mode
    assert auth_db.count(identities) == 0
    assert auth_db.count(sign_in_flows.select().where(sign_in_flows.c.purpose == "signup").subquery()) == 0


def test_the_same_flow_untampered_is_accepted(op, social_client):
    """The control for the test above: the provider's own token, same steps, goes through."""
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)
    assert social_client.get(path, params=query, follow_redirects=False).headers["location"] == "/signup/provider"


def test_a_key_the_provider_starts_publishing_is_fetched_when_a_token_names_it(op, social_client):
    import time

    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)
    assert social_client.get(path, params=query, follow_redirects=False).headers["location"] == "/signup/provider"
    fetched = op.jwks_fetches()
    op.publish_rotated_key()
    op.tamper_next_token("rotated_key")
    time.sleep(1.1)  # past the minimum interval between two JWKS fetches
    path, query = _callback_parts(op, social_client, sub)
    assert social_client.get(path, params=query, follow_redirects=False).headers["location"] == "/signup/provider"
    assert op.jwks_fetches() == fetched + 1


def test_an_unverified_provider_email_is_not_taken_as_verified(op, social_client, social_environ, provider_login, auth_db):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org", email_verified=False, name="Unverified")
    assert provider_login(social_client, "local", sub).headers["location"] == "/signup/provider"
    proposal = social_client.get(f"{API}/oauth/signup/").json()
    assert proposal["email_verified"] is False and proposal["email"] == f"{sub}@example.org"
    created = social_client.post(
        f"{API}/oauth/signup/",
        json={"username": proposal["username"], "nickname": proposal["nickname"], "email": f"{sub}@example.org"},
    )
    assert created.status_code == 201 and created.json() == {"verification_sent": True, "signed_in": False}
    assert "teammoa_access" not in created.cookies
    user = auth_db.one(users.select().where(users.c.username == proposal["username"]))
    assert user["is_verified"] is False or user["is_verified"] == 0
    _refused(provider_login(social_client, "local", sub), "email_not_verified")
    token = token_from_mail(social_environ["TEAMMOA_DATA_DIR"], f"{sub}@example.org")
    assert social_client.post(f"{API}/verify-email/", json={"token": token}).status_code == 200
    assert provider_login(social_client, "local", sub).headers["location"] == "/teams"


def test_an_email_that_belongs_to_an_account_is_never_linked(op, social_client, social_environ, provider_login, auth_db):
    owner = _password_user(social_client, social_environ, "owner" + uuid.uuid4().hex[:6])
    social_client.cookies.clear()
    sub = _sub()
    op.add_account(sub, email=owner["email"].upper(), email_verified=True)
    _refused(provider_login(social_client, "local", sub), "email_in_use")
    assert auth_db.count(identities) == 0
    assert social_client.get(f"{API}/oauth/signup/").status_code == 404


def test_connect_then_sign_in_with_the_provider_then_disconnect(op, social_client, social_environ, provider_login, auth_db):
    owner = _password_user(social_client, social_environ, "conn" + uuid.uuid4().hex[:6])
    sub = _sub()
    op.add_account(sub, email=owner["email"], email_verified=True)
    missing_csrf = social_client.post(f"{API}/oauth/local/connect/")
    assert missing_csrf.status_code == 403
    started = social_client.post(f"{API}/oauth/local/connect/", headers=owner["csrf"])
    assert started.status_code == 200, started.text
    back = op.sign_in(started.json()["authorize_url"], sub, until="http://testserver")
    done = social_client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert done.headers["location"] == "/profile?connected=local"
    listed = social_client.get(f"{API}/me/identities/").json()
    assert listed["has_password"] is True and [i["provider"] for i in listed["identities"]] == ["local"]
    social_client.cookies.clear()
    assert provider_login(social_client, "local", sub).headers["location"] == "/teams"
    assert social_client.get(f"{API}/me/").json()["id"] == owner["id"]
    csrf = {"X-CSRF-Token": social_client.cookies["teammoa_csrf"]}
    gone = social_client.delete(f"{API}/me/identities/{listed['identities'][0]['id']}/", headers=csrf)
    assert gone.status_code == 204
    assert auth_db.count(identities) == 0
    social_client.cookies.clear()
    _refused(provider_login(social_client, "local", sub), "email_in_use")


def test_an_identity_of_another_account_cannot_be_connected(op, social_client, social_environ, provider_login):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    provider_login(social_client, "local", sub)
    _complete_signup(social_client)
    social_client.cookies.clear()
    other = _password_user(social_client, social_environ, "other" + uuid.uuid4().hex[:6])
    started = social_client.post(f"{API}/oauth/local/connect/", headers=other["csrf"])
    back = op.sign_in(started.json()["authorize_url"], sub, until="http://testserver")
    done = social_client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    _refused(done, "identity_in_use", "/profile")


def test_the_last_way_to_sign_in_stays_until_a_password_is_set(op, social_client, provider_login, auth_db):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    provider_login(social_client, "local", sub)
    created = _complete_signup(social_client)
    csrf = {"X-CSRF-Token": social_client.cookies["teammoa_csrf"]}
    listed = social_client.get(f"{API}/me/identities/").json()
    assert listed["has_password"] is False
    identity_id = listed["identities"][0]["id"]
    refused = social_client.delete(f"{API}/me/identities/{identity_id}/", headers=csrf)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_sign_in_method"
    weak = social_client.post(f"{API}/me/password/", json={"new_password": "password"}, headers=csrf)
    assert weak.status_code == 422 and weak.json()["error"]["details"][0]["field"] == "new_password"
    assert social_client.post(f"{API}/me/password/", json={"new_password": PASSWORD}, headers=csrf).status_code == 200
    again = social_client.post(f"{API}/me/password/", json={"new_password": PASSWORD + "x"}, headers=csrf)
    assert again.status_code == 409 and again.json()["error"]["code"] == "password_exists"
    assert social_client.delete(f"{API}/me/identities/{identity_id}/", headers=csrf).status_code == 204
    social_client.cookies.clear()
    signed_in = social_client.post(f"{API}/login/", json={"login": created["user"]["username"], "password": PASSWORD})
    assert signed_in.status_code == 200


def test_a_password_cannot_sign_in_to_an_account_a_provider_created(op, social_client, provider_login, auth_db):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    provider_login(social_client, "local", sub)
    username = _complete_signup(social_client)["user"]["username"]
    social_client.cookies.clear()
    for guess in ("!", "password", "x"):
        response = social_client.post(f"{API}/login/", json={"login": username, "password": guess})
        assert response.status_code == 401, response.text


def test_a_redirect_uri_that_is_not_ours_is_never_used(op, social_client):
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    forged_host = social_client.get(f"{API}/oauth/local/start/", headers=forged, follow_redirects=False)
    redirect_uri = query_of(forged_host.headers["location"])["redirect_uri"]
    assert redirect_uri == "http://testserver/api/v1/users/oauth/local/callback/"
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    evil = forged_host.headers["location"].replace("http%3A%2F%2Ftestserver", "http%3A%2F%2Fevil.example")
    assert evil != forged_host.headers["location"]
    landed = op.sign_in(evil, sub, until="http://evil.example")
    assert landed.startswith("provider-error:400") and "redirect_uri" in landed, landed


def test_the_provider_being_down_is_a_clear_error_not_a_500(social_environ, op, auth_db):
    from starlette.testclient import TestClient

    from gateway.embedded import create_app
    from tests.social.providers import free_port

    environ = {
        **social_environ,
        "TEAMMOA_OIDC_DOWN_ISSUER": f"http://127.0.0.1:{free_port()}",
        "TEAMMOA_OIDC_DOWN_CLIENT_ID": "x",
        "TEAMMOA_OIDC_DOWN_CLIENT_SECRET": "y",
    }
    with TestClient(create_app(environ), base_url="http://testserver") as client:
        names = [p["name"] for p in client.get(f"{API}/oauth/providers/").json()["providers"]]
        assert names == ["down", "local", "github"]
        _refused(client.get(f"{API}/oauth/down/start/", follow_redirects=False), "provider_unavailable")
        assert client.get(f"{API}/oauth/nobody/start/", follow_redirects=False).status_code == 404


def test_a_cancelled_sign_in_says_so(op, social_client):
    started = social_client.get(f"{API}/oauth/local/start/", follow_redirects=False).headers["location"]
    state = query_of(started)["state"]
    response = social_client.get(
        f"{API}/oauth/local/callback/", params={"error": "access_denied", "state": state}, follow_redirects=False
    )
    _refused(response, "access_denied")


def test_an_authorization_response_from_another_issuer_is_refused(op, social_client):
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)
    assert query["iss"] == op.issuer  # the provider says who answers (RFC 9207)
    mixed_up = {**query, "iss": "http://127.0.0.1:1"}
    _refused(social_client.get(path, params=mixed_up, follow_redirects=False), "provider_rejected")


def test_connecting_a_provider_that_is_down_is_a_503_with_its_code(social_environ, op, auth_db):
    from starlette.testclient import TestClient

    from gateway.embedded import create_app
    from tests.social.providers import free_port

    environ = {
        **social_environ,
        "TEAMMOA_OIDC_DOWN_ISSUER": f"http://127.0.0.1:{free_port()}",
        "TEAMMOA_OIDC_DOWN_CLIENT_ID": "x",
        "TEAMMOA_OIDC_DOWN_CLIENT_SECRET": "y",
    }
    with TestClient(create_app(environ), base_url="http://testserver") as client:
        owner = _password_user(client, environ, "down" + uuid.uuid4().hex[:6])
        response = client.post(f"{API}/oauth/down/connect/", headers=owner["csrf"])
        assert response.status_code == 503 and response.json()["error"]["code"] == "provider_unavailable"
        assert client.post(f"{API}/oauth/local/connect/", headers=owner["csrf"]).status_code == 200


def test_refused_callbacks_count_as_failed_sign_ins_of_the_address(op, social_client):
    from services.auth.sessions import LOGIN_FAILS_PER_ADDRESS

    for _ in range(LOGIN_FAILS_PER_ADDRESS):
        _refused(
            social_client.get(f"{API}/oauth/local/callback/?state=forged&code=forged", follow_redirects=False),
            "state_mismatch",
        )
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    path, query = _callback_parts(op, social_client, sub)  # even a genuine callback waits now
    _refused(social_client.get(path, params=query, follow_redirects=False), "too_many_attempts")
    locked = social_client.post(f"{API}/login/", json={"login": "nobody", "password": "whatever-1"})
    assert locked.status_code == 429  # the same address limit as the password sign-in


def test_taken_names_at_provider_sign_up_spend_the_availability_budget(op, social_client, social_environ):
    from services.auth.routes import AVAILABILITY_CHECKS_PER_MINUTE

    taken = _password_user(social_client, social_environ, "taken" + uuid.uuid4().hex[:6])
    social_client.cookies.clear()
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org", email_verified=False)
    path, query = _callback_parts(op, social_client, sub)
    social_client.get(path, params=query, follow_redirects=False)
    answers = []
    for _ in range(AVAILABILITY_CHECKS_PER_MINUTE + 1):
        response = social_client.post(
            f"{API}/oauth/signup/", json={"username": "fresh.name", "nickname": "Fresh", "email": taken["email"]}
        )
        answers.append(response.status_code)
    assert answers[0] == 409 and answers[-1] == 429, answers


def test_a_refused_connect_goes_back_to_the_profile(op, social_client, social_environ, auth_db):
    owner = _password_user(social_client, social_environ, "tamp" + uuid.uuid4().hex[:6])
    sub = _sub()
    op.add_account(sub, email=f"{sub}@example.org")
    op.tamper_next_token("aud")
    started = social_client.post(f"{API}/oauth/local/connect/", headers=owner["csrf"])
    back = op.sign_in(started.json()["authorize_url"], sub, until="http://testserver")
    _refused(
        social_client.get(back.removeprefix("http://testserver"), follow_redirects=False), "provider_rejected", "/profile"
    )
    assert auth_db.count(identities) == 0


def test_an_address_begins_a_bounded_number_of_flows(op, social_client, auth_db):
    from services.auth.social_routes import STARTS_PER_MINUTE

    for _ in range(STARTS_PER_MINUTE):
        assert social_client.get(f"{API}/oauth/local/start/", follow_redirects=False).status_code == 302
    _refused(social_client.get(f"{API}/oauth/local/start/", follow_redirects=False), "too_many_attempts")
    assert auth_db.count(sign_in_flows) == STARTS_PER_MINUTE
