"""Issue 14, items 5, 8 (uploads, quota) and 9 and the iCalendar item, through the HTTP API."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gateway.embedded import create_app

from .conftest import Live, answer_to_unfinished

TEAM_PASSWORD = "team-pass-1"


# 5 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01", "9999-12-31"),
        ("1999-12-31", "2000-01-05"),
        ("2100-12-31", "2101-01-01"),
        ("2001-01-01", "2015-01-01"),  # longer than ten years
    ],
)
def test_milestone_dates_are_bounded_at_the_api(client: TestClient, signup, make_team, start: str, end: str):
    host = signup("host")
    team = make_team(host)
    api = f"/api/v1/teams/{team['id']}/milestones/"
    r = client.post(api, json={"title": "Forever", "start_date": start, "end_date": end}, headers=host.headers)
    assert r.status_code == 422, r.text
    r = client.post(api, json={"title": "Sane", "start_date": "2026-01-01", "end_date": "2026-02-01"}, headers=host.headers)
    assert r.status_code == 201
    r = client.patch(f"{api}{r.json()['id']}/", json={"end_date": end}, headers=host.headers)
    assert r.status_code == 422, r.text


# 8: uploads --------------------------------------------------------------------------------------------


def _multipart_head(live: Live, path: str, headers: dict[str, str], boundary: str, length: int) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {live.host}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _part(boundary: str, name: str, data: bytes) -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )


def test_the_file_count_is_checked_before_a_part_is_written(live: Live):
    """40 file parts used to be written to temporary files before the count check refused them: the
    refusal must come as soon as the sixth part begins, before the rest of the body is sent."""
    host = live.account("host")
    team = live.team(host)
    r = live.http.post(f"/api/v1/teams/{team['id']}/posts/", json={"title": "T", "body": "b"}, headers=host.headers)
    assert r.status_code == 201, r.text
    boundary = "hardeningboundary"
    parts = [_part(boundary, f"f{i}.txt", b"x" * 1000) for i in range(40)]
    declared = sum(map(len, parts)) + len(f"--{boundary}--\r\n")
    head = _multipart_head(
        live, f"/api/v1/teams/{team['id']}/posts/{r.json()['id']}/files/", host.headers, boundary, declared
    )
    answer = answer_to_unfinished(live, head, iter(parts[:8]))  # 8 of 40 parts, then silence
    assert answer.startswith(b"HTTP/1.1 409"), answer[:300]
    assert b"too_many_files" in answer


def test_a_team_has_a_storage_quota_shown_with_its_posts(environ):
    with TestClient(create_app({**environ, "TEAMMOA_TEAM_STORAGE_QUOTA_MB": "1"}), base_url="http://testserver") as client:
        from tests.conftest import PASSWORD, token_from_mail

        client.post(
            "/api/v1/users/register/",
            json={"username": "quota", "email": "quota@example.com", "nickname": "Quota", "password": PASSWORD},
        )
        token = token_from_mail(environ["TEAMMOA_DATA_DIR"], "quota@example.com")
        client.post("/api/v1/users/verify-email/", json={"token": token})
        login = client.post("/api/v1/users/login/", json={"login": "quota", "password": PASSWORD})
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        team = client.post(
            "/api/v1/teams/", json={"name": "Q", "capacity": 5, "join_password": TEAM_PASSWORD}, headers=headers
        ).json()
        api = f"/api/v1/teams/{team['id']}/posts/"
        post = client.post(api, json={"title": "T", "body": "b"}, headers=headers).json()
        files = f"{api}{post['id']}/files/"
        r = client.post(files, files={"file": ("a.txt", b"a" * 700_000, "text/plain")}, headers=headers)
        assert r.status_code == 201, r.text
        r = client.post(files, files={"file": ("b.txt", b"b" * 700_000, "text/plain")}, headers=headers)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "storage_quota_exceeded"
        storage = client.get(api, headers=headers).json()["storage"]
        assert storage == {"used_bytes": 700_000, "quota_bytes": 1024 * 1024}


# 9 -------------------------------------------------------------------------------------------------


def test_wrong_join_passwords_lock_out_the_guesser_not_the_team(client: TestClient, signup, make_team, join):
    host, attacker, friend = signup("host"), signup("attacker"), signup("friend")
    team = make_team(host)
    codes = [join(attacker, team, password=f"wrong-{i}").status_code for i in range(12)]
    assert codes[-1] == 429
    assert join(friend, team).status_code == 201
    assert join(attacker, team).status_code == 429  # even the right password, for the guesser


# iCalendar -----------------------------------------------------------------------------------------------


def test_ics_text_has_no_control_characters_or_line_separators(client: TestClient, signup, make_team):
    host = signup("host")
    team = make_team(host)
    r = client.get(
        f"/api/v1/teams/{team['id']}/schedules/ics/",
        params={"start": "2026-11-30T10:00", "end": "2026-11-30T11:00", "title": "Plan\u2028BEGIN:VALARM\x07\x1b\u2029x"},
        headers=host.headers,
    )
    assert r.status_code == 200, r.text
    text = r.text
    summary = next(line for line in text.split("\r\n") if line.startswith("SUMMARY:"))
    assert summary == "SUMMARY:PlanBEGIN:VALARMx"
    assert not any(ch in text for ch in "\u2028\u2029\x07\x1b")
