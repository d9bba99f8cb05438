"""Registration and the availability check: every field rule, and bad input writes nothing."""

from __future__ import annotations

import pytest

from services.auth.tables import email_tokens, users
from tests.auth.conftest import API, error_code, error_fields, register, registration
from tests.conftest import PASSWORD, mails


def test_registering_creates_an_unverified_account_and_mails_a_verification_link(client, auth_db, data_dir):
    response = client.post(f"{API}/register/", json=registration("alice", profile="Hello there"))

    assert response.status_code == 201
    user = response.json()["user"]
    assert {k: user[k] for k in ("username", "email", "nickname", "profile", "is_verified", "last_login")} == {
        "username": "alice",
        "email": "alice@example.com",
        "nickname": "Nick alice",
        "profile": "Hello there",
        "is_verified": False,
        "last_login": None,
    }
    assert user["date_joined"].endswith("+00:00")
    assert "password" not in response.text and "password_hash" not in response.text
    stored = auth_db.user(user["id"])
    assert not stored["is_verified"] and stored["password_hash"].startswith("$argon2id$")
    [mail] = mails(data_dir)
    assert "To: alice@example.com" in mail and "http://testserver/verify-email?token=" in mail


def test_registering_does_not_sign_in(client):
    response = client.post(f"{API}/register/", json=registration("alice"))

    assert response.status_code == 201
    assert "access_token" not in response.json()
    assert not response.headers.get_list("set-cookie")


def test_the_profile_is_optional_and_empty_by_default(client):
    body = registration("alice")
    body.pop("profile", None)

    response = client.post(f"{API}/register/", json=body)

    assert response.status_code == 201 and response.json()["user"]["profile"] == ""


def test_usernames_may_use_letters_digits_dots_underscores_and_dashes_between_3_and_30_characters(client):
    for username in ("abc", "a" * 30, "A.b_c-9"):
        response = client.post(
            f"{API}/register/",
            json=registration(username, email=f"{len(username)}x@example.com", nickname=f"n{username}"[:20]),
        )
        assert response.status_code == 201, (username, response.text)


