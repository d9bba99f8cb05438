"""Fixtures of the hardening regressions (issue 14): the embedded TeamMoa served by real uvicorn — run
the way ``make run`` runs it (gateway.__main__.server_options) — on a free port, and raw-socket helpers
for requests whose body the server must refuse before it has all of it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from gateway.__main__ import server_options
from gateway.embedded import create_app
from tests.conftest import PASSWORD, token_from_mail

STARTUP_TIMEOUT_S = 30.0
ANSWER_TIMEOUT_S = 15.0  # how long a refused request may take to be answered (generous: a shared machine)


@dataclass
class Account:
    id: int
    username: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Live:
    host: str
    port: int
    environ: dict[str, str]
    http: httpx.Client

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def account(self, username: str, *, password: str = PASSWORD) -> Account:
        """Register, verify and sign in through the auth API."""
        email = f"{username}@example.com"
        r = self.http.post(
            "/api/v1/users/register/",
            json={"username": username, "email": email, "nickname": f"Nick {username}"[:20], "password": password},
        )
        assert r.status_code == 201, r.text
        token = token_from_mail(self.environ["TEAMMOA_DATA_DIR"], email)
        assert self.http.post("/api/v1/users/verify-email/", json={"token": token}).status_code == 200
        r = self.http.post("/api/v1/users/login/", json={"login": username, "password": password})
        assert r.status_code == 200, r.text
        self.http.cookies.clear()
        return Account(r.json()["user"]["id"], username, email, r.json()["access_token"])

    def team(self, host: Account, name: str = "Crew") -> dict:
        r = self.http.post(
            "/api/v1/teams/", json={"name": name, "capacity": 10, "join_password": "team-pass-1"}, headers=host.headers
        )
        assert r.status_code == 201, r.text
        return r.json()


def serve(environ: dict[str, str]) -> Iterator[Live]:
    app = create_app(environ)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", **server_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-teammoa", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Live("127.0.0.1", port, environ, http)
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(name="live")
def fx_live(environ) -> Iterator[Live]:
    """The embedded TeamMoa on a free port of 127.0.0.1, as ``make run`` serves it."""
    yield from serve(environ)


def open_socket(live: Live, account: Account) -> ClientConnection:
    """A realtime socket of ``account``, as a browser of the site opens it (cookie, Origin)."""
    return connect(
        f"ws://{live.host}:{live.port}/ws/",
        origin=live.environ["TEAMMOA_SITE_URL"],
        additional_headers={"Cookie": f"teammoa_access={account.token}"},
        open_timeout=10,
    )


def answer_to_unfinished(live: Live, head: bytes, body: Iterator[bytes]) -> bytes:
    """Send a request head and some body, never finishing the body; return the server's answer.

    A server that enforces its limits while the body streams answers once it has read past them; one
    that reads everything before checking waits for the rest, and this returns b"" after the timeout."""
    with socket.create_connection((live.host, live.port), timeout=ANSWER_TIMEOUT_S) as sock:
        try:
            sock.sendall(head)
            for chunk in body:
                sock.sendall(chunk)
        except OSError:  # the server answered and stopped reading: its answer is still there to read
            pass
        try:
            return sock.recv(65536)
        except (TimeoutError, OSError):
            return b""


def chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes as HTTP chunks (never the final zero-length chunk)."""
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + b"a" * size + b"\r\n"


from tests.teams.conftest import fx_join, fx_make_team  # noqa: E402, F401 - the teams suite's fixtures
