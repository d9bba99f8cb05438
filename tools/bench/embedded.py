"""Signing a user up in the embedded TeamMoa a benchmark runs in its own process (Starlette's TestClient)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

API = "/api/v1/users"
PASSWORD = "Correct-Horse-42"


def sign_up(client: TestClient, username: str = "bench", password: str = PASSWORD) -> None:
    """Register ``username`` and verify its e-mail with the link in the embedded outbox."""
    email = f"{username}@example.com"
    client.post(
        f"{API}/register/", json={"username": username, "email": email, "nickname": username.title(), "password": password}
    ).raise_for_status()
    mails = [mail for mail in client.get(f"{API}/dev/outbox/").json()["items"] if email in str(mail.get("to", email))]
    found = re.search(r"token=([A-Za-z0-9_\-]+)", mails[0]["links"][0])
    if found is None:
        raise RuntimeError(f"no verification link in the mail to {email}")
    client.post(f"{API}/verify-email/", json={"token": found.group(1)}).raise_for_status()


def sign_in_headers(client: TestClient, username: str = "bench", password: str = PASSWORD) -> dict[str, str]:
    """Sign ``username`` in; the Authorization header of its access token (the cookies are dropped)."""
    login = client.post(f"{API}/login/", json={"login": username, "password": password})
    login.raise_for_status()
    client.cookies.clear()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}
