"""Issue 14, items 1, 4, 6 and 7: bodies bounded while they stream, forwarded headers only from trusted
proxies, exact method dispatch, JSON depth and ASCII path ids — through HTTP and the WebSocket."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from .conftest import Live, answer_to_unfinished, chunked, open_socket, serve

MB = 1024 * 1024


def _post_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# 1 -------------------------------------------------------------------------------------------------


def test_an_idempotent_post_refuses_an_oversized_chunked_body_while_it_streams(live: Live):
    """The Idempotency-Key path used to read the whole body into memory before any size check."""
    host = live.account("host")
    team = live.team(host)
    head = _post_head(f"/api/v1/teams/{team['id']}/todos/", {**host.headers, "Idempotency-Key": "k-1"})
    answer = answer_to_unfinished(live, head, chunked(3 * MB))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/users/login/", "application/x-www-form-urlencoded"),  # the form parser
        ("/api/v1/users/register/", "application/json"),  # the JSON reader
    ],
)
def test_every_body_reader_stops_at_the_limit_while_it_streams(live: Live, path: str, content_type: str):
    head = _post_head(path, {"Content-Type": content_type}).replace(b"Content-Type: application/json\r\n", b"", 1)
    answer = answer_to_unfinished(live, head, chunked(3 * MB))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


# 4 -------------------------------------------------------------------------------------------------


def _availability_answers(live: Live, forwarded: list[str]) -> list[int]:
    return [
        live.http.get(
            "/api/v1/users/check_availability/", params={"username": f"free{i}"}, headers={"X-Forwarded-For": ip}
        ).status_code
        for i, ip in enumerate(forwarded)
    ]


def test_a_client_cannot_buy_a_fresh_budget_with_x_forwarded_for(live: Live):
    """Embedded mode has no proxy: a forged X-Forwarded-For must not reset the per-address limit."""
    codes = _availability_answers(live, [f"198.51.100.{i}" for i in range(1, 62)])
    assert codes[:60] == [200] * 60
    assert codes[60] == 429


def test_forwarded_for_counts_when_the_peer_is_a_configured_proxy(environ):
    """With the peer configured as a proxy, each forwarded client has its own budget."""
    for live in serve({**environ, "TEAMMOA_TRUSTED_PROXIES": "127.0.0.0/8"}):
        same = _availability_answers(live, ["203.0.113.7"] * 61)
        assert same[60] == 429
        other = _availability_answers(live, ["203.0.113.8"])
        assert other == [200]


# 6 -------------------------------------------------------------------------------------------------


def test_head_on_my_account_reads_it_and_never_deactivates_it(client: TestClient, signup):
    user = signup("alice")
    r = client.head("/api/v1/users/me/", headers=user.headers)
    assert r.status_code == 200
    assert client.get("/api/v1/users/me/", headers=user.headers).status_code == 200
    r = client.post("/api/v1/users/login/", json={"login": user.username, "password": user.password})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("method", ["POST", "PUT", "PURGE"])
def test_other_methods_on_my_account_are_405_and_change_nothing(client: TestClient, signup, method: str):
    user = signup("bob")
    r = client.request(method, "/api/v1/users/me/", headers=user.headers, json={"password": user.password})
    assert r.status_code == 405
    assert client.get("/api/v1/users/me/", headers=user.headers).status_code == 200


# 7 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/users/login/", "/api/v1/users/register/", "/api/v1/teams/"])
def test_deeply_nested_json_is_a_422(client: TestClient, signup, path: str):
    user = signup("deep")
    r = client.post(path, content=b"[" * 100_000, headers={**user.headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["type"] == "json_too_deep"


def test_a_deeply_nested_frame_is_a_bad_frame_and_the_socket_stays_open(live: Live):
    user = live.account("ws1")
    with open_socket(live, user) as ws:
        ws.send("[" * 4000)
        frame = json.loads(ws.recv(timeout=10))
        assert frame["op"] == "error" and frame["code"] == "bad_frame"
        ws.send('{"op": "ping"}')
        assert json.loads(ws.recv(timeout=10)) == {"op": "pong"}


@pytest.mark.parametrize("digits", ["²", "١", "１", "1²"])
def test_path_ids_are_ascii_digits_only(client: TestClient, signup, digits: str):
    user = signup("ids")
    r = client.post(
        "/api/v1/teams/", json={"name": "One", "capacity": 5, "join_password": "team-pass-1"}, headers=user.headers
    )
    assert r.status_code == 201 and r.json()["id"] == 1
    assert client.get("/api/v1/teams/1/", headers=user.headers).status_code == 200
    r = client.get(f"/api/v1/teams/{digits}/", headers=user.headers)
    assert r.status_code == 404, r.text
    r = client.get(f"/api/v1/teams/1/schedules/{digits}/", headers=user.headers)
    assert r.status_code < 500, r.text
