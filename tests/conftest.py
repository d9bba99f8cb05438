"""Fixtures shared by every suite: an embedded TeamMoa per test, on SQLite by default or on
MariaDB and Redis when ``TEAMMOA_TEST_DATABASE_URL`` / ``TEAMMOA_TEST_REDIS_URL`` are set.

Each test gets fresh data: SQLite files copied from a migrated template, or MariaDB tables emptied
(migrated once per session); its own Redis key prefix.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import icalendar
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from services.kit import db as kit_db

SERVICES_WITH_DB = {
    "auth": "services/auth/migrations",
    "teams": "services/teams/migrations",
    "schedule": "services/schedule/migrations",
}
ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEAMMOA_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEAMMOA_TEST_REDIS_URL", "")
PASSWORD = "Correct-Horse-42"


def _migrations(service: str) -> Path | None:
    path = ROOT / SERVICES_WITH_DB[service]
    return path if (path / "env.py").exists() else None


def _mysql_url(service: str) -> str:
    suffix = os.environ.get("TEAMMOA_TEST_DB_SUFFIX", "")  # lets parallel runs keep apart
    return TEST_DATABASE_URL.rstrip("/") + f"/teammoa_test_{service}{suffix}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which breaks every later test that starts its own loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(name="anyio_backend", scope="session")
def fx_anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, like uvicorn."""
    return "asyncio"


@pytest.fixture(name="db_template", scope="session")
def fx_db_template(tmp_path_factory) -> dict[str, str]:
    """Migrate every service's schema once per session; return the database URLs."""
    urls = {}
    if TEST_DATABASE_URL:
        for service in SERVICES_WITH_DB:
            url = _mysql_url(service)
            if (migrations := _migrations(service)) is not None:
                kit_db.ensure_database(url)
                engine = sa.create_engine(kit_db.sync_url(url))
                with engine.begin() as conn:  # start clean: a previous run may have left another schema
                    names = [row[0] for row in conn.execute(sa.text("SHOW TABLES"))]
                    conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
                    for name in names:
                        conn.execute(sa.text(f"DROP TABLE `{name}`"))
                engine.dispose()
                kit_db.migrate(url, migrations)
            urls[service] = url
        return urls
    template = tmp_path_factory.mktemp("template")
    for service in SERVICES_WITH_DB:
        url = f"sqlite:///{template / (service + '.db')}"
        if (migrations := _migrations(service)) is not None:
            kit_db.migrate(url, migrations)
        urls[service] = url
    return urls


def _empty_mysql(url: str) -> None:
    engine = sa.create_engine(kit_db.sync_url(url))
    with engine.begin() as conn:
        names = [row[0] for row in conn.execute(sa.text("SHOW TABLES")) if row[0] != "alembic_version"]
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for name in names:
            conn.execute(sa.text(f"TRUNCATE TABLE `{name}`"))
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture(name="environ")
def fx_environ(tmp_path, db_template) -> dict[str, str]:
    """The environment an embedded TeamMoa runs with in this test."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    env = {
        "TEAMMOA_MODE": "embedded",
        "TEAMMOA_DATA_DIR": str(data_dir),
        "TEAMMOA_ARGON2_MEMORY_KIB": "1024",  # cheap hashing in tests; production uses OWASP's minimum
        "TEAMMOA_ARGON2_TIME_COST": "1",
        "TEAMMOA_LOG_REQUESTS": "false",
        # Functional tests send bursts (60 writes at once) on a shared, busy machine: admission control
        # (kit.admission) stays in the path but waits instead of shedding; its own tests set tight limits.
        "TEAMMOA_ADMISSION_WAIT_MS": "60000",
        "TEAMMOA_HASH_WAIT_MS": "60000",
        "TEAMMOA_SITE_URL": "http://testserver",
    }
    for service, url in db_template.items():
        if TEST_DATABASE_URL:
            if _migrations(service) is not None:
                _empty_mysql(url)
            env[f"TEAMMOA_{service.upper()}_DATABASE_URL"] = url
            env["TEAMMOA_AUTO_MIGRATE"] = "false"
        else:
            source = Path(url.removeprefix("sqlite:///"))
            if source.exists():
                shutil.copy(source, data_dir / source.name)
    if TEST_REDIS_URL:
        env["TEAMMOA_REDIS_URL"] = TEST_REDIS_URL
        env["TEAMMOA_REDIS_PREFIX"] = f"teammoa-test:{uuid.uuid4().hex[:12]}:"
    return env


@pytest.fixture(name="app")
def fx_app(environ):
    from gateway.embedded import create_app

    return create_app(environ)


@pytest.fixture(name="client")
def fx_client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@dataclass
class User:
    """A signed-up, verified, signed-in user; ``headers`` authenticate API calls as them."""

    id: int
    username: str
    email: str
    nickname: str
    password: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)


def mails(data_dir: str | Path) -> list[str]:
    """Every mail written to the development outbox, oldest first."""
    folder = Path(data_dir) / "mail"
    return [p.read_text() for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def token_from_mail(data_dir: str | Path, to: str, kind: str = "verify-email") -> str:
    """The newest token of a kind (verify-email or reset-password) mailed to an address."""
    for text in reversed(mails(data_dir)):
        if f"To: {to}" in text:
            found = re.search(rf"/{kind}\?token=([A-Za-z0-9_\-]+)", text.replace("=\n", ""))
            if found:
                return found.group(1)
    raise AssertionError(f"no {kind} mail to {to}")


def calendars_from_mail(data_dir: str | Path, to: str) -> list[icalendar.Calendar]:
    """Every ``text/calendar`` part mailed to an address, oldest first (meeting invitations, updates, cancels)."""
    found = []
    for path in sorted((Path(data_dir) / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] != to:
            continue
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                found.append(icalendar.Calendar.from_ical(part.get_payload(decode=True).decode()))
    return found


def spy_on_events(app, monkeypatch) -> list[tuple[str, str, dict]]:
    """Every event ``app``'s bus publishes from now on, as (channel, type, data); the real bus still publishes them."""
    bus = app.state.events
    seen: list[tuple[str, str, dict]] = []
    original = bus.publish

    async def publish(channel, type_, data, *, version=None):
        seen.append((channel, type_, data))
        return await original(channel, type_, data, version=version)

    monkeypatch.setattr(bus, "publish", publish)
    return seen


@pytest.fixture(name="signup")
def fx_signup(client, environ):
    """Create verified, signed-in users through the real auth API."""
    counter = {"n": 0}

    def make(username: str | None = None, *, nickname: str | None = None, password: str = PASSWORD) -> User:
        counter["n"] += 1
        username = username or f"user{counter['n']}"
        email = f"{username}@example.com"
        nickname = nickname or f"Nick {username}"[:20]
        r = client.post(
            "/api/v1/users/register/",
            json={"username": username, "email": email, "nickname": nickname, "password": password},
        )
        assert r.status_code == 201, r.text
        token = token_from_mail(environ["TEAMMOA_DATA_DIR"], email)
        r = client.post("/api/v1/users/verify-email/", json={"token": token})
        assert r.status_code == 200, r.text
        r = client.post("/api/v1/users/login/", json={"login": username, "password": password})
        assert r.status_code == 200, r.text
        client.cookies.clear()  # the shared client stays anonymous; users authenticate with Bearer headers
        body = r.json()
        access = body["access_token"]
        return User(
            id=body["user"]["id"],
            username=username,
            email=email,
            nickname=nickname,
            password=password,
            token=access,
            headers={"Authorization": f"Bearer {access}"},
        )

    return make
