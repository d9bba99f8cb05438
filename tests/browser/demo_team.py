"""Fixtures for browser tests about one seeded team (tests/browser/demo.py): import them into a test module

from tests.browser.demo_team import fx_as_user, fx_team  # noqa: F401

team      the seeded team (module-scoped): .demo (ids), .host / .member (cookies), .monday, .path(rest)
as_user   as_user("host"|"member", viewport=…, locale=…) → a page signed in as that person
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import DESKTOP
from tests.browser.demo import Demo, api_sign_up, call, paint_week, seed_demo_team


class Team:
    def __init__(
        self, demo: Demo, host: list[dict[str, Any]], member: list[dict[str, Any]], monday: dt.date, host_name: str
    ) -> None:
        self.demo, self.host, self.member, self.monday, self.host_name = demo, host, member, monday, host_name

    def path(self, rest: str = "") -> str:
        return f"/teams/{self.demo.team_id}{rest}"


@pytest.fixture(name="team", scope="module")
def fx_team(request, browser, live_server) -> Iterator[Team]:
    """A seeded team of two (host "<module>-host", member "<module>-member") with a shared 4-hour window
    this week. The usernames come from the test module's name (the live server is shared by the session)."""
    prefix = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:12].replace("_", "-")
    contexts = [browser.new_context(base_url=live_server.base_url) for _ in range(2)]
    host, member = contexts
    # Nicknames are unique too: a module may name its pair with DEMO_NICKNAMES = (host, member).
    nicknames = getattr(request.module, "DEMO_NICKNAMES", (f"Host {prefix}"[:20], f"Member {prefix}"[:20]))
    api_sign_up(host, f"{prefix}-host", nicknames[0])
    api_sign_up(member, f"{prefix}-member", nicknames[1])
    demo = seed_demo_team(host, member, name="UI fixes crew")
    team = call(host, "GET", f"teams/{demo.team_id}/")
    today = dt.datetime.now(ZoneInfo(team["time_zone"])).date()  # the week the schedule page opens on
    monday = today - dt.timedelta(days=today.weekday())
    paint_week(host, demo.team_id, monday, {2: list(range(26, 36))})  # Wed 13:00–18:00
    paint_week(member, demo.team_id, monday, {2: list(range(28, 38))})  # Wed 14:00–19:00 → 4 h shared
    yield Team(demo, host.cookies(), member.cookies(), monday, f"{prefix}-host")
    for context in contexts:
        context.close()


@pytest.fixture(name="as_user")
def fx_as_user(new_page, team) -> Callable[..., Any]:
    """as_user("host"|"member", viewport=…, locale=…) → a page signed in as that person."""

    def make(who: str = "host", *, viewport: dict[str, int] | None = None, locale: str = "en-US") -> Any:
        page = new_page(viewport=viewport or DESKTOP, locale=locale)
        page.context.add_cookies(team.host if who == "host" else team.member)
        return page

    return make
