"""Todos: the board's rules, exactly — create, assign, complete, move, reorder, link, edit, delete."""

from __future__ import annotations

import pytest

from .conftest import API, types_of


@pytest.fixture(name="todo_board")
def fx_todo_board(client, crew):
    """(tid, host, alice, bob, new_todo, call) where call(user, method, path, body) hits the team's todos."""
    team, host, alice, bob = crew
    tid = team["id"]

    def call(user, method: str, path: str = "", body=None):
        return client.request(method, f"{API}{tid}/todos/{path}", json=body, headers=user.headers)

    def new_todo(content="task", *, by=None, assignee=None):
        created = call(by or host, "POST", "", {"content": content})
        assert created.status_code == 201, created.text
        todo = created.json()
        if assignee is not None:
            assert call(host, "POST", f"{todo['id']}/assign/", {"user_id": assignee.id}).status_code == 200
        return call(host, "GET", f"{todo['id']}/").json()

    return tid, host, alice, bob, new_todo, call


def column(call, user, state, assignee=None):
    query = f"?state={state}" + (f"&assignee_id={assignee.id}" if assignee else "")
    return [t["content"] for t in call(user, "GET", query).json()["items"]]


def test_a_new_todo_goes_to_the_end_of_the_backlog(todo_board, events):
    _tid, _host, alice, _bob, new_todo, call = todo_board
    first, second = new_todo("first", by=alice), new_todo("second", by=alice)
    assert (first["position"], second["position"]) == (0, 1)
    assert first | {"id": 0, "created_at": ""} == {
        "id": 0,
        "content": "first",
        "assignee_id": None,
        "is_completed": False,
        "completed_at": None,
        "milestone_id": None,
        "position": 0,
        "state": "backlog",
        "created_by": alice.id,
        "created_at": "",
    }
    assert column(call, alice, "backlog") == ["first", "second"]
    assert "todo.created" in types_of(events)


INVALID_TODOS = [
    {"content": "x" * 201},
    {"content": ""},
    {"content": "   "},
    {"content": 5},
    {},
    {"content": "ok", "assignee_id": 2},
    {"content": "ok", "milestone_id": "one"},
    {"content": "ok", "milestone_id": 999999},
]


def test_invalid_todos_are_refused_and_nothing_is_written(todo_board, subtests):
    _tid, host, _alice, _bob, _new_todo, call = todo_board
    for body in INVALID_TODOS:
        with subtests.test(body=body):
            response = call(host, "POST", "", body)
            assert response.status_code == 422 and response.json()["error"]["details"]
    assert call(host, "GET").json()["total"] == 0


def test_a_todo_cannot_link_to_another_teams_milestone(client, todo_board, signup, make_team):
    _tid, host, _alice, _bob, new_todo, call = todo_board
    outsider = signup("outsider")
    other = make_team(outsider, name="Other")
    foreign = client.post(
        f"{API}{other['id']}/milestones/",
        json={"title": "Theirs", "start_date": "2026-01-01", "end_date": "2026-02-01"},
        headers=outsider.headers,
    )
    foreign_id = foreign.json()["id"]
    created = call(host, "POST", "", {"content": "x", "milestone_id": foreign_id})
    assert created.status_code == 422 and created.json()["error"]["details"][0]["field"] == "milestone_id"
    todo = new_todo()
    linked = call(host, "POST", f"{todo['id']}/assign-milestone/", {"milestone_id": foreign_id})
    assert linked.status_code == 422
    assert call(host, "GET", f"{todo['id']}/").json()["milestone_id"] is None
    assert (
        client.get(f"{API}{other['id']}/milestones/{foreign_id}/", headers=outsider.headers).json()["todo_stats"]["total"]
        == 0
    )
    assert call(host, "GET").json()["total"] == 1


def test_the_host_assigns_any_todo_to_any_member(todo_board):
    _tid, host, alice, bob, new_todo, call = todo_board
    todo = new_todo(assignee=alice)
    moved = call(host, "POST", f"{todo['id']}/assign/", {"user_id": bob.id})
    assert moved.status_code == 200 and moved.json()["assignee_id"] == bob.id and moved.json()["state"] == "assigned"


def test_a_member_takes_an_unassigned_todo_only_for_themselves(todo_board):
    _tid, _host, alice, bob, new_todo, call = todo_board
    todo = new_todo()
    assert call(alice, "POST", f"{todo['id']}/assign/", {"user_id": bob.id}).status_code == 403
    assert call(alice, "POST", f"{todo['id']}/assign/", {"user_id": alice.id}).json()["assignee_id"] == alice.id
    assert call(bob, "POST", f"{todo['id']}/assign/", {"user_id": bob.id}).status_code == 403
    assert call(bob, "GET", f"{todo['id']}/").json()["assignee_id"] == alice.id


def test_todos_are_assigned_only_to_members(todo_board, signup):
    _tid, host, _alice, _bob, new_todo, call = todo_board
    stranger = signup("stranger")
    todo = new_todo()
    response = call(host, "POST", f"{todo['id']}/assign/", {"user_id": stranger.id})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "user_id"
    assert call(host, "POST", f"{todo['id']}/assign/", {"user_id": None}).status_code == 422


def test_the_host_or_the_assignee_completes_and_reopens(todo_board):
    _tid, host, alice, bob, new_todo, call = todo_board
    todo = new_todo(assignee=alice)
    assert call(bob, "POST", f"{todo['id']}/complete/", {"completed": True}).status_code == 403
    done = call(alice, "POST", f"{todo['id']}/complete/", {"completed": True}).json()
    assert (done["is_completed"], done["state"], done["assignee_id"]) == (True, "done", alice.id) and done["completed_at"]
    reopened = call(host, "POST", f"{todo['id']}/complete/", {"completed": False}).json()
    assert (reopened["is_completed"], reopened["completed_at"], reopened["state"]) == (False, None, "assigned")


