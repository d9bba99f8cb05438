"""Deactivating my account: only with the right password; then sign-in is impossible, every token
stops working, the account is anonymised, and the teams service is told (reliably)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from starlette.testclient import TestClient

from services.auth.app import create_app as create_auth
from services.auth.tables import pending_deactivations
from services.kit.app import Shared
from services.kit.peers import SERVICE_TOKEN_HEADER
from services.kit.settings import DEV_SERVICE_TOKEN, Settings
from tests.auth.conftest import API, call_auth, csrf_header, error_code, error_fields, login, register_verified
from tests.conftest import PASSWORD

RELAY_WAIT_S = 5.0


def _deactivate(client, password: str, headers: dict):
    return client.request("DELETE", f"{API}/me/", json={"password": password}, headers=headers)


def _batch(client, app, ids: list[int]) -> list[dict]:
    response = call_auth(client, app, "POST", "/internal/users/batch", json={"ids": ids})
    assert response.status_code == 200, response.text
    return response.json()["users"]


def _wait_until(condition: Callable[[], bool], timeout_s: float = RELAY_WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_wrong_password_is_refused_and_nothing_changes(client, app, signup, auth_db):
    alice = signup("alice")
    session = login(client, "alice", keep_cookies=False)
    before = dict(auth_db.user(alice.id))

    response = _deactivate(client, "Wrong-Horse-42", alice.headers)

    assert response.status_code == 422
    assert error_fields(response) == {"password"}
    assert dict(auth_db.user(alice.id)) == before
    assert auth_db.count(pending_deactivations) == 0
    assert client.get(f"{API}/me/", headers=alice.headers).status_code == 200
    assert client.post(f"{API}/refresh/", json={"refresh_token": session.refresh}).status_code == 200
    assert _batch(client, app, [alice.id]) == [
        {"id": alice.id, "username": "alice", "nickname": alice.nickname, "is_active": True}
    ]


def test_a_missing_password_is_invalid_input(client, signup, auth_db):
    alice = signup("alice")

    response = client.request("DELETE", f"{API}/me/", json={}, headers=alice.headers)

    assert response.status_code == 422
    assert auth_db.user(alice.id)["is_active"]


def test_deactivating_ends_sign_in_and_every_token(client, signup):
    alice = signup("alice")
    session = login(client, "alice", keep_cookies=False)

    response = _deactivate(client, PASSWORD, alice.headers)

    assert response.status_code == 204
    refused = client.post(f"{API}/login/", json={"login": "alice", "password": PASSWORD})
    assert refused.status_code == 401 and error_code(refused) == "invalid_credentials"
    assert client.post(f"{API}/login/", json={"login": "alice@example.com", "password": PASSWORD}).status_code == 401
    assert client.get(f"{API}/me/", headers=alice.headers).status_code == 401
    assert client.post(f"{API}/refresh/", json={"refresh_token": session.refresh}).status_code == 401


def test_deactivating_by_cookie_needs_the_csrf_header_and_clears_the_cookies(client, signup, auth_db):
    alice = signup("alice")
    login(client, "alice")
    assert client.request("DELETE", f"{API}/me/", json={"password": PASSWORD}).status_code == 403
    assert auth_db.user(alice.id)["is_active"]

    response = client.request("DELETE", f"{API}/me/", json={"password": PASSWORD}, headers=csrf_header(client))

    assert response.status_code == 204
    assert not client.cookies.get("teammoa_access") and not client.cookies.get("teammoa_refresh")


def test_a_deactivated_account_is_anonymised_as_former_member(client, app, signup, auth_db):
    alice = signup("alice")
    bob = signup("bob")
    client.patch(f"{API}/me/", json={"profile": "Alice's secrets"}, headers=alice.headers)

    assert _deactivate(client, PASSWORD, alice.headers).status_code == 204

    users = {user["id"]: user for user in _batch(client, app, [alice.id, bob.id])}
    assert users[alice.id]["nickname"] == "Former member" and users[alice.id]["is_active"] is False
    assert users[alice.id]["username"] != "alice"
    assert users[bob.id]["nickname"] == bob.nickname and users[bob.id]["is_active"] is True
    stored = auth_db.dump()
    for personal in ("alice@example.com", "Alice's secrets", alice.nickname):
        assert personal not in stored
    assert not auth_db.user(alice.id)["password_hash"].startswith("$argon2")


def test_a_username_that_looks_like_an_anonymised_one_does_not_block_deactivation(client, signup, data_dir):
    alice = signup("alice")
    register_verified(client, data_dir, f"former-{alice.id}", nickname=f"former:{alice.id}")
    register_verified(client, data_dir, f"Former.{alice.id}", nickname=f"FORMER:{alice.id}@invalid")

    assert _deactivate(client, PASSWORD, alice.headers).status_code == 204


def test_two_deactivated_accounts_can_coexist(client, app, signup):
    alice, bob = signup("alice"), signup("bob")

    assert _deactivate(client, PASSWORD, alice.headers).status_code == 204
    assert _deactivate(client, PASSWORD, bob.headers).status_code == 204

    assert {user["nickname"] for user in _batch(client, app, [alice.id, bob.id])} == {"Former member"}


def test_the_teams_service_is_told_and_the_pending_row_goes_once_it_answers(client, signup, auth_db):
    """Through the real embedded teams service: needs its POST /internal/users/{id}/deactivated."""
    alice = signup("alice")

    assert _deactivate(client, PASSWORD, alice.headers).status_code == 204

    assert _wait_until(lambda: auth_db.count(pending_deactivations) == 0), (
        f"still pending: {auth_db.all(pending_deactivations.select())}"
    )


@pytest.fixture(name="auth_alone")
def fx_auth_alone(environ):
    """The auth service on its own, with a fake teams service at the network seam."""

    def start(teams: Callable[[httpx.Request], httpx.Response]) -> TestClient:
        app = create_auth(Settings("auth", environ), Shared(transports={"teams": httpx.MockTransport(teams)}))
        return TestClient(app, base_url="http://testserver")

    return start


def _deactivate_one_user_alone(client: TestClient, data_dir: str) -> int:
    register_verified(client, data_dir, "alice")
    session = login(client, "alice", keep_cookies=False)
    assert _deactivate(client, PASSWORD, session.bearer).status_code == 204
    return session.user_id


def test_the_pending_row_is_deleted_once_teams_answers_2xx(auth_alone, auth_db, data_dir):
    calls = []

    def teams(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path, request.headers.get(SERVICE_TOKEN_HEADER)))
        return httpx.Response(200, json={})

    with auth_alone(teams) as client:
        user_id = _deactivate_one_user_alone(client, data_dir)

        assert _wait_until(lambda: auth_db.count(pending_deactivations) == 0)
    assert calls == [("POST", f"/internal/users/{user_id}/deactivated", DEV_SERVICE_TOKEN)]


@pytest.mark.parametrize("status", [404, 500, 503])
def test_the_pending_row_stays_while_teams_does_not_answer_2xx(auth_alone, auth_db, data_dir, status):
    with auth_alone(lambda request: httpx.Response(status)) as client:
        user_id = _deactivate_one_user_alone(client, data_dir)

        assert _wait_until(lambda: auth_db.all(pending_deactivations.select())[0]["attempts"] >= 1)
    [row] = auth_db.all(pending_deactivations.select())
    assert row["user_id"] == user_id


def test_the_pending_row_stays_while_teams_is_unreachable(auth_alone, auth_db, data_dir):
    def teams(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with auth_alone(teams) as client:
        _deactivate_one_user_alone(client, data_dir)

        assert _wait_until(lambda: auth_db.all(pending_deactivations.select())[0]["attempts"] >= 1)
    assert auth_db.count(pending_deactivations) == 1


def test_a_pending_deactivation_left_by_an_earlier_run_is_delivered_at_start(auth_alone, auth_db, data_dir):
    with auth_alone(lambda request: httpx.Response(503)) as client:
        _deactivate_one_user_alone(client, data_dir)
        assert _wait_until(lambda: auth_db.all(pending_deactivations.select())[0]["attempts"] >= 1)

    with auth_alone(lambda request: httpx.Response(200)):
        assert _wait_until(lambda: auth_db.count(pending_deactivations) == 0)
