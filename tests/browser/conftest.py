"""Fixtures for every browser test: one embedded TeamMoa per session, served by uvicorn on a free port,
driven by Debian's Chromium through Playwright.

    live_server          the running TeamMoa: .base_url, .data_dir (session-scoped)
    browser              a headless Chromium (session-scoped)
    new_page             a factory: a page in a fresh browser context (its own cookies); closed afterwards
    page                 new_page() for this test
    sign_up_and_log_in   a function (page, live_server, username) → BrowserUser: signs up, verifies through
                         the development outbox and logs in — all through the UI

The server is shared by the whole session, so each test uses its own usernames. An uncaught script
error, or a string missing from the catalogue, on any page fails the test that opened it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import CHROMIUM_ARGS, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
STARTUP_TIMEOUT_S = 60.0
UI_TIMEOUT_MS = 15_000  # generous for a loaded 2-core CI machine
MAIL_WAIT_S = 15.0
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Correct-Horse-42"


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    data_dir: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@dataclass(frozen=True)
class BrowserUser:
    username: str
    email: str
    nickname: str
    password: str


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(name="live_server", scope="session")
def fx_live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The embedded TeamMoa in a subprocess, as `make run` starts it (SQLite, in-memory broker) for the whole session."""
    yield from serve(tmp_path_factory.mktemp("live-server"), free_port())


def serve(data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Run an embedded TeamMoa on 127.0.0.1:port until the generator is closed (for live_server-like fixtures)."""
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
    env.update(extra_env or {})
    env.update(
        {
            "TEAMMOA_DATA_DIR": str(data_dir),
            "TEAMMOA_SITE_URL": base_url,
            "TEAMMOA_ALLOWED_ORIGINS": base_url,
            "TEAMMOA_ARGON2_MEMORY_KIB": "1024",  # cheap hashing in tests; production uses OWASP's minimum
            "TEAMMOA_ARGON2_TIME_COST": "1",
            "TEAMMOA_LOG_REQUESTS": "false",
        }
    )
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "gateway",  # as `make run` starts it
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(f"{base_url}/health/"):
            if process.poll() is not None:
                pytest.fail(f"TeamMoa exited with {process.returncode} while starting:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"TeamMoa did not become healthy in {STARTUP_TIMEOUT_S:.0f} s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield LiveServer(base_url=base_url, data_dir=data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(name="browser", scope="session")
def fx_browser():
    """A headless Debian Chromium; skipped when it is not installed (a failure on CI)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium) — browser tests cannot run"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(name="new_page")
def fx_new_page(browser, live_server) -> Iterator[Callable[..., object]]:
    """Make pages in fresh browser contexts (separate cookies, like separate people)."""
    contexts, errors = [], []

    def make(*, viewport: dict | None = None, locale: str = "en-US"):
        context = browser.new_context(base_url=live_server.base_url, viewport=viewport or DESKTOP, locale=locale)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{page.url}: {msg.text}")
                if msg.type == "warning" and msg.text.startswith("i18n: missing key")
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, "uncaught script errors in the page:\n" + "\n".join(errors)


@pytest.fixture(name="page")
def fx_page(new_page):
    """A page in a fresh context, at desktop size, in English."""
    return new_page()


def wait_ready(page) -> None:
    """Wait until the router has finished rendering the current page."""
    page.wait_for_selector('main[data-state="ready"]')


def open_path(page, path: str) -> None:
    """Load a path of the site and wait for its page to render."""
    page.goto(path)
    wait_ready(page)


def verify_link_for(page, email: str, kind: str = "verify-email") -> str:
    """The path of the newest link of a kind in the development outbox for an address (found via the UI).

    Some mails go out after the answer (a password reset's, so that its timing reveals nothing): the
    outbox is read again until the mail is there.
    """
    links = page.locator(f'article.mail[data-to="{email}"] a[href^="/{kind}?token="]')
    deadline = time.monotonic() + MAIL_WAIT_S
    open_path(page, "/dev/outbox")
    while links.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        open_path(page, "/dev/outbox")
    href = links.first.get_attribute("href")
    assert href and re.match(rf"^/{kind}\?token=[\w-]+$", href), href
    return href


def sign_up(
    page, username: str, *, email: str | None = None, nickname: str | None = None, password: str = PASSWORD
) -> BrowserUser:
    """Fill in and send the sign-up form; wait for the "check your e-mail" page."""
    user = BrowserUser(
        username=username,
        email=email or f"{username}@example.com",
        nickname=nickname or f"Nick {username}"[:20],
        password=password,
    )
    open_path(page, "/signup")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=email]", user.email)
    page.fill("input[name=nickname]", user.nickname)
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    page.wait_for_url("**/check-email")
    return user


def log_in(page, login: str, password: str) -> None:
    """Log in through the form; wait for the landing page after login (/teams)."""
    open_path(page, "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url("**/teams")
    wait_ready(page)


def sign_up_and_log_in(
    page, live_server: LiveServer, username: str, *, password: str = PASSWORD, nickname: str | None = None
) -> BrowserUser:
    """Sign up, confirm the e-mail through the development outbox and log in, all through the UI."""
    user = sign_up(page, username, password=password, nickname=nickname)
    open_path(page, verify_link_for(page, user.email))
    page.locator(".notice-success").wait_for()
    log_in(page, user.username, user.password)
    return user


@pytest.fixture(name="sign_up_and_log_in")
def fx_sign_up_and_log_in() -> Callable[..., BrowserUser]:
    """sign_up_and_log_in(page, live_server, username) for tests that take it as a fixture."""
    return sign_up_and_log_in


def screenshot(page, name: str) -> None:
    """Save /tmp/ui-<name>.png when TEAMMOA_SCREENSHOTS=1 (to look at the pages while developing)."""
    if os.environ.get("TEAMMOA_SCREENSHOTS") == "1":
        page.screenshot(path=f"/tmp/ui-{name}.png", full_page=True)


__all__ = [
    "DESKTOP",
    "PASSWORD",
    "PHONE",
    "BrowserUser",
    "LiveServer",
    "log_in",
    "open_path",
    "screenshot",
    "sign_up",
    "sign_up_and_log_in",
    "verify_link_for",
    "wait_ready",
]
