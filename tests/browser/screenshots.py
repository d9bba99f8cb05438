"""`make screenshots`: start an embedded TeamMoa, seed a demo team and photograph the main pages with
Debian's Chromium into docs/screenshots/*.png (the README shows them).

    python -m tests.browser.screenshots [--out docs/screenshots] [--suffix -before] [--only fix1 fix2 …]

The `fix…` views show the states issue 15's fixes are about (the same steps as their browser tests) and are
written as `fix…-after.png`; running this on an older commit with `--suffix=-before` gave the "before" ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.demo import Demo, api_sign_up, call, paint_week, seed_demo_team
from tests.servers import CHROMIUM_ARGS, free_port

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The embedded TeamMoa (SQLite, in-memory broker) on a free port; returns the process and its URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
    env.update(
        {
            "TEAMMOA_DATA_DIR": str(data_dir),
            "TEAMMOA_SITE_URL": base_url,
            "TEAMMOA_ALLOWED_ORIGINS": base_url,
            "TEAMMOA_ARGON2_MEMORY_KIB": "1024",
            "TEAMMOA_ARGON2_TIME_COST": "1",
            "TEAMMOA_LOG_REQUESTS": "false",
        }
    )
    log = (data_dir / "server.log").open("wb")
    command = [sys.executable, "-m", "gateway", "--port", str(port)]  # as `make run` starts it
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/health/", timeout=2) as response:
                if response.status == 200:
                    return process, base_url
        except (urllib.error.URLError, OSError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"TeamMoa did not start: {(data_dir / 'server.log').read_text()}")
        time.sleep(0.2)


def ready(page: Any) -> None:
    page.wait_for_selector('main[data-state="ready"]')


def open_path(page: Any, path: str) -> None:
    page.goto(path)
    ready(page)


class Shooter:
    def __init__(self, browser: Any, base_url: str, out: Path, suffix: str) -> None:
        self.browser, self.base_url, self.out, self.suffix = browser, base_url, out, suffix
        self.contexts: dict[tuple[str, str, str], Any] = {}
        self.users: dict[str, Any] = {}

    def context(self, who: str, *, viewport: dict[str, int] = DESKTOP, locale: str = "en-US", scheme: str = "light") -> Any:
        key = (who, f"{viewport['width']}x{viewport['height']}", f"{locale}/{scheme}")
        if key not in self.contexts:
            ctx = self.browser.new_context(
                base_url=self.base_url, viewport=viewport, locale=locale, color_scheme=scheme, device_scale_factor=1
            )
            ctx.set_default_timeout(20_000)
            if who in self.users:
                state = self.users[who]
                ctx.add_cookies(state)
            self.contexts[key] = ctx
        return self.contexts[key]

    def remember(self, who: str, ctx: Any) -> None:
        self.users[who] = ctx.cookies()

    def page(self, who: str = "host", **kwargs: Any) -> Any:
        return self.context(who, **kwargs).new_page()

    def shot(self, page: Any, name: str, *, full: bool = False) -> None:
        suffix = self.suffix or ("-after" if name.startswith("fix") else "")  # fixN-…-before/-after pairs
        path = self.out / f"{name}{suffix}.png"
        page.screenshot(path=str(path), full_page=full)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        page.close()


View = Callable[[Shooter, Demo], None]
VIEWS: dict[str, View] = {}


def view(name: str) -> Callable[[View], View]:
    def register(fn: View) -> View:
        VIEWS[name] = fn
        return fn

    return register


def _team(demo: Demo, rest: str = "") -> str:
    return f"/teams/{demo.team_id}{rest}"


@view("dashboard")
def _dashboard(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo))
    s.shot(page, "dashboard")


@view("todos")
def _todos(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/todos"))
    page.locator(".todo-card").first.wait_for()
    s.shot(page, "todos")


@view("milestones")
def _milestones(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/milestones"))
    s.shot(page, "milestones")


@view("board")
def _board(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/board"))
    s.shot(page, "board")


@view("schedule")
def _schedule(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/schedule?view=team"))
    page.locator(".suggestion, .suggestions .empty").first.wait_for()
    s.shot(page, "schedule")


@view("mindmap")
def _mindmap(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, f"/mindmaps/{demo.map_id}"))
    page.locator(".mm-node").first.wait_for()
    s.shot(page, "mindmap")


@view("mindmap-ko-dark")
def _mindmap_ko(s: Shooter, demo: Demo) -> None:
    page = s.page(locale="ko-KR", scheme="dark")
    open_path(page, _team(demo, f"/mindmaps/{demo.map_id}"))
    page.locator(".mm-node").first.wait_for()
    s.shot(page, "mindmap-ko-dark")


@view("todos-phone")
def _todos_phone(s: Shooter, demo: Demo) -> None:
    page = s.page(viewport=PHONE)
    open_path(page, _team(demo, "/todos"))
    page.locator(".todo-card").first.wait_for()
    s.shot(page, "todos-phone")


# The states issue 15's ten fixes are about ---------------------------------------------------------------


@view("fix1-mindmap-new-idea")
def _fix1(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, f"/mindmaps/{demo.map_id}"))
    page.locator(".mm-node").first.wait_for()
    box = page.locator(".mm-canvas").bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.6)
    page.keyboard.type("Budget plan", delay=60)
    page.keyboard.press("Enter")
    page.wait_for_timeout(600)
    s.shot(page, "fix1-mindmap-new-idea")
    page = s.page(viewport=PHONE)
    open_path(page, _team(demo, f"/mindmaps/{demo.map_id}"))
    page.locator(".mm-node").first.wait_for()
    page.locator(f'.mm-node[data-node-id="{demo.nodes["Group chat"]}"]').click()
    page.wait_for_timeout(400)
    s.shot(page, "fix1-mindmap-phone")


@view("fix2-wrong-invite-code")
def _fix2(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, "/teams/join")
    page.fill("input[name=invite_code]", "NOSUCHCODE")
    page.click("form button[type=submit]")
    page.locator(".notice, .field-message:not(:empty)").first.wait_for()
    s.shot(page, "fix2-wrong-invite-code")


@view("fix3-suggestions")
def _fix3(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/schedule?view=team"))
    page.locator(".suggestion, .suggestions .empty").first.wait_for()
    s.shot(page, "fix3-suggestions", full=True)


@view("fix4-paint-week")
def _fix4(s: Shooter, demo: Demo) -> None:
    page = s.page(viewport=PHONE)
    open_path(page, _team(demo, "/schedule?view=mine"))
    cell = page.locator(".slot-cell").nth(7 * 30 + 1)
    cell.scroll_into_view_if_needed()
    cell.click()
    s.shot(page, "fix4-paint-week-phone")


@view("fix5-timeline")
def _fix5(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/milestones"))
    s.shot(page, "fix5-timeline")


@view("fix6-badges")
def _fix6(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/milestones"))
    page.locator(".badge").first.wait_for()
    page.locator(".badge").last.scroll_into_view_if_needed()
    s.shot(page, "fix6-badges")


@view("fix7-words")
def _fix7(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, f"/mindmaps/{demo.map_id}"))
    page.locator(".mm-node").first.wait_for()
    s.shot(page, "fix7-words-mindmap")
    page = s.page()
    open_path(page, "/teams/new")
    page.fill("input[name=name]", "Words team")
    page.fill("input[name=capacity]", "4")
    page.fill("input[name=join_password]", "open-sesame")
    page.click("form button[type=submit]")
    page.wait_for_url("**/teams/*")
    ready(page)
    page.locator(".toast").first.wait_for()
    s.shot(page, "fix7-words-team-created")


@view("fix8-todo-board")
def _fix8(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, "/todos"))
    page.locator(".todo-card").first.wait_for()
    s.shot(page, "fix8-todo-board")
    page = s.page()
    open_path(page, _team(demo, "/todos"))
    page.locator(".todo-card").first.locator("button").last.click()
    page.locator("dialog[open], .modal").first.wait_for()
    s.shot(page, "fix8-todo-dialog")


@view("fix9-share-board")
def _fix9(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, f"/board/{demo.post_id}/edit"))
    s.shot(page, "fix9-post-editor")
    page = s.page()
    open_path(page, _team(demo, f"/board/{demo.post_id}"))
    s.shot(page, "fix9-post-links")
    page = s.page()
    open_path(page, _team(demo, f"/board/{demo.image_post_id}"))
    s.shot(page, "fix9-post-image")


@view("fix10-consistency")
def _fix10(s: Shooter, demo: Demo) -> None:
    page = s.page()
    open_path(page, _team(demo, f"/mindmaps/{demo.map_id}"))
    page.locator(".mm-node").first.wait_for()
    s.shot(page, "fix10-mindmap-width")
    page = s.page("guest")
    open_path(page, "/signup")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=email]", "new-person@example.com")
    page.fill("input[name=nickname]", "New person")
    page.fill("input[name=password]", "password123")
    page.click("form button[type=submit]")
    page.wait_for_timeout(800)
    s.shot(page, "fix10-signup-taken")


def seed(s: Shooter) -> Demo:
    host = s.context("host")
    member = s.context("member")
    api_sign_up(host, "alice", "Alice Kim (host)")
    api_sign_up(member, "minjun", "Minjun Lee")
    demo = seed_demo_team(host, member)
    team = call(host, "GET", f"teams/{demo.team_id}/")
    today = dt.datetime.now(ZoneInfo(team["time_zone"])).date()
    monday = today - dt.timedelta(days=today.weekday())
    # A shared 4-hour window on Wednesday afternoon (14:00–18:00), and a few more hours each.
    paint_week(host, demo.team_id, monday, {2: list(range(26, 36)), 3: list(range(18, 24))})
    paint_week(member, demo.team_id, monday, {2: list(range(28, 38)), 4: list(range(20, 26))})
    assert team["id"] == demo.team_id
    s.remember("host", host)
    s.remember("member", member)
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--suffix", default="")
    parser.add_argument("--only", nargs="*", help="views whose names start with one of these")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="teammoa-shots-") as tmp:
        process, base_url = start_server(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
                shooter = Shooter(browser, base_url, out, args.suffix)
                demo = seed(shooter)
                for name, fn in VIEWS.items():
                    if args.only and not any(name == p or name.startswith(p + "-") for p in args.only):
                        continue
                    try:
                        fn(shooter, demo)
                    except Exception as exc:  # one broken view must not cost the others
                        print(f"FAILED {name}: {exc}", file=sys.stderr)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
