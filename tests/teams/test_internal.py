"""Internal endpoints: deactivated accounts, member lists for the schedule service, membership checks."""

from __future__ import annotations

import time

from .conftest import API, internal, teams_app


def test_internal_endpoints_refuse_callers_without_the_service_credential(client, crew):
    team, host, _alice, _bob = crew
    for path, method in (
        (f"/internal/teams/{team['id']}/members/", "GET"),
        (f"/internal/teams/{team['id']}/members/{host.id}/", "GET"),
        (f"/internal/users/{host.id}/deactivated", "POST"),
    ):
        assert internal(client, method, path, credential=False).status_code == 401
        assert internal(client, method, path, credential="wrong-token").status_code == 401
    assert client.get(f"{API}{team['id']}/", headers=host.headers).json()["member_count"] == 3


def test_internal_paths_are_not_routed_by_the_gateway(client, crew):
    team, host, _alice, _bob = crew
    assert client.get(f"/internal/teams/{team['id']}/members/", headers=host.headers).status_code == 404


def test_the_schedule_service_gets_every_member_and_the_time_zone(client, signup, make_team, join):
    host, alice = signup("host"), signup("alice")
    team = make_team(host, time_zone="Asia/Seoul")
    join(alice, team)
    response = internal(client, "GET", f"/internal/teams/{team['id']}/members/")
    assert response.status_code == 200
    body = response.json()
    assert (body["team_id"], body["time_zone"]) == (team["id"], "Asia/Seoul")
    assert [(m["user_id"], m["role"]) for m in body["members"]] == [(host.id, "host"), (alice.id, "member")]
    assert all(m["joined_at"] for m in body["members"])
    assert internal(client, "GET", "/internal/teams/999999/members/").status_code == 404


def test_the_realtime_service_checks_one_membership(client, crew, signup):
    team, host, alice, _bob = crew
    stranger = signup("stranger")
    found = internal(client, "GET", f"/internal/teams/{team['id']}/members/{alice.id}/")
    assert found.json() == {"team_id": team["id"], "user_id": alice.id, "role": "member", "time_zone": "UTC"}
    assert internal(client, "GET", f"/internal/teams/{team['id']}/members/{host.id}")
    assert internal(client, "GET", f"/internal/teams/{team['id']}/members/{host.id}/").json()["role"] == "host"
    assert internal(client, "GET", f"/internal/teams/{team['id']}/members/{stranger.id}/").status_code == 404
    assert internal(client, "GET", f"/internal/teams/999999/members/{host.id}/").status_code == 404


def test_a_deactivated_host_hands_the_team_to_the_longest_standing_member(client, signup, make_team, join, events):
    host, alice, bob = signup("host"), signup("alice"), signup("bob")
    team = make_team(host)
    join(alice, team)
    join(bob, team)
    tid = team["id"]
    todo = client.post(f"{API}{tid}/todos/", json={"content": "host's"}, headers=host.headers).json()
    client.post(f"{API}{tid}/todos/{todo['id']}/assign/", json={"user_id": host.id}, headers=host.headers)
    response = internal(client, "POST", f"/internal/users/{host.id}/deactivated")
    assert response.status_code == 200 and response.json()["disbanded_team_ids"] == []
    after = client.get(f"{API}{tid}/", headers=alice.headers).json()
    assert (after["host_id"], after["member_count"], after["my_role"]) == (alice.id, 2, "host")
    assert client.get(f"{API}{tid}/todos/{todo['id']}/", headers=bob.headers).json()["assignee_id"] is None
    assert [(t, d["user_id"]) for _c, t, d in events if t in ("member.role_changed", "member.left")] == [
        ("member.role_changed", alice.id),
        ("member.left", host.id),
    ]
    again = internal(client, "POST", f"/internal/users/{host.id}/deactivated")
    assert again.status_code == 200
    assert client.get(f"{API}{tid}/", headers=alice.headers).json()["member_count"] == 2


def test_a_deactivated_sole_member_disbands_the_team_and_its_files(client, signup, make_team):
    host = signup("host")
    team = make_team(host)
    tid = team["id"]
    post = client.post(f"{API}{tid}/posts/", json={"title": "mine"}, headers=host.headers).json()
    client.post(f"{API}{tid}/posts/{post['id']}/files/", files={"file": ("a.txt", b"a")}, headers=host.headers)
    folder = teams_app(client).state.storage.root / str(tid)
    assert folder.exists()
    response = internal(client, "POST", f"/internal/users/{host.id}/deactivated/")
    assert response.json()["disbanded_team_ids"] == [tid]
    assert not folder.exists()
    assert internal(client, "GET", f"/internal/teams/{tid}/members/").status_code == 404


def test_deleting_an_account_reaches_the_teams_through_auth(client, crew):
    team, host, alice, _bob = crew
    response = client.request("DELETE", "/api/v1/users/me/", json={"password": host.password}, headers=host.headers)
    assert response.status_code in (200, 204), response.text
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        body = client.get(f"{API}{team['id']}/", headers=alice.headers).json()
        if body["host_id"] == alice.id:
            break
        time.sleep(0.05)
    assert (body["host_id"], body["member_count"]) == (alice.id, 2)
