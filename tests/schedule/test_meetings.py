"""Meetings through the real API: book, propose, confirm, change, cancel, answer, conflicts, authorization."""

from __future__ import annotations

import pytest

from tests.conftest import spy_on_events
from tests.teams.conftest import at_once

WEEK = "2027-03-08"  # a Monday; the US changes to daylight time on Sunday 2027-03-14


@pytest.fixture(name="trio")
def fx_trio(signup, make_team):
    alice, bob, carol = signup("alice"), signup("bob"), signup("carol")
    return make_team(alice, bob, carol, time_zone="Asia/Seoul"), alice, bob, carol


@pytest.fixture(name="events")
def fx_events(client, monkeypatch) -> list[tuple[str, str, dict]]:
    """Every event the schedule service publishes from now on (the real bus still publishes them)."""
    return spy_on_events(client.app.apps["schedule"], monkeypatch)


def _book(client, team, user, **fields):
    body = {"title": "Sprint review", "start": f"{WEEK}T10:00:00", "duration_minutes": 60} | fields
    return client.post(f"{team.api}/meetings/", headers=user.headers, json=body)


def test_the_host_books_and_members_see_it_upcoming(client, trio, events):
    team, alice, bob, _ = trio
    r = _book(client, team, alice, place="Room 3", notes="Bring demos")
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert meeting["status"] == "booked"
    assert meeting["start"] == "2027-03-08T01:00:00+00:00"  # 10:00 in Seoul, stored in UTC
    assert meeting["local_start"] == "2027-03-08T10:00:00+09:00"
    assert (meeting["time_zone"], meeting["duration_minutes"], meeting["sequence"]) == ("Asia/Seoul", 60, 0)
    assert meeting["uid"].startswith("meeting-") and meeting["organizer_id"] == alice.id
    assert meeting["counts"] == {"going": 0, "maybe": 0, "not_going": 0, "pending": 3}
    listed = client.get(f"{team.api}/meetings/", headers=bob.headers).json()["items"]
    assert [m["id"] for m in listed] == [meeting["id"]]
    assert [(c, t) for c, t, _ in events] == [(f"team.{team.id}", "meeting.booked")]


def test_answers_are_counted_and_published(client, trio, events):
    team, alice, bob, carol = trio
    meeting = _book(client, team, alice).json()
    url = f"{team.api}/meetings/{meeting['id']}/answer/"
    assert client.put(url, headers=bob.headers, json={"answer": "going"}).status_code == 200
    assert client.put(url, headers=carol.headers, json={"answer": "maybe"}).status_code == 200
    r = client.put(url, headers=bob.headers, json={"answer": "not_going"})  # a second answer replaces the first
    assert r.json()["counts"] == {"going": 0, "maybe": 1, "not_going": 1, "pending": 1}
    assert r.json()["my_answer"] == "not_going"
    answers = {a["user_id"]: a["answer"] for a in r.json()["answers"]}
    assert answers == {alice.id: None, bob.id: "not_going", carol.id: "maybe"}
    r = client.put(url, headers=bob.headers, json={"answer": "yes"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")
    answered = [d for _c, t, d in events if t == "meeting.answered"]
    assert [d["by"] for d in answered] == [bob.id, carol.id, bob.id]
    assert answered[-1]["meeting"]["counts"]["not_going"] == 1


def test_simultaneous_first_answers_of_one_member_all_succeed_and_one_stands(client, trio):
    team, alice, bob, _carol = trio
    meeting = _book(client, team, alice).json()
    url = f"{team.api}/meetings/{meeting['id']}/answer/"
    choices = ["going", "maybe", "not_going", "going", "maybe", "not_going"]
    answered = at_once(client, [("PUT", url, {"headers": bob.headers, "json": {"answer": c}}) for c in choices])
    assert [r.status_code for r in answered] == [200] * len(choices), [r.text for r in answered]
    final = client.get(f"{team.api}/meetings/{meeting['id']}/", headers=bob.headers).json()
    assert final["my_answer"] in choices
    assert [a["user_id"] for a in final["answers"]].count(bob.id) == 1


def test_a_member_proposes_and_the_host_confirms(client, trio):
    team, alice, bob, carol = trio
    proposal = _book(client, team, bob).json()
    assert proposal["status"] == "proposed" and proposal["created_by"] == bob.id
    base = f"{team.api}/meetings/{proposal['id']}"
    assert client.post(f"{base}/confirm/", headers=bob.headers).status_code == 403
    r = client.patch(f"{base}/", headers=carol.headers, json={"title": "Mine now"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "permission_denied")
    r = client.patch(f"{base}/", headers=bob.headers, json={"title": "Retro"})  # the proposer edits their own
    assert (r.status_code, r.json()["title"], r.json()["sequence"]) == (200, "Retro", 1)
    r = client.post(f"{base}/confirm/", headers=alice.headers)
    assert (r.status_code, r.json()["status"], r.json()["organizer_id"]) == (200, "booked", alice.id)
    assert client.post(f"{base}/confirm/", headers=alice.headers).status_code == 409
    r = client.patch(f"{base}/", headers=bob.headers, json={"title": "Too late"})  # booked: host only
    assert r.status_code == 403


def test_changing_the_time_raises_the_sequence_and_keeps_the_length(client, trio, events):
    team, alice, *_ = trio
    meeting = _book(client, team, alice, duration_minutes=90).json()
    r = client.patch(f"{team.api}/meetings/{meeting['id']}/", headers=alice.headers, json={"start": f"{WEEK}T14:00:00"})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["local_start"], changed["local_end"]) == ("2027-03-08T14:00:00+09:00", "2027-03-08T15:30:00+09:00")
    assert changed["sequence"] == 1 and changed["uid"] == meeting["uid"]
    r = client.patch(f"{team.api}/meetings/{meeting['id']}/", headers=alice.headers, json={})
    assert r.status_code == 422
    assert [t for _c, t, _d in events] == ["meeting.booked", "meeting.changed"]


def test_cancelling_hides_it_from_upcoming_and_freezes_it(client, trio, events):
    team, alice, bob, _ = trio
    meeting = _book(client, team, alice).json()
    base = f"{team.api}/meetings/{meeting['id']}"
    assert client.post(f"{base}/cancel/", headers=bob.headers).status_code == 403
    r = client.post(f"{base}/cancel/", headers=alice.headers)
    assert (r.status_code, r.json()["status"], r.json()["sequence"]) == (200, "cancelled", 1)
    assert client.get(f"{team.api}/meetings/", headers=bob.headers).json()["items"] == []
    assert client.put(f"{base}/answer/", headers=bob.headers, json={"answer": "going"}).status_code == 409
    assert client.post(f"{base}/cancel/", headers=alice.headers).status_code == 409
    assert client.get(f"{base}/", headers=bob.headers).json()["status"] == "cancelled"
    assert events[-1][1] == "meeting.cancelled"


def test_members_not_marked_free_are_named(client, trio):
    team, alice, bob, carol = trio
    # Alice free 09:00–12:00 (slots 18–23), Bob only 10:00–10:30 (slot 20), Carol nothing saved.
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {WEEK: list(range(18, 24))}})
    client.put(f"{team.api}/me/", headers=bob.headers, json={"week_start": WEEK, "slots": {WEEK: [20]}})
    r = client.get(f"{team.api}/meetings/conflicts/?start={WEEK}T10:00:00&duration_minutes=60", headers=bob.headers)
    assert r.status_code == 200, r.text
    assert [m["user_id"] for m in r.json()["not_free"]] == sorted([bob.id, carol.id])
    assert {m["nickname"] for m in r.json()["not_free"]} == {"Nick bob", "Nick carol"}
    r = client.get(f"{team.api}/meetings/conflicts/?start={WEEK}T10:00:00&duration_minutes=30", headers=bob.headers)
    assert [m["user_id"] for m in r.json()["not_free"]] == [carol.id]
    meeting = _book(client, team, alice, start=f"{WEEK}T10:15:00", duration_minutes=15).json()  # inside slot 20
    assert [m["user_id"] for m in meeting["not_free"]] == [carol.id]


