"""Helpers of the auth suite: the auth database seen from the test, sessions captured from
login responses, direct calls to auth's internal endpoints, and registration shortcuts."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis.configuration import set_hypothesis_home_dir

from services.auth.tables import users
from services.kit import db as kit_db
from services.kit.peers import SERVICE_TOKEN_HEADER
from services.kit.settings import DEV_SERVICE_TOKEN
from services.kit.tokens import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from tests.conftest import PASSWORD, token_from_mail

API = "/api/v1/users"
# Hypothesis caches in a ".hypothesis" folder of the working directory by default; there it makes pytest's
# collection warn, and warnings are errors.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "teammoa-hypothesis")


class AuthDatabase:
    """The auth service's database, read and changed behind the service's back (time travel)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(kit_db.sync_url(url), poolclass=sa.pool.NullPool)

    def all(self, query) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(query).mappings())

    def one(self, query):
        rows = self.all(query)
        assert len(rows) == 1, rows
        return rows[0]

    def count(self, table) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def execute(self, statement) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)

    def user(self, user_id: int):
        return self.one(users.select().where(users.c.id == user_id))

    def dump(self) -> str:
        """Every value stored in every auth table, as one text (to look for plaintext secrets)."""
        names = sa.inspect(self.engine).get_table_names()
        with self.engine.connect() as conn:
            return "\n".join(repr(tuple(row)) for name in names for row in conn.execute(sa.text(f"SELECT * FROM {name}")))


@pytest.fixture(name="auth_db")
def fx_auth_db(environ) -> Iterator[AuthDatabase]:
    url = environ.get("TEAMMOA_AUTH_DATABASE_URL") or f"sqlite:///{environ['TEAMMOA_DATA_DIR']}/auth.db"
    database = AuthDatabase(url)
    yield database
    database.engine.dispose()


@pytest.fixture(name="data_dir")
def fx_data_dir(environ) -> str:
    return environ["TEAMMOA_DATA_DIR"]


def ago(**delta) -> dt.datetime:
    """A naive-UTC time in the past, as the auth tables store it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(**delta)


@dataclass
class Session:
    """What one successful login handed out."""

    user_id: int
    access: str
    refresh: str
    csrf: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def login(client, login_name: str, password: str = PASSWORD, *, keep_cookies: bool = True) -> Session:
    """Sign in (asserting success); the client's cookie jar holds this session unless told otherwise."""
    response = client.post(f"{API}/login/", json={"login": login_name, "password": password})
    assert response.status_code == 200, response.text
    session = Session(
        user_id=response.json()["user"]["id"],
        access=response.json()["access_token"],
        refresh=response.cookies[REFRESH_COOKIE],
        csrf=response.cookies[CSRF_COOKIE],
    )
    assert response.cookies[ACCESS_COOKIE] == session.access
    if not keep_cookies:
        client.cookies.clear()
    return session


def csrf_header(client) -> dict[str, str]:
    """The header a browser page sends on unsafe requests: the readable CSRF cookie echoed back."""
    return {"X-CSRF-Token": client.cookies[CSRF_COOKIE]}


def registration(username: str = "alice", **overrides) -> dict:
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "nickname": f"Nick {username}"[:20],
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def register(client, username: str = "alice", **overrides) -> dict:
    """Register an account (asserting 201) and return the body sent."""
    body = registration(username, **overrides)
    response = client.post(f"{API}/register/", json=body)
    assert response.status_code == 201, response.text
    return body


def register_verified(client, data_dir: str, username: str = "alice", **overrides) -> dict:
    body = register(client, username, **overrides)
    response = client.post(f"{API}/verify-email/", json={"token": token_from_mail(data_dir, body["email"])})
    assert response.status_code == 200, response.text
    return body


def call_auth(
    client, app, method: str, path: str, *, service_token: str | None = DEV_SERVICE_TOKEN, **kwargs
) -> httpx.Response:
    """Call the auth app directly, as a peer service does (the gateway never routes /internal/)."""

    async def call() -> httpx.Response:
        headers = {SERVICE_TOKEN_HEADER: service_token} if service_token else {}
        headers.update(kwargs.pop("headers", {}))
        transport = httpx.ASGITransport(app=app.apps["auth"])
        async with httpx.AsyncClient(transport=transport, base_url="http://auth") as http:
            return await http.request(method, path, headers=headers, **kwargs)

    return client.portal.call(call)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def error_fields(response) -> set[str]:
    return {detail.get("field") for detail in response.json()["error"]["details"]}
