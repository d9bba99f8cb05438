"""Planning together through the real API: the team view, suggestions and the .ics export."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

WEEK = "2026-11-30"


@pytest.fixture(name="trio")
def fx_trio(signup, make_team):
    alice, bob, carol = signup("alice"), signup("bob"), signup("carol")
    return make_team(alice, bob, carol), alice, bob, carol


def _paint(client, team, user, slots, week=WEEK):
    r = client.put(f"{team.api}/me/", headers=user.headers, json={"week_start": week, "slots": slots})
    assert r.status_code == 200, r.text


def test_the_team_view_counts_who_is_free_in_every_slot(client, trio):
    team, alice, bob, carol = trio
    _paint(client, team, alice, {WEEK: [18, 19, 20]})
    _paint(client, team, bob, {WEEK: [19, 20]})
    _paint(client, team, carol, {WEEK: [20], "2026-12-01": [0]})
    r = client.get(f"{team.api}/?start={WEEK}&end=2026-12-01", headers=bob.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"], body["member_count"], body["time_zone"]) == (WEEK, "2026-12-01", 3, "Asia/Seoul")
    assert {m["user_id"]: m["nickname"] for m in body["members"]} == {
        alice.id: alice.nickname,
        bob.id: bob.nickname,
        carol.id: carol.nickname,
    }
    first = body["days"][0]
    assert first["date"] == WEEK and len(first["slots"]) == 48 and len(body["days"]) == 2
    assert first["slots"][18] == {"slot": 18, "count": 1, "share": 0.3333, "who": [alice.id], "everyone": False}
    assert first["slots"][19]["who"] == sorted([alice.id, bob.id])
    assert first["slots"][20] == {
        "slot": 20,
        "count": 3,
        "share": 1.0,
        "who": sorted([alice.id, bob.id, carol.id]),
        "everyone": True,
    }
    assert first["slots"][21]["count"] == 0
    assert body["days"][1]["slots"][0]["who"] == [carol.id]


def test_without_a_range_the_team_view_shows_the_current_week(client, trio):
    team, alice, *_ = trio
    today = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()
    monday = today - dt.timedelta(days=today.weekday())
    body = client.get(f"{team.api}/", headers=alice.headers).json()
    assert (body["start"], body["end"]) == (monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat())


BAD_RANGES = [
    ("start=2026-01-01&end=2026-03-04", "end", "at most 62"),
    ("start=2026-12-02&end=2026-12-01", "end", "before start"),
    ("start=2026-13-01&end=2026-12-01", "start", "calendar date"),
    ("start=yesterday", "start", "date like"),
]


def test_a_bad_range_is_a_422_naming_the_field(client, trio):
    team, alice, *_ = trio
    for query, field, words in BAD_RANGES:
        for path in ("", "suggestions/"):
            r = client.get(f"{team.api}/{path}?{query}", headers=alice.headers)
            assert r.status_code == 422, r.text
            assert any(d["field"] == field and words in d["message"] for d in r.json()["error"]["details"]), query


def test_the_longest_range_allowed_is_62_days(client, trio):
    team, alice, *_ = trio
    r = client.get(f"{team.api}/?start=2026-01-01&end=2026-03-03", headers=alice.headers)
    assert r.status_code == 200
    assert len(r.json()["days"]) == 62


def test_the_best_suggestion_is_the_window_everyone_marked(client, trio):
    team, alice, bob, carol = trio
    _paint(client, team, alice, {WEEK: list(range(16, 24)), "2026-12-01": [2, 3]})
    _paint(client, team, bob, {WEEK: list(range(20, 26)), "2026-12-01": [2, 3]})
    _paint(client, team, carol, {WEEK: [20, 21, 22, 23, 30]})
    r = client.get(f"{team.api}/suggestions/?start={WEEK}&end=2026-12-06&duration_minutes=60", headers=carol.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    best, second = body["items"][0], body["items"][1]
    assert (best["start"], best["end"]) == ("2026-11-30T10:00:00+09:00", "2026-11-30T11:00:00+09:00")
    assert (best["date"], best["slot"], best["end_date"], best["end_slot"]) == (WEEK, 20, WEEK, 22)
    assert (best["attendance"], best["everyone"], best["share"]) == (3, True, 1.0)
    assert [a["user_id"] for a in best["attendees"]] == sorted([alice.id, bob.id, carol.id])
    assert {a["nickname"] for a in best["attendees"]} == {alice.nickname, bob.nickname, carol.nickname}
    assert second["attendance"] == 3 and second["start"] == "2026-11-30T11:00:00+09:00"
    ranks = [(-item["attendance"], item["start"]) for item in body["items"]]
    assert ranks == sorted(ranks)


def test_a_minimum_attendance_leaves_out_windows_with_fewer_members(client, trio):
    team, alice, bob, _ = trio
    _paint(client, team, alice, {WEEK: [10, 11, 12, 13]})
    _paint(client, team, bob, {WEEK: [12, 13]})
    url = f"{team.api}/suggestions/?start={WEEK}&end={WEEK}&duration_minutes=60"
    assert [i["slot"] for i in client.get(url + "&min_attendance=2", headers=bob.headers).json()["items"]] == [12]
    assert [i["slot"] for i in client.get(url + "&min_attendance=1", headers=bob.headers).json()["items"]] == [12, 10]
    assert client.get(url + "&min_attendance=3", headers=bob.headers).json()["items"] == []


def test_a_bad_suggestion_request_is_a_422(client, trio):
    team, alice, *_ = trio
    for query in (
        "duration_minutes=45",
        "duration_minutes=0",
        "duration_minutes=1470",
        "min_attendance=0",
        "limit=51",
        "duration_minutes=abc",
    ):
        r = client.get(f"{team.api}/suggestions/?start={WEEK}&end={WEEK}&{query}", headers=alice.headers)
        assert r.status_code == 422, query


def test_suggestions_across_the_new_york_spring_change_carry_each_side_s_offset(client, signup, make_team):
    ann, ben = signup("ann"), signup("ben")
    team = make_team(ann, ben, time_zone="America/New_York")
    week = "2026-03-05"
    for user in (ann, ben):
        _paint(client, team, user, {"2026-03-06": [18, 19], "2026-03-09": [18, 19]}, week=week)
    view = client.get(f"{team.api}/?start={week}&end=2026-03-11", headers=ann.headers).json()
    assert [len(day["slots"]) for day in view["days"]] == [48] * 7
    items = client.get(
        f"{team.api}/suggestions/?start={week}&end=2026-03-11&duration_minutes=60", headers=ann.headers
    ).json()["items"]
    assert [(i["start"], i["end"]) for i in items] == [
        ("2026-03-06T09:00:00-05:00", "2026-03-06T10:00:00-05:00"),
        ("2026-03-09T09:00:00-04:00", "2026-03-09T10:00:00-04:00"),
    ]


def test_the_ics_export_is_one_utc_event_with_the_team_name(client, trio):
    team, alice, *_ = trio
    r = client.get(
        f"{team.api}/ics/",
        headers=alice.headers,
        params={"start": "2026-11-30T10:00:00+09:00", "end": "2026-11-30T11:00:00+09:00"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    assert r.headers["content-disposition"].startswith("attachment")
    text = r.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    lines = text.replace("\r\n ", "").split("\r\n")[:-1]
    assert lines.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20261130T010000Z" in lines and "DTEND:20261130T020000Z" in lines
    assert any(line.startswith("UID:") for line in lines) and any(line.startswith("DTSTAMP:") for line in lines)
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert "Moa crew" in summary  # the team name comes from the teams service
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_an_ics_time_without_offset_is_read_in_the_team_zone(client, trio):
    team, alice, *_ = trio
    r = client.get(f"{team.api}/ics/?start=2026-11-30T10:00&end=2026-11-30T10:30", headers=alice.headers)
    assert "DTSTART:20261130T010000Z" in r.text and "DTEND:20261130T013000Z" in r.text


def test_a_bad_ics_window_is_a_422(client, trio):
    team, alice, *_ = trio
    for query in (
        "start=2026-11-30T10:00:00Z",
        "start=noon&end=2026-11-30T11:00:00Z",
        "start=2026-11-30T11:00:00Z&end=2026-11-30T10:00:00Z",
        "start=2026-11-30T10:00:00Z&end=2026-12-30T10:00:00Z",
        "start=2026-11-30T10:00:00+25:00&end=x",
    ):
        assert client.get(f"{team.api}/ics/?{query}", headers=alice.headers).status_code == 422, query


def test_the_openapi_document_lists_the_schedule_endpoints(client):
    r = client.get("/api/v1/schedules/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    base = "/api/v1/teams/{team_id}/schedules"
    assert {
        f"{base}/",
        f"{base}/me/",
        f"{base}/suggestions/",
        f"{base}/me/import/",
        f"{base}/me/export/",
        f"{base}/ics/",
    } <= set(paths)
    assert {"get", "put"} <= set(paths[f"{base}/me/"])
    assert any(p["name"] == "duration_minutes" for p in paths[f"{base}/suggestions/"]["get"]["parameters"])
