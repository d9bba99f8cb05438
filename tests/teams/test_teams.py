"""Teams: create, list mine, read, update, disband, invite codes, join passwords, statistics."""

from __future__ import annotations

import datetime as dt
import re

from services.teams.teams import INVITE_ALPHABET

from .conftest import API, TEAM_PASSWORD, teams_app


def test_creating_a_team_makes_the_creator_its_host_and_first_member(client, signup):
    host = signup("host")
    response = client.post(
        API,
        json={
            "name": "  Moa  ",
            "description": "We build",
            "capacity": 5,
            "join_password": TEAM_PASSWORD,
            "time_zone": "Asia/Seoul",
        },
        headers=host.headers,
    )
    assert response.status_code == 201
    team = response.json()
    assert team["name"] == "Moa"
    assert team | {"id": 0, "created_at": "", "invite_code": ""} == {
        "id": 0,
        "name": "Moa",
        "description": "We build",
        "capacity": 5,
        "member_count": 1,
        "time_zone": "Asia/Seoul",
        "host_id": host.id,
        "created_at": "",
        "invite_code": "",
        "my_role": "host",
    }
    assert re.fullmatch(f"[{INVITE_ALPHABET}]{{10}}", team["invite_code"])
    assert "join_password" not in team and "join_password_hash" not in team


def test_the_time_zone_defaults_to_utc(signup, make_team):
    assert make_team(signup("host"))["time_zone"] == "UTC"


def test_invite_codes_differ_between_teams(signup, make_team):
    host = signup("host")
    codes = {make_team(host, name=f"T{i}")["invite_code"] for i in range(5)}
    assert len(codes) == 5


def test_the_join_password_is_stored_as_an_argon2id_hash(client, signup, make_team):
    team = make_team(signup("host"))

    async def stored():
        return await teams_app(client).state.db.fetch_val(f"SELECT join_password_hash FROM teams WHERE id = {team['id']}")

    password_hash = client.portal.call(stored)
    assert password_hash.startswith("$argon2id$") and TEAM_PASSWORD not in password_hash


INVALID_TEAM_FIELDS = [
    ("name", "x" * 65),
    ("name", "   "),
    ("name", None),
    ("name", 12),
    ("capacity", 0),
    ("capacity", 101),
    ("capacity", "many"),
    ("capacity", 2.5),
    ("join_password", "abc"),
    ("join_password", "x" * 129),
    ("description", "d" * 501),
    ("time_zone", "Mars/Olympus"),
    ("time_zone", "../etc/passwd"),
    ("time_zone", 9),
]


def test_invalid_team_fields_are_refused_with_the_field_named_and_nothing_written(client, signup, subtests):
    host = signup("host")
    for field, value in INVALID_TEAM_FIELDS:
        with subtests.test(field=field, value=value):
            body = {"name": "Moa", "capacity": 5, "join_password": TEAM_PASSWORD, field: value}
            response = client.post(API, json=body, headers=host.headers)
            assert response.status_code == 422
            assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert client.get(API, headers=host.headers).json()["total"] == 0


def test_missing_fields_unknown_fields_and_bad_json_are_refused(client, signup):
    host = signup("host")
    missing = client.post(API, json={}, headers=host.headers)
    assert missing.status_code == 422
    assert {d["field"] for d in missing.json()["error"]["details"]} == {"name", "capacity", "join_password"}
    extra = client.post(
        API, json={"name": "M", "capacity": 2, "join_password": TEAM_PASSWORD, "host_id": 9}, headers=host.headers
    )
    assert extra.status_code == 422 and extra.json()["error"]["details"][0]["field"] == "host_id"
    garbage = client.post(API, content=b"{not json", headers={**host.headers, "content-type": "application/json"})
    assert garbage.status_code == 422
    listed = client.post(API, json=[1, 2], headers=host.headers)
    assert listed.status_code == 422


def test_my_teams_lists_only_the_teams_i_belong_to(client, signup, make_team, join):
    host, alice = signup("host"), signup("alice")
    first, second = make_team(host, name="First"), make_team(host, name="Second")
    make_team(alice, name="Alice's")
    assert join(alice, first).status_code == 201
    mine = client.get(API, headers=alice.headers).json()
    assert [(t["name"], t["my_role"], t["member_count"]) for t in mine["items"]] == [
        ("Alice's", "host", 1),
        ("First", "member", 2),
    ]
    assert mine["total"] == 2 and mine["page"] == 1
    assert second["id"] not in {t["id"] for t in mine["items"]}


def test_a_member_reads_the_team_with_its_invite_code(client, crew):
    team, _host, alice, _bob = crew
    body = client.get(f"{API}{team['id']}/", headers=alice.headers).json()
    assert body["invite_code"] == team["invite_code"]
    assert body["member_count"] == 3 and body["my_role"] == "member"


def test_the_host_updates_name_description_capacity_and_time_zone(client, crew):
    team, host, alice, _bob = crew
    response = client.patch(
        f"{API}{team['id']}/",
        json={"name": "Renamed", "description": "", "capacity": 3, "time_zone": "Europe/Paris"},
        headers=host.headers,
    )
    assert response.status_code == 200
    body = client.get(f"{API}{team['id']}/", headers=alice.headers).json()
    assert (body["name"], body["description"], body["capacity"], body["time_zone"]) == ("Renamed", "", 3, "Europe/Paris")


