"""Membership: invite preview and join, guess limits, member list, remove, leave, host transfer."""

from __future__ import annotations

from .conftest import API, types_of


def test_the_invite_preview_shows_the_team_to_a_holder_of_the_code(client, signup, make_team):
    host, alice = signup("host", nickname="Captain"), signup("alice")
    team = make_team(host, name="Moa", description="Hello", capacity=4)
    response = client.post(f"{API}join/preview/", json={"invite_code": team["invite_code"].lower()}, headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == {
        "id": team["id"],
        "name": "Moa",
        "description": "Hello",
        "capacity": 4,
        "member_count": 1,
        "host_id": host.id,
        "host_nickname": "Captain",
        "is_member": False,
    }
    assert "invite_code" not in response.json()


def test_joining_with_code_and_password_makes_a_member(client, signup, make_team, join, events):
    host, alice = signup("host"), signup("alice")
    team = make_team(host)
    response = join(alice, team)
    assert response.status_code == 201
    assert response.json()["my_role"] == "member" and response.json()["member_count"] == 2
    assert events[-1][:2] == (f"team.{team['id']}", "member.joined")
    assert events[-1][2]["user_id"] == alice.id


def test_a_wrong_password_or_code_does_not_join(client, signup, make_team, join):
    host, alice = signup("host"), signup("alice")
    team = make_team(host)
    wrong = join(alice, team, password="nope-nope")
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_join_password"
    assert join(alice, {"invite_code": "ZZZZZZZZZZ"}).status_code == 404
    assert client.get(f"{API}{team['id']}/", headers=alice.headers).status_code == 404


def test_joining_twice_is_a_conflict(signup, make_team, join):
    host, alice = signup("host"), signup("alice")
    team = make_team(host)
    assert join(alice, team).status_code == 201
    again = join(alice, team)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_member"


def test_a_full_team_refuses_new_members(signup, make_team, join):
    host, alice, bob = signup("host"), signup("alice"), signup("bob")
    team = make_team(host, capacity=2)
    assert join(alice, team).status_code == 201
    full = join(bob, team)
    assert full.status_code == 409 and full.json()["error"]["code"] == "team_full"


def test_ten_wrong_passwords_from_one_user_block_further_attempts(client, signup, make_team, join):
    host, mallory = signup("host"), signup("mallory")
    team, second, third = make_team(host), make_team(host, name="Second"), make_team(host, name="Third")
    for _ in range(5):
        assert join(mallory, team, password="guess-guess").status_code == 403
    blocked = join(mallory, team)  # five on one team: that team is closed to this guesser
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    for _ in range(5):
        assert join(mallory, second, password="guess-guess").status_code == 403
    assert join(mallory, third).status_code == 429  # ten in all: the limit is on the user, whatever the team


def test_ten_wrong_invite_codes_block_previews_and_joins(client, signup, make_team, join):
    host, mallory = signup("host"), signup("mallory")
    team = make_team(host)
    for n in range(10):
        response = client.post(f"{API}join/preview/", json={"invite_code": f"WRONG{n:05d}"}, headers=mallory.headers)
        assert response.status_code == 404
    assert (
        client.post(f"{API}join/preview/", json={"invite_code": team["invite_code"]}, headers=mallory.headers).status_code
        == 429
    )
    assert join(mallory, team).status_code == 429


def test_wrong_passwords_on_one_team_never_block_that_team_for_others(signup, make_team, join):
    """Guesses are limited per guesser (issue 14): anyone holding the invite code could otherwise lock a team."""
    host = signup("host")
    team = make_team(host)
    guessers = [signup(f"guesser{i}") for i in range(5)]
    for user in guessers:
        for _ in range(2):
            assert join(user, team, password="guess-guess").status_code == 403
    newcomer = signup("newcomer")
    assert join(newcomer, team).status_code == 201


def test_members_are_listed_longest_standing_first_with_nicknames_and_roles(client, crew):
    team, host, alice, bob = crew
    response = client.get(f"{API}{team['id']}/members/", headers=bob.headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(m["user_id"], m["nickname"], m["role"]) for m in items] == [
        (host.id, host.nickname, "host"),
        (alice.id, alice.nickname, "member"),
        (bob.id, bob.nickname, "member"),
    ]
    assert all(m["joined_at"] and m["last_seen_at"] for m in items)
    assert response.json()["total"] == 3


def test_the_host_removes_a_member_whose_open_todos_return_to_the_backlog(client, crew, events):
    team, host, alice, _bob = crew
    tid = team["id"]
    todo = client.post(f"{API}{tid}/todos/", json={"content": "mine"}, headers=alice.headers).json()
    client.post(f"{API}{tid}/todos/{todo['id']}/assign/", json={"user_id": alice.id}, headers=alice.headers)
    assert client.delete(f"{API}{tid}/members/{alice.id}/", headers=host.headers).status_code == 204
    assert ("member.removed", alice.id) in [(t, d.get("user_id")) for _c, t, d in events]
    assert client.get(f"{API}{tid}/", headers=alice.headers).status_code == 404
    back = client.get(f"{API}{tid}/todos/{todo['id']}/", headers=host.headers).json()
    assert back["assignee_id"] is None and back["state"] == "backlog"
    assert client.get(f"{API}{tid}/", headers=host.headers).json()["member_count"] == 2


def test_a_member_cannot_remove_another_member(client, crew):
    team, host, alice, bob = crew
    assert client.delete(f"{API}{team['id']}/members/{bob.id}/", headers=alice.headers).status_code == 403
    assert client.delete(f"{API}{team['id']}/members/{host.id}/", headers=alice.headers).status_code == 403
    assert client.get(f"{API}{team['id']}/", headers=bob.headers).status_code == 200


def test_a_member_leaves_by_removing_themselves(client, crew, events):
    team, _host, alice, _bob = crew
    assert client.delete(f"{API}{team['id']}/members/{alice.id}/", headers=alice.headers).status_code == 204
    assert types_of(events)[-1] == "member.left"
    assert client.get(API, headers=alice.headers).json()["total"] == 0


def test_the_host_cannot_leave_without_handing_over(client, crew):
    team, host, _alice, _bob = crew
    response = client.delete(f"{API}{team['id']}/members/{host.id}/", headers=host.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "host_cannot_leave"


def test_removing_someone_who_is_not_a_member_is_not_found(client, crew, signup):
    team, host, _alice, _bob = crew
    stranger = signup("stranger")
    assert client.delete(f"{API}{team['id']}/members/{stranger.id}/", headers=host.headers).status_code == 404
    assert client.delete(f"{API}{team['id']}/members/999999/", headers=host.headers).status_code == 404


def test_the_host_transfers_the_role_to_another_member(client, crew, events):
    team, host, alice, _bob = crew
    response = client.put(f"{API}{team['id']}/host/", json={"user_id": alice.id}, headers=host.headers)
    assert response.status_code == 200
    assert response.json()["host_id"] == alice.id and response.json()["my_role"] == "member"
    assert [(t, d["user_id"], d["role"]) for _c, t, d in events] == [
        ("member.role_changed", alice.id, "host"),
        ("member.role_changed", host.id, "member"),
    ]
    assert client.patch(f"{API}{team['id']}/", json={"name": "x"}, headers=host.headers).status_code == 403
    assert client.delete(f"{API}{team['id']}/members/{host.id}/", headers=host.headers).status_code == 204


def test_the_host_role_goes_only_to_a_current_member(client, crew, signup):
    team, host, _alice, _bob = crew
    stranger = signup("stranger")
    for user_id in (stranger.id, host.id, 999999):
        response = client.put(f"{API}{team['id']}/host/", json={"user_id": user_id}, headers=host.headers)
        assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "user_id"
    wrong_type = client.put(f"{API}{team['id']}/host/", json={"user_id": "alice"}, headers=host.headers)
    assert wrong_type.status_code == 422
    assert client.get(f"{API}{team['id']}/", headers=host.headers).json()["host_id"] == host.id
