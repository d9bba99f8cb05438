"""People and teams made through the gateway of a running stack, the way a browser makes them: sign up,
verify with the link mailed to the stack's outbox, sign in (cookies and a Bearer token), create or
join a team with its invite code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import PASSWORD, token_from_mail

TEAM_PASSWORD = "join-pass-42"


@dataclass
class Account:
    """A verified, signed-in user of the stack."""

    id: int
    username: str
    email: str
    token: str
    cookies: dict[str, str]

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    @property
    def browser(self) -> dict[str, str]:
        """Headers of a browser's unsafe request: the session cookies and the CSRF token echoed."""
        return {"Cookie": self.cookie_header, "X-CSRF-Token": self.cookies["teammoa_csrf"]}


def sign_up(http: httpx.Client, data_dir: Path, prefix: str = "e2e") -> Account:
    """Register, fail to sign in before verifying, verify with the mailed link, sign in."""
    name = prefix + uuid.uuid4().hex[:8]
    email = f"{name}@example.com"
    r = http.post(
        "/api/v1/users/register/", json={"username": name, "email": email, "nickname": name[:20], "password": PASSWORD}
    )
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/users/login/", json={"login": name, "password": PASSWORD})
    assert r.status_code == 403 and r.json()["error"]["code"] == "email_not_verified", r.text
    r = http.post("/api/v1/users/verify-email/", json={"token": token_from_mail(data_dir, email)})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    r = http.post("/api/v1/users/login/", json={"login": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookies = dict(r.cookies)
    http.cookies.clear()  # the shared client stays anonymous; each call names its user
    body = r.json()
    return Account(id=body["user"]["id"], username=name, email=email, token=body["access_token"], cookies=cookies)


def create_team(http: httpx.Client, host: Account, *members: Account) -> dict:
    """A team the host creates (as a browser, cookie and CSRF header) and the members join by invite code."""
    r = http.post(
        "/api/v1/teams/",
        headers=host.browser,
        json={
            "name": "E2E " + host.username,
            "description": "",
            "capacity": 10,
            "join_password": TEAM_PASSWORD,
            "time_zone": "Asia/Seoul",
        },
    )
    assert r.status_code == 201, r.text
    team = r.json()
    for member in members:
        r = http.post("/api/v1/teams/join/preview/", headers=member.bearer, json={"invite_code": team["invite_code"]})
        assert r.status_code == 200, r.text
        r = http.post(
            "/api/v1/teams/join/",
            headers=member.bearer,
            json={"invite_code": team["invite_code"], "password": TEAM_PASSWORD},
        )
        assert r.status_code in (200, 201), r.text
    return team