BAD_FIELDS = [
    ("username too short", {"username": "ab"}, "username"),
    ("username too long", {"username": "a" * 31}, "username"),
    ("username with a space", {"username": "al ice"}, "username"),
    ("username with an at sign", {"username": "al@ice"}, "username"),
    ("username with non-ASCII letters", {"username": "아이유123"}, "username"),
    ("email without a domain", {"email": "alice@"}, "email"),
    ("email without an at sign", {"email": "alice.example.com"}, "email"),
    ("nickname of 1 character", {"nickname": "A"}, "nickname"),
    ("nickname of 21 characters", {"nickname": "N" * 21}, "nickname"),
    ("nickname of blanks only", {"nickname": "   "}, "nickname"),
    ("nickname with a control character", {"nickname": "Ni\x07ck"}, "nickname"),
    ("password of 7 characters", {"password": "Xy7#pQ2"}, "password"),
    ("password of 129 characters", {"password": "Xy7#pQ2" * 18 + "abc"}, "password"),
    ("common password", {"password": "password123"}, "password"),
    ("common password in another case", {"password": "PASSWORD123"}, "password"),
    ("password equal to the username", {"username": "zebra.lover42", "password": "Zebra.Lover42"}, "password"),
    ("profile of 501 characters", {"profile": "p" * 501}, "profile"),
    ("username of the wrong type", {"username": 12345}, "username"),
    ("email of the wrong type", {"email": ["alice@example.com"]}, "email"),
    ("nickname of the wrong type", {"nickname": None}, "nickname"),
    ("password of the wrong type", {"password": 12345678}, "password"),
    ("profile of the wrong type", {"profile": {"text": "hi"}}, "profile"),
    ("an unknown extra field", {"is_staff": True}, "is_staff"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_FIELDS, ids=[case for case, _, _ in BAD_FIELDS])
def test_each_invalid_field_is_refused_with_its_details_and_nothing_is_written(
    client, auth_db, data_dir, case, change, field
):
    register(client, "existing")
    before = (auth_db.count(users), auth_db.count(email_tokens), len(mails(data_dir)))

    response = client.post(f"{API}/register/", json=registration("alice") | change)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid"
    assert field in error_fields(response)
    assert (auth_db.count(users), auth_db.count(email_tokens), len(mails(data_dir))) == before


@pytest.mark.parametrize("missing", ["username", "email", "nickname", "password"])
def test_each_required_field_is_required(client, auth_db, missing):
    body = registration("alice")
    del body[missing]

    response = client.post(f"{API}/register/", json=body)

    assert response.status_code == 422
    assert missing in error_fields(response)
    assert auth_db.count(users) == 0


TAKEN = [
    ("username in another case", {"username": "ALICE", "email": "other@example.com", "nickname": "Other"}, "username"),
    ("email in another case", {"username": "other", "email": "ALICE@Example.com", "nickname": "Other"}, "email"),
    ("nickname in another case", {"username": "other", "email": "other@example.com", "nickname": "nICK ALICE"}, "nickname"),
]


@pytest.mark.parametrize(("case", "body", "field"), TAKEN, ids=[case for case, _, _ in TAKEN])
def test_a_taken_value_is_refused_as_a_conflict_naming_the_field(client, auth_db, data_dir, case, body, field):
    register(client, "alice")
    before = (auth_db.count(users), len(mails(data_dir)))

    response = client.post(f"{API}/register/", json=body | {"password": PASSWORD})

    assert response.status_code == 409
    assert error_code(response) == "taken"
    assert error_fields(response) == {field}
    assert (auth_db.count(users), len(mails(data_dir))) == before


def test_every_taken_field_is_named_at_once(client):
    register(client, "alice")

    response = client.post(f"{API}/register/", json=registration("alice"))

    assert response.status_code == 409
    assert error_fields(response) == {"username", "email", "nickname"}


def test_nicknames_that_differ_beyond_case_are_different_nicknames(client):
    register(client, "alice", nickname="Jose 😀")

    for index, nickname in enumerate(("José 😀", "Jose 🎉")):
        response = client.post(f"{API}/register/", json=registration(f"user{index}", nickname=nickname))
        assert response.status_code == 201, (nickname, response.text)


@pytest.mark.parametrize(
    ("case", "content"),
    [
        ("invalid JSON", b'{"username": "alice",'),
        ("a JSON array", b'[{"username": "alice"}]'),
        ("a JSON string", b'"alice"'),
        ("JSON null", b"null"),
        ("an empty body", b""),
        ("bytes that are not UTF-8", b'{"username": "\xff\xfe"}'),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_and_nothing_is_written(client, auth_db, case, content):
    response = client.post(f"{API}/register/", content=content, headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"], "the envelope names what is wrong"
    assert auth_db.count(users) == 0


def test_a_string_with_a_lone_surrogate_is_refused_not_a_server_error(client, auth_db):
    content = b'{"username": "alice", "email": "alice@example.com", "nickname": "Nick", "password": "Pass\\ud800word-x1"}'

    response = client.post(f"{API}/register/", content=content, headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert auth_db.count(users) == 0


def test_availability_answers_for_each_field_asked(client):
    register(client, "alice")

    response = client.get(
        f"{API}/check_availability/", params={"username": "ALICE", "email": "new@example.com", "nickname": "x"}
    )

    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"username", "email", "nickname"}
    assert answer["username"]["available"] is False and "taken" in answer["username"]["message"]
    assert answer["email"] == {"available": True, "message": "Available."}
    assert answer["nickname"]["available"] is False and "2–20" in answer["nickname"]["message"]


def test_availability_answers_only_the_fields_asked(client):
    response = client.get(f"{API}/check_availability/", params={"nickname": "Free Name"})

    assert response.status_code == 200
    assert response.json() == {"nickname": {"available": True, "message": "Available."}}


def test_availability_without_any_field_is_invalid(client):
    response = client.get(f"{API}/check_availability/")

    assert response.status_code == 422


def test_availability_checks_are_rate_limited_per_client_address(client):
    for _ in range(60):
        assert client.get(f"{API}/check_availability/", params={"username": "someone"}).status_code == 200

    response = client.get(f"{API}/check_availability/", params={"username": "someone"})

    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_the_nickname_deactivated_accounts_wear_is_reserved(client):
    response = client.post(
        "/api/v1/users/register/",
        json={"username": "mallory", "email": "m@example.com", "nickname": "Former Member", "password": "Correct-Horse-42"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "nickname"
