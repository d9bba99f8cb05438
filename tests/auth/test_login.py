"""Signing in: by username or e-mail, JSON or form; one generic error for wrong credentials; and the
failure limits per account (5) and per client address (20) in 15 minutes."""

from __future__ import annotations

from services.auth.tables import users
from tests.auth.conftest import API, error_code, register
from tests.conftest import PASSWORD


def _login(client, login_name: str, password: str = PASSWORD, **kwargs):
    if "data" in kwargs:
        return client.post(f"{API}/login/", **kwargs)
    return client.post(f"{API}/login/", json={"login": login_name, "password": password})


def test_signing_in_by_username_returns_the_profile_and_a_bearer_token(client, signup, auth_db):
    alice = signup("alice")

    response = _login(client, "alice")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["access_token"]
    assert set(body["user"]) == {
        "id",
        "username",
        "email",
        "nickname",
        "profile",
        "date_joined",
        "last_login",
        "is_verified",
    }
    assert body["user"]["id"] == alice.id and body["user"]["is_verified"] is True
    assert body["user"]["last_login"] is not None
    assert auth_db.user(alice.id)["last_login"] is not None


def test_signing_in_by_e_mail_in_any_case_works(client, signup):
    alice = signup("alice")

    response = _login(client, "ALICE@Example.com")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == alice.id


def test_the_username_is_matched_in_any_case(client, signup):
    signup("alice")

    assert _login(client, "  Alice ").status_code == 200


def test_signing_in_with_a_form_body_works(client, signup):
    signup("alice")

    response = _login(client, "", data={"login": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


def test_signing_in_with_a_multipart_form_body_works(client, signup):
    signup("alice")

    response = client.post(f"{API}/login/", files={"login": (None, "alice"), "password": (None, PASSWORD)})

    assert response.status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_generic_answer(client, signup):
    signup("alice")

    wrong_password = _login(client, "alice", "Wrong-Horse-42")
    unknown_user = _login(client, "nobody", PASSWORD)
    unknown_email = _login(client, "nobody@example.com", PASSWORD)

    assert wrong_password.status_code == unknown_user.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_user.json() == unknown_email.json()
    assert error_code(wrong_password) == "invalid_credentials"
    assert not wrong_password.headers.get_list("set-cookie")


def test_an_unverified_account_is_told_to_verify_its_e_mail(client):
    register(client, "alice")

    response = _login(client, "alice")

    assert response.status_code == 403
    assert error_code(response) == "email_not_verified"
    assert "verify" in response.json()["error"]["message"].lower()
    assert not response.headers.get_list("set-cookie")


def test_an_unverified_account_with_a_wrong_password_gets_the_generic_answer(client):
    register(client, "alice")

    response = _login(client, "alice", "Wrong-Horse-42")

    assert response.status_code == 401
    assert error_code(response) == "invalid_credentials"


def test_a_missing_field_is_invalid_input_not_a_failed_sign_in(client):
    response = client.post(f"{API}/login/", json={"login": "alice"})

    assert response.status_code == 422
    assert {d["field"] for d in response.json()["error"]["details"]} == {"password"}


def test_5_failures_on_one_account_block_it_with_retry_after(client, signup):
    signup("alice")
    for attempt in range(5):
        assert _login(client, "alice" if attempt % 2 else "alice@example.com", "Wrong-Horse-42").status_code == 401

    blocked = _login(client, "alice")  # even the right password

    assert blocked.status_code == 429
    assert error_code(blocked) == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 15 * 60


def test_a_blocked_account_does_not_block_other_accounts(client, signup):
    signup("alice")
    signup("bob")
    for _ in range(5):
        _login(client, "alice", "Wrong-Horse-42")

    assert _login(client, "alice").status_code == 429
    assert _login(client, "bob").status_code == 200


def test_failures_on_an_unknown_name_are_limited_too(client):
    for _ in range(5):
        assert _login(client, "nobody", "Wrong-Horse-42").status_code == 401

    assert _login(client, "nobody", "Wrong-Horse-42").status_code == 429


def test_20_failures_from_one_address_across_accounts_block_that_address(client, signup):
    for name in ("alice", "bob", "carol", "dave", "erin"):
        signup(name)
    for attempt in range(20):
        name = ("alice", "bob", "carol", "dave", "erin")[attempt % 5]
        assert _login(client, name, "Wrong-Horse-42").status_code == 401, attempt

    blocked = _login(client, "erin")  # right password, account below its own limit

    assert blocked.status_code == 429
    assert error_code(blocked) == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 15 * 60


def test_successful_sign_ins_never_count_as_failures(client, signup):
    signup("alice")
    for _ in range(4):
        assert _login(client, "alice", "Wrong-Horse-42").status_code == 401
    for _ in range(10):
        assert _login(client, "alice").status_code == 200

    assert _login(client, "alice", "Wrong-Horse-42").status_code == 401  # the fifth failure
    assert _login(client, "alice").status_code == 429


def test_a_deactivated_account_cannot_sign_in(client, signup, auth_db):
    alice = signup("alice")
    auth_db.execute(users.update().where(users.c.id == alice.id).values(is_active=False))

    response = _login(client, "alice")

    assert response.status_code == 401
    assert error_code(response) == "invalid_credentials"
