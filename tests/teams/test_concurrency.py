"""Rules that must hold when requests race: capacity, one membership per user, milestone progress."""

from __future__ import annotations

from .conftest import API, TEAM_PASSWORD, at_once, in_app


def test_thirty_users_joining_a_team_of_ten_at_once_leave_exactly_ten_members(client, signup, make_team):
    host = signup("host")
    team = make_team(host, capacity=10)
    joiners = [signup(f"joiner{i}") for i in range(30)]
    body = {"invite_code": team["invite_code"], "password": TEAM_PASSWORD}
    responses = at_once(client, [("POST", API + "join/", {"json": body, "headers": u.headers}) for u in joiners])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 9 + [409] * 21
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"team_full"}
    assert client.get(f"{API}{team['id']}/", headers=host.headers).json()["member_count"] == 10

    async def stored(state):
        return await state.db.fetch_val(f"SELECT COUNT(*) FROM memberships WHERE team_id = {team['id']}")

    assert in_app(client, stored) == 10


def test_one_user_joining_many_times_at_once_becomes_one_member(client, signup, make_team):
    host, alice = signup("host"), signup("alice")
    team = make_team(host, capacity=10)
    body = {"invite_code": team["invite_code"], "password": TEAM_PASSWORD}
    responses = at_once(client, [("POST", API + "join/", {"json": body, "headers": alice.headers})] * 8)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert client.get(f"{API}{team['id']}/", headers=host.headers).json()["member_count"] == 2


def test_fifty_concurrent_completions_leave_the_true_progress(client, signup, make_team):
    host = signup("host")
    team = make_team(host)
    tid = team["id"]
    milestone = client.post(
        f"{API}{tid}/milestones/",
        json={"title": "Big", "start_date": "2026-01-01", "end_date": "2027-01-01"},
        headers=host.headers,
    ).json()
    created = at_once(
        client,
        [
            (
                "POST",
                f"{API}{tid}/todos/",
                {"json": {"content": f"t{i}", "milestone_id": milestone["id"]}, "headers": host.headers},
            )
            for i in range(60)
        ],
    )
    assert all(r.status_code == 201 for r in created)
    assert sorted(r.json()["position"] for r in created) == list(range(60))
    chosen = [r.json()["id"] for r in created[:50]]
    done = at_once(
        client,
        [
            ("POST", f"{API}{tid}/todos/{todo_id}/complete/", {"json": {"completed": True}, "headers": host.headers})
            for todo_id in chosen
        ],
    )
    assert all(r.status_code == 200 for r in done)
    read = client.get(f"{API}{tid}/milestones/{milestone['id']}/", headers=host.headers).json()
    assert read["todo_stats"] == {"total": 60, "completed": 50, "open": 10}
    assert read["progress"] == 50 * 100 // 60


def test_concurrent_completions_and_reopenings_still_add_up(client, signup, make_team):
    host = signup("host")
    tid = make_team(host)["id"]
    milestone = client.post(
        f"{API}{tid}/milestones/",
        json={"title": "Mixed", "start_date": "2026-01-01", "end_date": "2027-01-01"},
        headers=host.headers,
    ).json()
    ids = [
        client.post(
            f"{API}{tid}/todos/", json={"content": f"t{i}", "milestone_id": milestone["id"]}, headers=host.headers
        ).json()["id"]
        for i in range(20)
    ]
    for todo_id in ids[:10]:
        client.post(f"{API}{tid}/todos/{todo_id}/complete/", json={"completed": True}, headers=host.headers)
    flips = [
        ("POST", f"{API}{tid}/todos/{todo_id}/complete/", {"json": {"completed": index >= 10}, "headers": host.headers})
        for index, todo_id in enumerate(ids)
    ]
    assert all(r.status_code == 200 for r in at_once(client, flips))
    read = client.get(f"{API}{tid}/milestones/{milestone['id']}/", headers=host.headers).json()
    assert (read["progress"], read["todo_stats"]["completed"]) == (50, 10)
