"""My account: read it, change the nickname (unique, ignoring case) and the profile text."""

from __future__ import annotations

import pytest

from tests.auth.conftest import API, error_code, error_fields


def test_reading_me_returns_my_profile(client, signup):
    alice = signup("alice")

    response = client.get(f"{API}/me/", headers=alice.headers)

    assert response.status_code == 200
    me = response.json()
    assert {k: me[k] for k in ("id", "username", "email", "nickname", "profile", "is_verified")} == {
        "id": alice.id,
        "username": "alice",
        "email": "alice@example.com",
        "nickname": alice.nickname,
        "profile": "",
        "is_verified": True,
    }
    assert me["date_joined"].endswith("+00:00") and me["last_login"].endswith("+00:00")
    assert "password_hash" not in me


def test_the_path_without_the_trailing_slash_works_too(client, signup):
    alice = signup("alice")

    assert client.get(f"{API}/me", headers=alice.headers).json()["id"] == alice.id


def test_updating_my_nickname_and_profile(client, signup):
    alice = signup("alice")

    response = client.patch(f"{API}/me/", json={"nickname": "  Wonder  ", "profile": "I like maps."}, headers=alice.headers)

    assert response.status_code == 200
    assert (response.json()["nickname"], response.json()["profile"]) == ("Wonder", "I like maps.")
    assert client.get(f"{API}/me/", headers=alice.headers).json()["nickname"] == "Wonder"


def test_a_partial_update_leaves_the_other_field_alone(client, signup):
    alice = signup("alice")
    client.patch(f"{API}/me/", json={"profile": "Hello"}, headers=alice.headers)

    response = client.patch(f"{API}/me/", json={"nickname": "Wonder"}, headers=alice.headers)

    assert response.json()["profile"] == "Hello"


def test_another_users_nickname_in_another_case_is_taken(client, signup):
    signup("alice", nickname="Alice A")
    bob = signup("bob")

    response = client.patch(f"{API}/me/", json={"nickname": "aLICE a"}, headers=bob.headers)

    assert response.status_code == 409
    assert error_code(response) == "taken"
    assert error_fields(response) == {"nickname"}
    assert client.get(f"{API}/me/", headers=bob.headers).json()["nickname"] == bob.nickname


def test_changing_the_case_of_my_own_nickname_is_allowed(client, signup):
    alice = signup("alice", nickname="Alice A")

    response = client.patch(f"{API}/me/", json={"nickname": "ALICE A"}, headers=alice.headers)

    assert response.status_code == 200 and response.json()["nickname"] == "ALICE A"


def test_a_nickname_freed_by_a_change_can_be_taken(client, signup):
    alice = signup("alice", nickname="Alice A")
    bob = signup("bob")
    client.patch(f"{API}/me/", json={"nickname": "Someone"}, headers=alice.headers)

    assert client.patch(f"{API}/me/", json={"nickname": "alice a"}, headers=bob.headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nickname": "A"}, "nickname"),
        ({"nickname": "N" * 21}, "nickname"),
        ({"nickname": 42}, "nickname"),
        ({"profile": "p" * 501}, "profile"),
        ({"profile": ["text"]}, "profile"),
        ({"username": "mallory"}, "username"),
        ({"email": "mallory@example.com"}, "email"),
        ({"is_verified": False}, "is_verified"),
    ],
)
def test_invalid_or_unknown_fields_are_refused_and_nothing_changes(client, signup, auth_db, body, field):
    alice = signup("alice")
    before = dict(auth_db.user(alice.id))

    payload = body if field == "profile" else body | {"profile": "changed"}  # valid fields change nothing either

    response = client.patch(f"{API}/me/", json=payload, headers=alice.headers)

    assert response.status_code == 422
    assert field in error_fields(response)
    assert dict(auth_db.user(alice.id)) == before


def test_me_needs_a_signed_in_user(client):
    assert client.get(f"{API}/me/").status_code == 401
    assert client.patch(f"{API}/me/", json={"profile": "x"}).status_code == 401
    assert client.request("DELETE", f"{API}/me/", json={"password": "x"}).status_code == 401