def test_an_unassigned_todo_is_completed_only_by_the_host(todo_board):
    _tid, host, alice, _bob, new_todo, call = todo_board
    todo = new_todo()
    assert call(alice, "POST", f"{todo['id']}/complete/", {"completed": True}).status_code == 403
    assert call(host, "POST", f"{todo['id']}/complete/", {"completed": True}).status_code == 200


def test_complete_wants_a_real_boolean(todo_board, subtests):
    _tid, host, _alice, _bob, new_todo, call = todo_board
    todo = new_todo()
    for body in ({"completed": "yes"}, {"completed": 1}, {}, {"completed": None}):
        with subtests.test(body=body):
            assert call(host, "POST", f"{todo['id']}/complete/", body).status_code == 422
    assert call(host, "GET", f"{todo['id']}/").json()["is_completed"] is False


def test_moving_to_the_backlog_unassigns_and_reopens(todo_board):
    _tid, host, alice, bob, new_todo, call = todo_board
    todo = new_todo(assignee=alice)
    call(alice, "POST", f"{todo['id']}/complete/", {"completed": True})
    assert call(bob, "POST", f"{todo['id']}/move-to-todo/").status_code == 403
    back = call(alice, "POST", f"{todo['id']}/move-to-todo/").json()
    assert (back["assignee_id"], back["is_completed"], back["state"]) == (None, False, "backlog")
    assert column(call, host, "backlog") == ["task"]


def test_anyone_moves_an_unassigned_todo_to_done_but_not_someone_elses(todo_board):
    _tid, _host, alice, bob, new_todo, call = todo_board
    free, taken = new_todo("free"), new_todo("taken", assignee=alice)
    assert call(bob, "POST", f"{free['id']}/move-to-done/").json()["state"] == "done"
    assert call(bob, "POST", f"{taken['id']}/move-to-done/").status_code == 403
    assert call(alice, "POST", f"{taken['id']}/move-to-done/").json()["state"] == "done"
    assert column(call, bob, "done") == ["free", "taken"]


def test_reordering_moves_a_todo_within_its_column_only(todo_board, events):
    _tid, host, alice, _bob, new_todo, call = todo_board
    a, b, c = (new_todo(name) for name in "abc")
    mine = new_todo("mine", assignee=alice)
    assert call(host, "POST", f"{c['id']}/reorder/", {"position": 0}).json()["position"] == 0
    assert column(call, host, "backlog") == ["c", "a", "b"]
    call(alice, "POST", f"{a['id']}/reorder/", {"position": 99})
    assert column(call, host, "backlog") == ["c", "b", "a"]
    assert [t["position"] for t in call(host, "GET", "?state=backlog").json()["items"]] == [0, 1, 2]
    assert column(call, host, "assigned", alice) == ["mine"]
    assert call(host, "GET", f"{mine['id']}/").json()["position"] == 0
    assert events[-2][1] == "todo.reordered" and events[-2][2]["order"] == [c["id"], b["id"], a["id"]]
    assert call(host, "POST", f"{b['id']}/reorder/", {"position": -1}).status_code == 422


def test_a_todo_joining_a_column_goes_to_its_end(todo_board):
    _tid, host, alice, _bob, new_todo, call = todo_board
    first = new_todo("first", assignee=alice)
    second = new_todo("second", assignee=alice)
    assert (first["position"], second["position"]) == (0, 1)
    call(host, "POST", f"{first['id']}/move-to-done/")
    call(host, "POST", f"{first['id']}/complete/", {"completed": False})
    assert column(call, host, "assigned", alice) == ["second", "first"]


def test_the_host_or_the_assignee_deletes_a_todo(todo_board, events):
    _tid, host, alice, bob, new_todo, call = todo_board
    mine, free = new_todo("mine", assignee=alice), new_todo("free")
    assert call(bob, "DELETE", f"{mine['id']}/").status_code == 403
    assert call(bob, "DELETE", f"{free['id']}/").status_code == 403
    assert call(alice, "DELETE", f"{mine['id']}/").status_code == 204
    assert call(host, "DELETE", f"{free['id']}/").status_code == 204
    assert call(host, "GET").json()["total"] == 0
    assert types_of(events)[-1] == "todo.deleted"


def test_patch_changes_the_content_and_nothing_else(todo_board):
    _tid, _host, alice, bob, new_todo, call = todo_board
    todo = new_todo(assignee=alice)
    sneaky = call(alice, "PATCH", f"{todo['id']}/", {"content": "new", "is_completed": True, "assignee_id": bob.id})
    assert sneaky.status_code == 422
    assert {d["field"] for d in sneaky.json()["error"]["details"]} == {"is_completed", "assignee_id"}
    assert call(bob, "PATCH", f"{todo['id']}/", {"content": "bob's"}).status_code == 403
    edited = call(alice, "PATCH", f"{todo['id']}/", {"content": "renamed"}).json()
    assert (edited["content"], edited["assignee_id"], edited["is_completed"]) == ("renamed", alice.id, False)


def test_the_todo_list_filters_and_pages(todo_board):
    _tid, host, alice, _bob, new_todo, call = todo_board
    for i in range(5):
        new_todo(f"t{i}")
    new_todo("hers", assignee=alice)
    page = call(host, "GET", "?page=2&page_size=2").json()
    assert (page["total"], page["page"], page["page_size"], len(page["items"])) == (6, 2, 2, 2)
    assert [t["content"] for t in call(host, "GET", f"?assignee_id={alice.id}").json()["items"]] == ["hers"]
    assert call(host, "GET", "?state=sideways").status_code == 422
    assert call(host, "GET", "?page_size=101").status_code == 422