def test_a_meeting_across_a_dst_change_is_stored_in_utc(client, signup, make_team):
    alice = signup("alice")
    team = make_team(alice, time_zone="America/New_York")
    before = _book(client, team, alice, start="2027-03-12T09:00:00").json()  # EST, UTC-5
    after = _book(client, team, alice, start="2027-03-15T09:00:00").json()  # EDT, UTC-4
    assert (before["start"], after["start"]) == ("2027-03-12T14:00:00+00:00", "2027-03-15T13:00:00+00:00")
    assert (before["local_start"], after["local_start"]) == ("2027-03-12T09:00:00-05:00", "2027-03-15T09:00:00-04:00")
    over = _book(client, team, alice, start="2027-03-14T01:30:00", duration_minutes=60).json()  # 02:00 is skipped
    assert (over["local_end"], over["duration_minutes"]) == ("2027-03-14T03:30:00-04:00", 60)


def test_bad_input_uses_the_error_envelope(client, trio):
    team, alice, *_ = trio
    for fields, field in (
        ({"start": "2020-01-01T10:00:00"}, "start"),
        ({"start": "soon"}, "start"),
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"title": ""}, "title"),
    ):
        r = _book(client, team, alice, **fields)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid"), fields
        assert field in r.text


def test_another_teams_meeting_is_a_404_and_strangers_see_nothing(client, signup, make_team, trio):
    team, alice, *_ = trio
    meeting = _book(client, team, alice).json()
    dave = signup("dave")
    other = make_team(dave)
    for method, path in (("GET", "/"), ("PATCH", "/"), ("POST", "/cancel/"), ("POST", "/confirm/"), ("PUT", "/answer/")):
        body = {"answer": "going"} if path == "/answer/" else {"title": "x"}
        r = client.request(method, f"{other.api}/meetings/{meeting['id']}{path}", headers=dave.headers, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), (method, path)
        r = client.request(method, f"{team.api}/meetings/{meeting['id']}{path}", headers=dave.headers, json=body)
        assert r.status_code == 404, (method, path)
    assert client.get(f"{team.api}/meetings/", headers=dave.headers).status_code == 404
    assert client.get(f"{team.api}/meetings/", headers={}).status_code == 401


def test_a_former_members_answer_stops_counting(client, trio):
    team, alice, bob, _ = trio
    meeting = _book(client, team, alice).json()
    client.put(f"{team.api}/meetings/{meeting['id']}/answer/", headers=bob.headers, json={"answer": "going"})
    assert client.delete(f"/api/v1/teams/{team.id}/members/{bob.id}/", headers=bob.headers).status_code in (200, 204)
    r = client.get(f"{team.api}/meetings/{meeting['id']}/", headers=alice.headers)
    assert r.json()["counts"] == {"going": 0, "maybe": 0, "not_going": 0, "pending": 2}
    assert bob.id not in [a["user_id"] for a in r.json()["answers"]]
    assert client.get(f"{team.api}/meetings/{meeting['id']}/", headers=bob.headers).status_code == 404