def test_capacity_cannot_drop_below_the_member_count(client, crew):
    team, host, _alice, _bob = crew
    response = client.patch(f"{API}{team['id']}/", json={"capacity": 2}, headers=host.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "capacity"
    assert client.get(f"{API}{team['id']}/", headers=host.headers).json()["capacity"] == 10


def test_an_explicit_null_in_an_update_is_refused(client, crew):
    team, host, _alice, _bob = crew
    response = client.patch(f"{API}{team['id']}/", json={"name": None}, headers=host.headers)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "name"


def test_rotating_the_invite_code_retires_the_old_one(client, signup, make_team, join):
    host, alice = signup("host"), signup("alice")
    team = make_team(host)
    fresh = client.post(f"{API}{team['id']}/invite-code/", headers=host.headers)
    assert fresh.status_code == 200 and fresh.json()["invite_code"] != team["invite_code"]
    assert join(alice, team).status_code == 404
    assert join(alice, {"invite_code": fresh.json()["invite_code"]}).status_code == 201


def test_changing_the_join_password_takes_effect_at_once(client, signup, make_team, join):
    host, alice = signup("host"), signup("alice")
    team = make_team(host)
    assert (
        client.put(f"{API}{team['id']}/password/", json={"password": "brand-new"}, headers=host.headers).status_code == 204
    )
    assert join(alice, team).status_code == 403
    assert join(alice, team, password="brand-new").status_code == 201


def test_disbanding_removes_the_team_its_data_and_its_files(client, crew):
    team, host, alice, _bob = crew
    tid = team["id"]
    client.post(f"{API}{tid}/todos/", json={"content": "work"}, headers=host.headers)
    post = client.post(f"{API}{tid}/posts/", json={"title": "Notes"}, headers=alice.headers).json()
    client.post(f"{API}{tid}/posts/{post['id']}/files/", files={"file": ("a.txt", b"hello")}, headers=alice.headers)
    folder = teams_app(client).state.storage.root / str(tid)
    assert any(folder.iterdir())
    assert client.delete(f"{API}{tid}/", headers=host.headers).status_code == 204
    assert client.get(f"{API}{tid}/", headers=host.headers).status_code == 404
    assert client.get(API, headers=alice.headers).json()["total"] == 0
    assert not folder.exists()

    async def leftovers():
        db = teams_app(client).state.db
        return [
            await db.fetch_val(f"SELECT COUNT(*) FROM {name}")
            for name in ("memberships", "todos", "posts", "post_files", "teams")
        ]

    assert client.portal.call(leftovers) == [0, 0, 0, 0, 0]


def test_statistics_count_milestones_by_status_and_name_todays_milestone(client, crew):
    team, host, _alice, _bob = crew
    tid = team["id"]
    today = dt.datetime.now(dt.UTC).date()

    def milestone(title, start, end, **extra):
        body = {
            "title": title,
            "start_date": str(today + dt.timedelta(days=start)),
            "end_date": str(today + dt.timedelta(days=end)),
            **extra,
        }
        assert client.post(f"{API}{tid}/milestones/", json=body, headers=host.headers).status_code == 201

    milestone("past", -10, -2)
    milestone("low now", -1, 9, priority="low")
    milestone("critical now", -1, 4, priority="critical")
    milestone("later", 5, 8)
    milestone("done", -3, 3, progress_mode="manual", progress=100)
    client.post(f"{API}{tid}/todos/", json={"content": "a"}, headers=host.headers)
    stats = client.get(f"{API}{tid}/statistics/", headers=host.headers).json()
    assert stats["milestones"] == {
        "total": 5,
        "by_status": {"not_started": 1, "in_progress": 2, "overdue": 1, "completed": 1},
    }
    assert stats["today_milestone"]["title"] == "critical now" and stats["today_milestone"]["days_left"] == 4
    assert stats["todos"] == {"total": 1, "backlog": 1, "assigned": 0, "done": 0}


def test_disbanding_also_removes_the_teams_mind_maps(client, crew):
    team, host, alice, _bob = crew
    tid = team["id"]
    maps = f"{API}{tid}/mindmaps/"
    mind_map = client.post(maps, json={"title": "Ideas"}, headers=alice.headers)
    assert mind_map.status_code == 201, mind_map.text
    base = f"{maps}{mind_map.json()['id']}/"
    one, two = (client.post(base + "nodes/", json={"title": t}, headers=alice.headers).json()["id"] for t in "ab")
    assert client.post(base + "links/", json={"source_id": one, "target_id": two}, headers=alice.headers).is_success
    assert client.post(f"{base}nodes/{one}/comments/", json={"body": "hm"}, headers=alice.headers).is_success
    assert client.put(f"{base}nodes/{one}/vote/", headers=alice.headers).is_success
    assert client.delete(f"{API}{tid}/", headers=host.headers).status_code == 204

    async def leftovers():
        db = teams_app(client).state.db
        return [
            await db.fetch_val(f"SELECT COUNT(*) FROM {name}")
            for name in ("mindmaps", "mindmap_nodes", "mindmap_links", "mindmap_comments", "mindmap_votes")
        ]

    assert client.portal.call(leftovers) == [0, 0, 0, 0, 0]
