"""Who may see a team's schedules, with the real teams service: members only, current members only."""

from __future__ import annotations

import pytest

WEEK = "2026-11-30"
ROUTES = [
    ("GET", "/"),
    ("GET", "/me/"),
    ("PUT", "/me/"),
    ("POST", "/me/import/"),
    ("GET", "/me/export/"),
    ("GET", "/suggestions/"),
    ("GET", "/ics/?start=2026-11-30T10:00:00Z&end=2026-11-30T11:00:00Z"),
]


def _call(client, method, url, headers):
    kwargs = {"json": {"week_start": WEEK, "slots": {}}} if method == "PUT" else {}
    if method == "POST":
        kwargs = {"content": b"2026-11-30,09:00,10:00\n", "headers": {**headers, "Content-Type": "text/csv"}}
    return client.request(method, url, **({"headers": headers} | kwargs))


@pytest.fixture(name="pair")
def fx_pair(signup, make_team):
    alice, bob = signup("alice"), signup("bob")
    return make_team(alice, bob), alice, bob


def test_a_non_member_gets_404_on_every_schedule_route(client, signup, pair):
    team, *_ = pair
    mallory = signup("mallory")
    for method, path in ROUTES:
        r = _call(client, method, team.api + path, mallory.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), (method, path)


def test_an_anonymous_caller_gets_401_on_every_schedule_route(client, pair):
    team, *_ = pair
    for method, path in ROUTES:
        r = _call(client, method, team.api + path, {})
        assert (r.status_code, r.json()["error"]["code"]) == (401, "not_authenticated"), (method, path)


def test_an_unknown_or_malformed_team_id_is_a_404(client, pair):
    _, alice, _ = pair
    for team_id in ("999999", "abc", "0", "99999999999999999999"):
        assert client.get(f"/api/v1/teams/{team_id}/schedules/me/", headers=alice.headers).status_code == 404


def test_a_member_who_leaves_stops_counting_at_once(client, pair):
    team, alice, bob = pair
    for user in (alice, bob):
        client.put(f"{team.api}/me/", headers=user.headers, json={"week_start": WEEK, "slots": {WEEK: [20, 21]}})
    view = f"{team.api}/?start={WEEK}&end={WEEK}"
    assert client.get(view, headers=alice.headers).json()["days"][0]["slots"][20]["count"] == 2
    r = client.delete(f"/api/v1/teams/{team.id}/members/{bob.id}/", headers=bob.headers)
    assert r.status_code in (200, 204), r.text
    body = client.get(view, headers=alice.headers).json()
    assert body["member_count"] == 1
    assert body["days"][0]["slots"][20] == {"slot": 20, "count": 1, "share": 1.0, "who": [alice.id], "everyone": True}
    items = client.get(f"{team.api}/suggestions/?start={WEEK}&end={WEEK}", headers=alice.headers).json()["items"]
    assert [a["user_id"] for a in items[0]["attendees"]] == [alice.id]
    assert client.get(f"{team.api}/me/", headers=bob.headers).status_code == 404


def test_a_removed_member_loses_access_at_once(client, pair):
    team, alice, bob = pair
    assert client.get(f"{team.api}/me/", headers=bob.headers).status_code == 200
    r = client.delete(f"/api/v1/teams/{team.id}/members/{bob.id}/", headers=alice.headers)
    assert r.status_code in (200, 204), r.text
    assert client.get(f"{team.api}/me/", headers=bob.headers).status_code == 404
    assert client.get(f"{team.api}/", headers=alice.headers).json()["member_count"] == 1


def test_a_newcomer_counts_at_once(client, signup, pair):
    team, alice, _ = pair
    assert client.get(f"{team.api}/", headers=alice.headers).json()["member_count"] == 2
    carol = signup("carol")
    r = client.post(
        "/api/v1/teams/join/", headers=carol.headers, json={"invite_code": team.invite_code, "password": "moa-join-42"}
    )
    assert r.status_code in (200, 201), r.text
    assert client.get(f"{team.api}/", headers=alice.headers).json()["member_count"] == 3
    assert client.get(f"{team.api}/me/", headers=carol.headers).status_code == 200


def test_a_cookie_signed_in_save_needs_the_csrf_header(client, pair):
    team, alice, _ = pair
    r = client.post("/api/v1/users/login/", json={"login": alice.username, "password": alice.password})
    assert r.status_code == 200
    body = {"week_start": WEEK, "slots": {WEEK: [1]}}
    r = client.put(f"{team.api}/me/", json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "csrf_failed")
    r = client.put(f"{team.api}/me/", json=body, headers={"X-CSRF-Token": client.cookies["teammoa_csrf"]})
    assert r.status_code == 200
    client.cookies.clear()
