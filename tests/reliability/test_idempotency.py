"""``Idempotency-Key`` on the teams create endpoints: a retried POST is answered from the first attempt
and never applied twice — sequentially, concurrently, per caller, and with Redis unreachable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis.asyncio as aioredis

from services.kit.idempotency import IdempotencyStore

API = "/api/v1/teams/"
TEAM_PASSWORD = "team-pass-1"


@pytest.fixture(name="team_of")
def fx_team_of(client):
    def make(host) -> dict:
        r = client.post(API, json={"name": "Idem", "capacity": 10, "join_password": TEAM_PASSWORD}, headers=host.headers)
        assert r.status_code == 201, r.text
        return r.json()

    return make


def _with_key(user, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


def _count(client, user, path: str) -> int:
    r = client.get(path, headers=user.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["total"] if "total" in body else len(body["items"])


def test_a_retried_todo_is_answered_from_the_first_attempt_and_stored_once(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    url = f"{API}{team['id']}/todos/"
    first = client.post(url, json={"content": "once"}, headers=_with_key(host, "k-1"))
    again = client.post(url, json={"content": "once"}, headers=_with_key(host, "k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _count(client, host, url) == 1


def test_the_same_key_with_another_body_is_refused(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    url = f"{API}{team['id']}/todos/"
    assert client.post(url, json={"content": "a"}, headers=_with_key(host, "k-2")).status_code == 201
    reused = client.post(url, json={"content": "b"}, headers=_with_key(host, "k-2"))
    assert reused.status_code == 422
    assert reused.json()["error"]["details"][0]["type"] == "idempotency_key_reused"
    assert _count(client, host, url) == 1


def test_keys_belong_to_their_caller(client, signup, team_of):
    host, other = signup("host"), signup("other")
    team = team_of(host)
    assert (
        client.post(
            API + "join/", json={"invite_code": team["invite_code"], "password": TEAM_PASSWORD}, headers=other.headers
        ).status_code
        == 201
    )
    url = f"{API}{team['id']}/todos/"
    mine = client.post(url, json={"content": "x"}, headers=_with_key(host, "shared"))
    theirs = client.post(url, json={"content": "x"}, headers=_with_key(other, "shared"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert _count(client, host, url) == 2


def test_without_a_key_every_post_is_applied(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    url = f"{API}{team['id']}/todos/"
    for _ in range(2):
        assert client.post(url, json={"content": "twice"}, headers=host.headers).status_code == 201
    assert _count(client, host, url) == 2


def test_an_invalid_request_is_replayed_as_the_same_error(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    url = f"{API}{team['id']}/todos/"
    first = client.post(url, json={"content": ""}, headers=_with_key(host, "bad"))
    again = client.post(url, json={"content": ""}, headers=_with_key(host, "bad"))
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


def test_a_malformed_key_is_refused_before_anything_is_written(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    url = f"{API}{team['id']}/todos/"
    assert client.post(url, json={"content": "x"}, headers=_with_key(host, "k" * 300)).status_code == 422
    assert _count(client, host, url) == 0


def test_concurrent_duplicates_are_applied_once_and_all_get_the_same_answer(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    url = f"{API}{team['id']}/todos/"

    def send(_):
        return client.post(url, json={"content": "race"}, headers=_with_key(host, "race-1"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _count(client, host, url) == 1


def test_every_teams_create_endpoint_honours_the_key(client, signup, team_of):
    host = signup("host")
    team = team_of(host)
    base = f"{API}{team['id']}/"
    mindmap = client.post(base + "mindmaps/", json={"title": "Map"}, headers=host.headers).json()
    node = client.post(
        f"{base}mindmaps/{mindmap['id']}/nodes/", json={"title": "n", "x": 1, "y": 1}, headers=host.headers
    ).json()
    cases = [
        (API, {"name": "Second", "capacity": 5, "join_password": TEAM_PASSWORD}, API),
        (base + "todos/", {"content": "t"}, base + "todos/"),
        (base + "milestones/", {"title": "M", "start_date": "2026-01-01", "end_date": "2026-02-01"}, base + "milestones/"),
        (base + "posts/", {"title": "P", "body": "b"}, base + "posts/"),
        (base + "mindmaps/", {"title": "Other map"}, base + "mindmaps/"),
        (f"{base}mindmaps/{mindmap['id']}/nodes/", {"title": "n2", "x": 5, "y": 5}, None),
        (
            f"{base}mindmaps/{mindmap['id']}/nodes/{node['id']}/comments/",
            {"body": "c"},
            f"{base}mindmaps/{mindmap['id']}/nodes/{node['id']}/comments/",
        ),
    ]
    for index, (url, body, listing) in enumerate(cases):
        before = _count(client, host, listing) if listing else None
        first = client.post(url, json=body, headers=_with_key(host, f"every-{index}"))
        again = client.post(url, json=body, headers=_with_key(host, f"every-{index}"))
        assert first.status_code == 201, (url, first.text)
        assert again.status_code == 201 and again.json() == first.json(), url
        if listing:
            assert _count(client, host, listing) == before + 1, url
    snapshot = client.get(f"{base}mindmaps/{mindmap['id']}/", headers=host.headers).json()
    assert len(snapshot["nodes"]) == 2


@pytest.mark.anyio
async def test_the_store_keeps_working_in_memory_while_redis_is_unreachable():
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    store = IdempotencyStore(dead, "t:")
    try:
        assert await store.reserve("k", "pending", 60) is True
        assert await store.reserve("k", "pending", 60) is False
        await store.put("k", "done", 60)
        assert await store.get("k") == "done"
        await store.drop("k")
        assert await store.get("k") is None
    finally:
        await dead.aclose()
