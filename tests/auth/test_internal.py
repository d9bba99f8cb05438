"""Auth's internal API for the other services: names of many users at once, service callers only."""

from __future__ import annotations

import pytest

from tests.auth.conftest import call_auth

BATCH = "/internal/users/batch"


def test_the_batch_answers_id_username_nickname_and_state_of_each_known_user(client, app, signup):
    alice, bob = signup("alice"), signup("bob")

    response = call_auth(client, app, "POST", BATCH, json={"ids": [bob.id, alice.id, alice.id, 9999]})

    assert response.status_code == 200
    assert sorted(response.json()["users"], key=lambda user: user["id"]) == [
        {"id": alice.id, "username": "alice", "nickname": alice.nickname, "is_active": True},
        {"id": bob.id, "username": "bob", "nickname": bob.nickname, "is_active": True},
    ]


def test_an_empty_batch_is_an_empty_answer(client, app):
    response = call_auth(client, app, "POST", BATCH, json={"ids": []})

    assert response.status_code == 200 and response.json() == {"users": []}


def test_the_batch_shows_renamed_users_with_their_new_nickname(client, app, signup):
    alice = signup("alice")
    client.patch("/api/v1/users/me/", json={"nickname": "Wonder"}, headers=alice.headers)

    [user] = call_auth(client, app, "POST", BATCH, json={"ids": [alice.id]}).json()["users"]

    assert user["nickname"] == "Wonder"


@pytest.mark.parametrize("token", [None, "", "wrong-token", "dev-service-token-not-for-production-but-longer"])
def test_the_batch_refuses_callers_without_the_service_credential(client, app, signup, token):
    signup("alice")

    response = call_auth(client, app, "POST", BATCH, json={"ids": [1]}, service_token=token)

    assert response.status_code == 401
    assert "users" not in response.json()


def test_a_user_token_is_not_a_service_credential(client, app, signup):
    alice = signup("alice")

    response = call_auth(client, app, "POST", BATCH, json={"ids": [alice.id]}, service_token=None, headers=alice.headers)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"ids": "1,2"},
        {"ids": [1, "two"]},
        {"ids": list(range(1, 1002))},
        {"ids": [1], "extra": True},
        {},
        {"ids": [2**70]},
        {"ids": [-1, 0]},
        {"ids": [1.5]},
        [1, 2],
    ],
)
def test_a_malformed_batch_is_refused_with_a_4xx(client, app, body):
    response = call_auth(client, app, "POST", BATCH, json=body)

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == "invalid"
