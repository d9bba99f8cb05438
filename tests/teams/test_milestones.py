"""Milestones: CRUD, priority rank, status, auto progress on every todo change, manual progress."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import API, types_of

TODAY = dt.datetime.now(dt.UTC).date()


def day(offset: int) -> str:
    return str(TODAY + dt.timedelta(days=offset))


@pytest.fixture(name="board")
def fx_board(client, crew):
    """(tid, host, alice, make_milestone, make_todo) for the crew's team."""
    team, host, alice, _bob = crew
    tid = team["id"]

    def make_milestone(title="M", **fields):
        body = {"title": title, "start_date": day(-1), "end_date": day(10), **fields}
        response = client.post(f"{API}{tid}/milestones/", json=body, headers=alice.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def make_todo(content="t", milestone_id=None):
        response = client.post(
            f"{API}{tid}/todos/", json={"content": content, "milestone_id": milestone_id}, headers=host.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    return tid, host, alice, make_milestone, make_todo


def progress(client, tid, milestone_id, user) -> dict:
    return client.get(f"{API}{tid}/milestones/{milestone_id}/", headers=user.headers).json()


def test_any_member_creates_reads_edits_and_deletes_a_milestone(client, board, events):
    tid, _host, alice, make_milestone, _make_todo = board
    created = make_milestone("Launch", description="Ship it", priority="high")
    assert created | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "title": "Launch",
        "description": "Ship it",
        "start_date": day(-1),
        "end_date": day(10),
        "priority": "high",
        "progress_mode": "auto",
        "progress": 0,
        "status": "in_progress",
        "completed_at": None,
        "created_by": alice.id,
        "created_at": "",
        "updated_at": "",
    }
    mid = created["id"]
    moved = client.patch(
        f"{API}{tid}/milestones/{mid}/", json={"start_date": day(2), "end_date": day(5)}, headers=alice.headers
    )
    assert moved.status_code == 200
    assert (moved.json()["start_date"], moved.json()["status"]) == (day(2), "not_started")
    assert client.delete(f"{API}{tid}/milestones/{mid}/", headers=alice.headers).status_code == 204
    assert client.get(f"{API}{tid}/milestones/{mid}/", headers=alice.headers).status_code == 404
    assert types_of(events) == ["milestone.created", "milestone.updated", "milestone.deleted"]


def test_milestones_are_ordered_by_priority_rank_not_alphabetically(client, board):
    tid, _host, alice, make_milestone, _make_todo = board
    for priority in ("low", "minimal", "critical", "medium", "high"):
        make_milestone(priority, priority=priority)
    listed = client.get(f"{API}{tid}/milestones/", headers=alice.headers).json()
    assert [m["priority"] for m in listed["items"]] == ["critical", "high", "medium", "low", "minimal"]
    by_start = client.get(f"{API}{tid}/milestones/?order=start_date", headers=alice.headers)
    assert by_start.status_code == 200 and by_start.json()["total"] == 5


def test_auto_progress_follows_every_todo_change_including_delete(client, board, events):
    tid, host, _alice, make_milestone, make_todo = board
    mid = make_milestone()["id"]
    other = make_milestone("Other")["id"]
    todos = [make_todo(f"t{i}", mid) for i in range(3)]
    assert progress(client, tid, mid, host)["progress"] == 0

    def act(path, body=None):
        assert client.post(f"{API}{tid}/todos/{path}", json=body, headers=host.headers).status_code == 200

    act(f"{todos[0]['id']}/complete/", {"completed": True})
    assert progress(client, tid, mid, host)["progress"] == 33
    assert ("milestone.updated", 33) in [(t, d.get("progress")) for _c, t, d in events]
    act(f"{todos[1]['id']}/move-to-done/")
    assert progress(client, tid, mid, host)["progress"] == 66
    make_todo("t3", mid)
    assert progress(client, tid, mid, host)["progress"] == 50
    act(f"{todos[1]['id']}/complete/", {"completed": False})
    assert progress(client, tid, mid, host)["progress"] == 25
    act(f"{todos[2]['id']}/assign-milestone/", {"milestone_id": other})
    assert progress(client, tid, mid, host)["progress"] == 33
    assert client.delete(f"{API}{tid}/todos/{todos[1]['id']}/", headers=host.headers).status_code == 204
    stats = progress(client, tid, mid, host)
    assert stats["progress"] == 50 and stats["todo_stats"] == {"total": 2, "completed": 1, "open": 1}


def test_completing_every_linked_todo_completes_the_milestone_and_reopening_undoes_it(client, board):
    tid, host, _alice, make_milestone, make_todo = board
    mid = make_milestone()["id"]
    todo = make_todo("only", mid)
    client.post(f"{API}{tid}/todos/{todo['id']}/complete/", json={"completed": True}, headers=host.headers)
    done = progress(client, tid, mid, host)
    assert (done["progress"], done["status"]) == (100, "completed") and done["completed_at"]
    client.post(f"{API}{tid}/todos/{todo['id']}/move-to-todo/", headers=host.headers)
    reopened = progress(client, tid, mid, host)
    assert (reopened["progress"], reopened["completed_at"], reopened["status"]) == (0, None, "in_progress")


def test_manual_progress_is_set_by_hand_and_100_means_completed(client, board):
    tid, _host, alice, make_milestone, make_todo = board
    mid = make_milestone(progress_mode="manual", progress=40)["id"]
    make_todo("ignored", mid)
    assert progress(client, tid, mid, alice)["progress"] == 40
    full = client.patch(f"{API}{tid}/milestones/{mid}/", json={"progress": 100}, headers=alice.headers).json()
    assert (full["status"], full["progress"]) == ("completed", 100) and full["completed_at"]
    back = client.patch(f"{API}{tid}/milestones/{mid}/", json={"progress": 99}, headers=alice.headers).json()
    assert (back["status"], back["completed_at"]) == ("in_progress", None)
    auto = client.patch(f"{API}{tid}/milestones/{mid}/", json={"progress_mode": "auto"}, headers=alice.headers).json()
    assert (auto["progress_mode"], auto["progress"]) == ("auto", 0)


def test_progress_cannot_be_set_by_hand_in_auto_mode(client, board):
    tid, _host, alice, make_milestone, _make_todo = board
    mid = make_milestone()["id"]
    response = client.patch(f"{API}{tid}/milestones/{mid}/", json={"progress": 50}, headers=alice.headers)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "progress"
    assert progress(client, tid, mid, alice)["progress"] == 0


def test_a_milestone_past_its_end_is_overdue(board):
    _tid, _host, _alice, make_milestone, _make_todo = board
    assert make_milestone(start_date=day(-9), end_date=day(-1))["status"] == "overdue"


INVALID_MILESTONE_FIELDS = [
    ("title", "x" * 101),
    ("title", ""),
    ("title", None),
    ("end_date", day(-2)),
    ("start_date", "tomorrow"),
    ("start_date", "2026-02-30"),
    ("priority", "urgent"),
    ("priority", 1),
    ("progress_mode", "magic"),
    ("progress", 50),
    ("description", "d" * 2001),
]


def test_invalid_milestone_fields_are_refused_with_the_field_named(client, board, subtests):
    tid, _host, alice, _make_milestone, _make_todo = board
    for field, value in INVALID_MILESTONE_FIELDS:
        with subtests.test(field=field, value=value):
            body = {"title": "M", "start_date": day(-1), "end_date": day(1), field: value}
            response = client.post(f"{API}{tid}/milestones/", json=body, headers=alice.headers)
            assert response.status_code == 422
            assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert client.get(f"{API}{tid}/milestones/", headers=alice.headers).json()["total"] == 0


def test_manual_progress_above_100_is_refused(client, board):
    tid, _host, alice, _make_milestone, _make_todo = board
    body = {"title": "M", "start_date": day(0), "end_date": day(1), "progress_mode": "manual", "progress": 101}
    response = client.post(f"{API}{tid}/milestones/", json=body, headers=alice.headers)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "progress"


def test_moving_the_end_before_the_stored_start_is_refused(client, board):
    tid, _host, alice, make_milestone, _make_todo = board
    mid = make_milestone(start_date=day(3), end_date=day(6))["id"]
    response = client.patch(f"{API}{tid}/milestones/{mid}/", json={"end_date": day(2)}, headers=alice.headers)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "end_date"
    assert progress(client, tid, mid, alice)["end_date"] == day(6)


def test_deleting_a_milestone_keeps_its_todos_unlinked(client, board):
    tid, host, _alice, make_milestone, make_todo = board
    mid = make_milestone()["id"]
    todo = make_todo("keep me", mid)
    assert client.delete(f"{API}{tid}/milestones/{mid}/", headers=host.headers).status_code == 204
    assert client.get(f"{API}{tid}/todos/{todo['id']}/", headers=host.headers).json()["milestone_id"] is None
