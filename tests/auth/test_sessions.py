"""Browser sessions: HttpOnly cookies, rotating refresh tokens stored hashed (reuse revokes the whole
family), logout, and the CSRF check on unsafe cookie-authenticated requests."""

from __future__ import annotations

import hashlib

from services.auth.tables import refresh_tokens
from services.kit.tokens import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from tests.auth.conftest import API, csrf_header, error_code, login
from tests.conftest import PASSWORD


def _set_cookies(response) -> dict[str, dict]:
    """Each Set-Cookie header as {name: {"value", attribute: value...}} (attribute names lower-cased)."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        value, *attributes = rest.split(";")
        parsed = {"value": value.strip().strip('"')}
        for attribute in attributes:
            key, _, val = attribute.strip().partition("=")
            parsed[key.lower()] = val
        cookies[name.strip()] = parsed
    return cookies


def _refresh(client, token: str | None = None, headers: dict | None = None):
    body = {"refresh_token": token} if token else {}
    return client.post(f"{API}/refresh/", json=body, headers=headers or {})


def test_signing_in_sets_httponly_lax_cookies_on_their_paths(client, signup):
    signup("alice")

    response = client.post(f"{API}/login/", json={"login": "alice", "password": PASSWORD})

    cookies = _set_cookies(response)
    assert set(cookies) == {ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE}
    access, refresh, csrf = cookies[ACCESS_COOKIE], cookies[REFRESH_COOKIE], cookies[CSRF_COOKIE]
    assert access["value"] == response.json()["access_token"]
    assert (access["path"], refresh["path"], csrf["path"]) == ("/", "/api/v1/users/", "/")
    assert "httponly" in access and "httponly" in refresh
    assert "httponly" not in csrf, "the page's script must read the CSRF token"
    assert {c["samesite"].lower() for c in cookies.values()} == {"lax"}
    assert int(access["max-age"]) == 900
    assert not any("secure" in c for c in cookies.values()), "plain-HTTP embedded runs must not set Secure"
    assert refresh["value"] not in response.text, "the refresh token never reaches the page's script"


def test_production_cookies_are_secure(client, signup, app):
    signup("alice")
    app.apps["auth"].state.settings.cookie_secure = True

    response = client.post(f"{API}/login/", json={"login": "alice", "password": PASSWORD})

    assert all("secure" in c for c in _set_cookies(response).values())


def test_the_access_cookie_authenticates_safe_requests(client, signup):
    alice = signup("alice")
    login(client, "alice")

    response = client.get(f"{API}/me/")

    assert response.status_code == 200 and response.json()["id"] == alice.id


def test_refreshing_rotates_the_refresh_token_and_mints_a_new_access_token(client, signup):
    alice = signup("alice")
    first = login(client, "alice")

    response = _refresh(client, headers=csrf_header(client))

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == alice.id and body["token_type"] == "Bearer" and body["expires_in"] == 900
    cookies = _set_cookies(response)
    assert cookies[REFRESH_COOKIE]["value"] != first.refresh
    assert cookies[ACCESS_COOKIE]["value"] == body["access_token"] != first.access
    assert client.get(f"{API}/me/", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    assert _refresh(client, headers=csrf_header(client)).status_code == 200, "the new refresh token works"


def test_an_api_client_may_refresh_with_the_token_in_the_body(client, signup):
    signup("alice")
    session = login(client, "alice", keep_cookies=False)

    response = _refresh(client, session.refresh)

    assert response.status_code == 200


def test_refresh_tokens_are_stored_hashed_never_in_plaintext(client, signup, auth_db):
    signup("alice")
    session = login(client, "alice")
    rotated = _refresh(client, headers=csrf_header(client)).cookies[REFRESH_COOKIE]

    stored = auth_db.dump()

    for token in (session.refresh, rotated):
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert session.access not in stored


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, signup, auth_db):
    signup("alice")
    old = login(client, "alice", keep_cookies=False).refresh
    newer = _refresh(client, old).cookies[REFRESH_COOKIE]
    newest = _refresh(client, newer).cookies[REFRESH_COOKIE]
    client.cookies.clear()

    reuse = _refresh(client, old)

    assert reuse.status_code == 401
    assert error_code(reuse) == "session_ended"
    assert _refresh(client, newest).status_code == 401, "the thief's (or owner's) newest token stopped working too"
    [family] = {
        row["family"]
        for row in auth_db.all(
            refresh_tokens.select().where(refresh_tokens.c.token_hash == hashlib.sha256(old.encode()).hexdigest())
        )
    }
    rows = auth_db.all(refresh_tokens.select().where(refresh_tokens.c.family == family))
    assert len(rows) == 3 and all(row["revoked_at"] is not None for row in rows)


def test_reuse_revokes_only_that_family_not_the_users_other_sessions(client, signup):
    signup("alice")
    stolen = login(client, "alice", keep_cookies=False).refresh
    other = login(client, "alice", keep_cookies=False).refresh
    _refresh(client, stolen)
    client.cookies.clear()

    assert _refresh(client, stolen).status_code == 401

    assert _refresh(client, other).status_code == 200


def test_a_failed_refresh_clears_the_cookies(client, signup):
    signup("alice")
    login(client, "alice")

    response = _refresh(client, "a-token-we-never-issued")

    assert response.status_code == 401
    cookies = _set_cookies(response)
    assert set(cookies) == {ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE}
    assert all(c["value"] == "" and c.get("max-age") == "0" for c in cookies.values())


def test_refreshing_without_any_token_is_401(client):
    response = _refresh(client)

    assert response.status_code == 401


def test_refreshing_with_the_cookie_needs_the_csrf_header(client, signup):
    signup("alice")
    login(client, "alice")

    response = _refresh(client)

    assert response.status_code == 403
    assert error_code(response) == "csrf_failed"


def test_an_expired_refresh_token_is_refused(client, signup, auth_db):
    signup("alice")
    session = login(client, "alice", keep_cookies=False)
    auth_db.execute(refresh_tokens.update().values(expires_at=refresh_tokens.c.created_at))

    assert _refresh(client, session.refresh).status_code == 401


def test_logging_out_revokes_the_refresh_token_and_clears_the_cookies(client, signup):
    signup("alice")
    session = login(client, "alice")

    response = client.post(f"{API}/logout/", headers=csrf_header(client))

    assert response.status_code == 204
    cleared = _set_cookies(response)
    assert set(cleared) == {ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE}
    assert all(c["value"] == "" and c.get("max-age") == "0" for c in cleared.values())
    assert cleared[REFRESH_COOKIE]["path"] == "/api/v1/users/"
    assert not client.cookies.get(ACCESS_COOKIE) and not client.cookies.get(REFRESH_COOKIE)
    assert _refresh(client, session.refresh).status_code == 401


def test_logging_out_with_the_cookie_needs_the_csrf_header(client, signup):
    signup("alice")
    session = login(client, "alice")

    response = client.post(f"{API}/logout/")

    assert response.status_code == 403
    assert error_code(response) == "csrf_failed"
    client.cookies.clear()
    assert _refresh(client, session.refresh).status_code == 200, "the session was not ended"


def test_an_api_client_logs_out_with_the_token_in_the_body(client, signup):
    signup("alice")
    session = login(client, "alice", keep_cookies=False)

    assert client.post(f"{API}/logout/", json={"refresh_token": session.refresh}).status_code == 204

    assert _refresh(client, session.refresh).status_code == 401


def test_logging_out_when_not_signed_in_still_clears_the_cookies(client):
    response = client.post(f"{API}/logout/")

    assert response.status_code == 204
    assert set(_set_cookies(response)) == {ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE}


def test_an_unsafe_cookie_request_without_the_csrf_header_is_refused(client, signup, auth_db):
    alice = signup("alice")
    login(client, "alice")

    response = client.patch(f"{API}/me/", json={"profile": "changed"})

    assert response.status_code == 403
    assert error_code(response) == "csrf_failed"
    assert auth_db.user(alice.id)["profile"] == ""


def test_an_unsafe_cookie_request_with_a_wrong_csrf_header_is_refused(client, signup):
    signup("alice")
    login(client, "alice")

    response = client.patch(f"{API}/me/", json={"profile": "changed"}, headers={"X-CSRF-Token": "guess"})

    assert response.status_code == 403
    assert error_code(response) == "csrf_failed"


def test_an_unsafe_cookie_request_echoing_the_csrf_cookie_succeeds(client, signup):
    signup("alice")
    login(client, "alice")

    response = client.patch(f"{API}/me/", json={"profile": "changed"}, headers=csrf_header(client))

    assert response.status_code == 200
    assert response.json()["profile"] == "changed"


def test_a_bearer_request_needs_no_csrf_header(client, signup):
    alice = signup("alice")

    response = client.patch(f"{API}/me/", json={"profile": "changed"}, headers=alice.headers)

    assert response.status_code == 200
