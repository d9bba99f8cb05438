"""My availability through the real API: the week editor's read and replace, CSV import and export."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

WEEK = "2026-11-30"
DATES = ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05", "2026-12-06"]


@pytest.fixture(name="alice")
def fx_alice(signup):
    return signup("alice")


@pytest.fixture(name="team")
def fx_team(make_team, alice):
    return make_team(alice)


def test_a_saved_week_reads_back_with_all_seven_days(client, alice, team):
    r = client.put(
        f"{team.api}/me/",
        headers=alice.headers,
        json={"week_start": WEEK, "slots": {"2026-11-30": [19, 18, 18], "2026-12-06": [0, 47]}},
    )
    assert r.status_code == 200, r.text
    r = client.get(f"{team.api}/me/?week={WEEK}", headers=alice.headers)
    assert r.status_code == 200
    body = r.json()
    assert (body["week_start"], body["week_end"], body["time_zone"]) == (WEEK, "2026-12-06", "Asia/Seoul")
    assert list(body["slots"]) == DATES
    assert body["slots"]["2026-11-30"] == [18, 19]
    assert body["slots"]["2026-12-06"] == [0, 47]
    assert body["slots"]["2026-12-01"] == []


def test_saving_a_week_replaces_it_and_an_empty_week_clears_it(client, alice, team):
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {WEEK: [1, 2, 3]}})
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {"2026-12-01": [5]}})
    slots = client.get(f"{team.api}/me/?week={WEEK}", headers=alice.headers).json()["slots"]
    assert (slots[WEEK], slots["2026-12-01"]) == ([], [5])
    r = client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {}})
    assert r.status_code == 200
    assert all(v == [] for v in client.get(f"{team.api}/me/?week={WEEK}", headers=alice.headers).json()["slots"].values())


def test_saving_one_week_leaves_the_neighbouring_weeks_alone(client, alice, team):
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": "2026-12-07", "slots": {"2026-12-07": [9]}})
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {}})
    assert client.get(f"{team.api}/me/?week=2026-12-07", headers=alice.headers).json()["slots"]["2026-12-07"] == [9]


def test_an_iso_week_reads_from_its_monday_and_no_week_means_this_week(client, alice, team):
    assert client.get(f"{team.api}/me/?week=2026-W49", headers=alice.headers).json()["week_start"] == WEEK
    today = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()
    body = client.get(f"{team.api}/me/", headers=alice.headers).json()
    assert body["week_start"] == (today - dt.timedelta(days=today.weekday())).isoformat()


BAD_WEEKS = [
    ({"week_start": WEEK, "slots": {WEEK: [48]}}, "slots", "out of range"),
    ({"week_start": WEEK, "slots": {WEEK: [-1]}}, "slots", "out of range"),
    ({"week_start": WEEK, "slots": {WEEK: ["3"]}}, "slots.2026-11-30.0", "integer"),
    ({"week_start": WEEK, "slots": {"2026-12-07": [3]}}, "slots", "not in the week"),
    ({"week_start": WEEK, "slots": {"Monday": [3]}}, "slots", "date like"),
    ({"week_start": "30.11.2026", "slots": {}}, "week_start", "date like"),
    ({"week_start": WEEK, "slots": {WEEK: [1]}, "extra": 1}, "extra", "Extra"),
    ({"slots": {}}, "week_start", "required"),
]


def test_a_bad_week_is_refused_with_the_field_to_fix_and_nothing_is_saved(client, alice, team):
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {WEEK: [7]}})
    for body, field, words in BAD_WEEKS:
        r = client.put(f"{team.api}/me/", headers=alice.headers, json=body)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert any(d["field"] == field and words.lower() in d["message"].lower() for d in error["details"]), error
    assert client.get(f"{team.api}/me/?week={WEEK}", headers=alice.headers).json()["slots"][WEEK] == [7]


def test_an_unknown_week_format_is_a_422(client, alice, team):
    for week in ("30-11-2026", "2026-11-31", "2026-W60", "soon", "2026-11-30T00:00"):
        r = client.get(f"{team.api}/me/", params={"week": week}, headers=alice.headers)
        assert r.status_code == 422, week
        assert r.json()["error"]["details"][0]["field"] == "week"


def test_a_csv_upload_replaces_the_dates_it_names_and_exports_back(client, alice, team):
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {WEEK: [0], "2026-12-01": [1]}})
    text = "date,start,end\n2026-11-30,09:00,11:30\n2026-11-30,23:30,24:00\n2026-12-02,14:00,15:00\n"
    r = client.post(f"{team.api}/me/import/", headers={**alice.headers, "Content-Type": "text/csv"}, content=text)
    assert r.status_code == 200, r.text
    assert r.json() == {"imported_dates": 2, "first_date": "2026-11-30", "last_date": "2026-12-02"}
    slots = client.get(f"{team.api}/me/?week={WEEK}", headers=alice.headers).json()["slots"]
    assert slots[WEEK] == [18, 19, 20, 21, 22, 47]
    assert slots["2026-12-01"] == [1]  # not named in the file: kept
    assert slots["2026-12-02"] == [28, 29]
    r = client.get(f"{team.api}/me/export/", headers=alice.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text == (
        "date,start,end\r\n2026-11-30,09:00,11:30\r\n2026-11-30,23:30,24:00\r\n"
        "2026-12-01,00:30,01:00\r\n2026-12-02,14:00,15:00\r\n"
    )
    r = client.get(f"{team.api}/me/export/?start=2026-12-01&end=2026-12-01", headers=alice.headers)
    assert r.text == "date,start,end\r\n2026-12-01,00:30,01:00\r\n"


def test_a_csv_file_can_be_uploaded_as_a_form_field(client, alice, team):
    r = client.post(
        f"{team.api}/me/import/",
        headers=alice.headers,
        files={"file": ("mine.csv", b"2026-11-30,09:00,10:00\r\n", "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert client.get(f"{team.api}/me/?week={WEEK}", headers=alice.headers).json()["slots"][WEEK] == [18, 19]


def test_a_csv_with_a_bad_row_names_its_line_and_imports_nothing(client, alice, team):
    text = "date,start,end\n2026-11-30,09:00,10:00\n2026-12-01,10:15,11:00\n"
    r = client.post(f"{team.api}/me/import/", headers={**alice.headers, "Content-Type": "text/csv"}, content=text)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_csv" and error["message"].startswith("Line 3:")
    assert error["details"][0]["line"] == 3
    assert client.get(f"{team.api}/me/export/", headers=alice.headers).text == "date,start,end\r\n"


def test_an_empty_binary_or_foreign_csv_is_a_422(client, alice, team):
    for content in (b"", b"date,start,end\n", b"\xff\xfe\x00", b"2026-11-30;09:00;10:00\n"):
        r = client.post(f"{team.api}/me/import/", headers={**alice.headers, "Content-Type": "text/csv"}, content=content)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_csv"), content


def test_a_form_upload_without_the_file_field_is_a_422_and_a_huge_file_a_413(client, alice, team):
    r = client.post(f"{team.api}/me/import/", headers=alice.headers, files={"other": ("a.csv", b"x", "text/csv")})
    assert (r.status_code, r.json()["error"]["details"][0]["field"]) == (422, "file")
    big = b"2026-11-30,09:00,10:00\n" * 40_000
    r = client.post(f"{team.api}/me/import/", headers={**alice.headers, "Content-Type": "text/csv"}, content=big)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")


def test_my_availability_in_one_team_is_not_shown_in_another(client, alice, team, make_team):
    other = make_team(alice, name="Second crew")
    client.put(f"{team.api}/me/", headers=alice.headers, json={"week_start": WEEK, "slots": {WEEK: [3]}})
    assert client.get(f"{other.api}/me/?week={WEEK}", headers=alice.headers).json()["slots"][WEEK] == []
    assert client.get(f"{other.api}/me/export/", headers=alice.headers).text == "date,start,end\r\n"


def test_many_members_saving_their_weeks_at_once_all_succeed(client, signup, make_team):
    """Concurrent weeks of one team all land (on MariaDB the upsert cannot deadlock: test_concurrent_saves)."""
    import asyncio

    import httpx

    host = signup("weekhost")
    members = [signup(f"weeker{i}") for i in range(8)]
    team = make_team(host, *members)
    week = {"week_start": "2026-11-30", "slots": {"2026-11-30": [18, 19, 20], "2026-12-02": [30, 31]}}

    async def save_all():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(
                *(
                    http.put(f"{team.api}/me/?week=2026-11-30", json=week, headers=u.headers)
                    for u in [host, *members]
                    for _ in range(2)
                )
            )

    responses = client.portal.call(save_all)
    assert [r.status_code for r in responses] == [200] * 18, [r.text for r in responses if r.status_code != 200][:2]
    view = client.get(f"{team.api}/?start=2026-11-30&end=2026-12-06", headers=host.headers).json()
    monday = next(day for day in view["days"] if day["date"] == "2026-11-30")
    assert monday["slots"][18]["count"] == 9
