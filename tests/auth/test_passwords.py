"""Changing a password (this session stays, the others end) and resetting a forgotten one
(always 202; single-use 1-hour links; a weak new password does not spend the link)."""

from __future__ import annotations

import pytest

from services.auth.tables import email_tokens, users
from tests.auth.conftest import API, ago, csrf_header, error_code, error_fields, login
from tests.conftest import PASSWORD, mails, token_from_mail

NEW_PASSWORD = "Battery-Staple-77"


def _can_login(client, password: str, name: str = "alice") -> bool:
    response = client.post(f"{API}/login/", json={"login": name, "password": password})
    client.cookies.clear()
    return response.status_code == 200


def _refresh(client, token: str):
    return client.post(f"{API}/refresh/", json={"refresh_token": token})


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, signup):
    signup("alice")
    other = login(client, "alice", keep_cookies=False)
    login(client, "alice")  # this browser session, in the cookie jar

    response = client.post(
        f"{API}/change_password/",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=csrf_header(client),
    )

    assert response.status_code == 200
    assert client.post(f"{API}/refresh/", headers=csrf_header(client)).status_code == 200, "this session stays"
    client.cookies.clear()
    assert _refresh(client, other.refresh).status_code == 401, "the other session ended"
    assert _can_login(client, NEW_PASSWORD)
    assert not _can_login(client, PASSWORD)


def test_changing_the_password_with_a_bearer_token_works(client, signup):
    alice = signup("alice")

    response = client.post(
        f"{API}/change_password/", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=alice.headers
    )

    assert response.status_code == 200
    assert _can_login(client, NEW_PASSWORD)


def test_changing_the_password_needs_the_current_password(client, signup, auth_db):
    alice = signup("alice")
    other = login(client, "alice", keep_cookies=False)
    before = auth_db.user(alice.id)["password_hash"]

    response = client.post(
        f"{API}/change_password/",
        json={"current_password": "Wrong-Horse-42", "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )

    assert response.status_code == 422
    assert error_fields(response) == {"current_password"}
    assert auth_db.user(alice.id)["password_hash"] == before
    assert _refresh(client, other.refresh).status_code == 200, "no session ended"


@pytest.mark.parametrize("new_password", ["Short-1", "x" * 129, "iloveyou", "ZEBRA.LOVER42"])
def test_a_weak_new_password_is_refused_and_nothing_changes(client, signup, auth_db, new_password):
    alice = signup("zebra.lover42")
    before = auth_db.user(alice.id)["password_hash"]

    response = client.post(
        f"{API}/change_password/", json={"current_password": PASSWORD, "new_password": new_password}, headers=alice.headers
    )

    assert response.status_code == 422
    assert error_fields(response) == {"new_password"}
    assert auth_db.user(alice.id)["password_hash"] == before


def test_changing_the_password_by_cookie_needs_the_csrf_header(client, signup):
    signup("alice")
    login(client, "alice")

    response = client.post(f"{API}/change_password/", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 403
    assert error_code(response) == "csrf_failed"
    assert _can_login(client, PASSWORD)


def _request_reset(client, email: str = "alice@example.com"):
    return client.post(f"{API}/password-reset/", json={"email": email})


def _confirm(client, token: str, new_password: str = NEW_PASSWORD):
    return client.post(f"{API}/password-reset/confirm/", json={"token": token, "new_password": new_password})


def test_a_reset_request_always_answers_202_and_mails_only_real_accounts(client, signup, data_dir):
    signup("alice")
    sent = len(mails(data_dir))

    known = _request_reset(client, "ALICE@example.com")
    unknown = _request_reset(client, "nobody@example.com")
    not_an_address = _request_reset(client, "not an address")

    assert known.status_code == unknown.status_code == not_an_address.status_code == 202
    assert known.json() == unknown.json() == not_an_address.json()
    assert len(mails(data_dir)) == sent + 1
    assert "http://testserver/reset-password?token=" in mails(data_dir)[-1]
    assert "To: alice@example.com" in mails(data_dir)[-1]


def test_resetting_sets_the_new_password_and_ends_every_session(client, signup, data_dir):
    signup("alice")
    session = login(client, "alice", keep_cookies=False)
    _request_reset(client)

    response = _confirm(client, token_from_mail(data_dir, "alice@example.com", "reset-password"))

    assert response.status_code == 200
    assert _refresh(client, session.refresh).status_code == 401
    assert _can_login(client, NEW_PASSWORD)
    assert not _can_login(client, PASSWORD)


def test_a_reset_link_works_only_once(client, signup, data_dir):
    signup("alice")
    _request_reset(client)
    token = token_from_mail(data_dir, "alice@example.com", "reset-password")
    assert _confirm(client, token).status_code == 200

    again = _confirm(client, token, "Another-Pass-99")

    assert again.status_code == 400
    assert error_code(again) == "invalid_token"
    assert _can_login(client, NEW_PASSWORD)


def test_reset_tokens_are_stored_hashed(client, signup, auth_db, data_dir):
    signup("alice")
    _request_reset(client)

    assert token_from_mail(data_dir, "alice@example.com", "reset-password") not in auth_db.dump()


def test_a_reset_link_expires_after_1_hour(client, signup, auth_db, data_dir):
    signup("alice")
    _request_reset(client)
    [row] = auth_db.all(email_tokens.select().where(email_tokens.c.purpose == "reset"))
    assert abs((row["expires_at"] - row["created_at"]).total_seconds() - 3600) < 2
    auth_db.execute(
        email_tokens.update()
        .where(email_tokens.c.purpose == "reset")
        .values(created_at=ago(hours=1, seconds=1), expires_at=ago(seconds=1))
    )

    response = _confirm(client, token_from_mail(data_dir, "alice@example.com", "reset-password"))

    assert response.status_code == 400
    assert error_code(response) == "token_expired"
    assert _can_login(client, PASSWORD)


def test_a_weak_new_password_is_refused_and_the_link_still_works_afterwards(client, signup, data_dir):
    signup("alice")
    _request_reset(client)
    token = token_from_mail(data_dir, "alice@example.com", "reset-password")

    for weak in ("short", "password1", "x" * 129):
        weak_response = _confirm(client, token, weak)
        assert weak_response.status_code == 422, weak
        assert error_fields(weak_response) == {"new_password"}

    assert _confirm(client, token).status_code == 200
    assert _can_login(client, NEW_PASSWORD)


def test_a_verification_token_cannot_reset_a_password(client, data_dir):
    client.post(
        f"{API}/register/",
        json={"username": "alice", "email": "alice@example.com", "nickname": "Alice", "password": PASSWORD},
    )

    response = _confirm(client, token_from_mail(data_dir, "alice@example.com"))

    assert response.status_code == 400


def test_resetting_verifies_an_unverified_account(client, auth_db, data_dir):
    client.post(
        f"{API}/register/",
        json={"username": "alice", "email": "alice@example.com", "nickname": "Alice", "password": PASSWORD},
    )
    _request_reset(client)

    assert _confirm(client, token_from_mail(data_dir, "alice@example.com", "reset-password")).status_code == 200

    assert auth_db.one(users.select())["is_verified"]
    assert _can_login(client, NEW_PASSWORD)


def test_reset_requests_for_one_account_are_limited_to_one_mail_a_minute(client, signup, data_dir):
    signup("alice")
    sent = len(mails(data_dir))

    for _ in range(3):
        assert _request_reset(client).status_code == 202

    assert len(mails(data_dir)) == sent + 1
