"""axe-core on every page of the UI, in English and Korean, light and dark, at 1280×800 and on a 390×844
phone: no serious or critical violation anywhere.

axe-core comes bundled in the `axe-playwright-python` package (requirements/dev.txt), so the audit runs
offline. To keep the run short, each page is loaded once: the size and the language change in place (the
page re-renders on a language switch, as with the nav bar's switch), the full rule set runs in the light
scheme, and after switching to dark only the rules that depend on colours run.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import DESKTOP, PHONE, wait_ready
from tests.browser.demo_team import fx_as_user, fx_team  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
AXE = Axe()
ALL_RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
COLOUR_RULES = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}
BAD = {"serious", "critical"}

# (name, path with {team} {map} {post} placeholders, who is signed in: None | "host")
PAGES = [
    ("landing", "/", None),
    ("signup", "/signup", None),
    ("login", "/login", None),
    ("forgot-password", "/forgot-password", None),
    ("reset-password", "/reset-password?token=not-a-token", None),
    ("check-email", "/check-email", None),
    ("verify-email", "/verify-email?token=not-a-token", None),
    ("outbox", "/dev/outbox", None),
    ("api-reference", "/api-reference", None),
    ("not-found", "/no/such/page", None),
    ("teams", "/teams", "host"),
    ("team-create", "/teams/new", "host"),
    ("team-join", "/teams/join", "host"),
    ("profile", "/profile", "host"),
    ("change-password", "/profile/password", "host"),
    ("deactivate", "/profile/deactivate", "host"),
    ("dashboard", "/teams/{team}", "host"),
    ("todos", "/teams/{team}/todos", "host"),
    ("milestones", "/teams/{team}/milestones", "host"),
    ("board", "/teams/{team}/board", "host"),
    ("post", "/teams/{team}/board/{post}", "host"),
    ("post-image", "/teams/{team}/board/{image_post}", "host"),
    ("post-new", "/teams/{team}/board/new", "host"),
    ("post-edit", "/teams/{team}/board/{post}/edit", "host"),
    ("schedule-mine", "/teams/{team}/schedule?view=mine", "host"),
    ("schedule-team", "/teams/{team}/schedule?view=team", "host"),
    ("mindmaps", "/teams/{team}/mindmaps", "host"),
    ("mindmap", "/teams/{team}/mindmaps/{map}", "host"),
]


def settle(page: Any) -> None:
    """Let running transitions and animations finish (colours change with a transition when the scheme does)."""
    page.evaluate(
        "() => Promise.all(document.getAnimations().filter(a => a.effect?.getTiming().iterations !== Infinity)"
        ".map(a => a.finished.catch(() => null)))"
    )


def problems(page: Any, options: dict[str, Any], where: str) -> list[str]:
    """The serious and critical violations axe finds on the page, one line per rule."""
    found = page.evaluate("(options) => axe.run(document, options)", {**options, "resultTypes": ["violations"]})[
        "violations"
    ]
    return [
        f"{where}: {v['id']} ({v['impact']}) ×{len(v['nodes'])}: {v['help']} — "
        + "; ".join(
            " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"]) for node in v["nodes"][:3]
        )
        for v in found
        if v["impact"] in BAD
    ]


def switch_language(page: Any, lang: str) -> None:
    """Switch the UI's language as the nav bar's switch does (the page re-renders, axe stays loaded)."""
    page.evaluate("() => document.querySelector('main').firstElementChild?.setAttribute('data-before-switch', '')")
    page.evaluate("async (lang) => (await import('/js/i18n.js')).setLanguage(lang)", lang)
    page.wait_for_function(
        "() => { const main = document.querySelector('main');"
        "  return main.dataset.state === 'ready' && !main.querySelector('[data-before-switch]'); }"
    )


@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_axe_violations(new_page, team, name, path, who):
    demo = team.demo
    url = path.format(team=demo.team_id, map=demo.map_id, post=demo.post_id, image_post=demo.image_post_id)
    page = new_page(viewport=DESKTOP, locale="en-US")
    if who:
        page.context.add_cookies(team.host)
    page.goto(url)
    wait_ready(page)
    page.evaluate(AXE.axe_script)  # once: size and language change without a reload
    found: list[str] = []
    checked = []
    # desktop/en → desktop/ko → (resize) phone/en → phone/ko; every state is rendered at its own size.
    for size, lang in (("desktop", "en"), ("desktop", "ko"), ("phone", "en"), ("phone", "ko")):
        if size == "phone" and page.viewport_size != PHONE:
            page.set_viewport_size(PHONE)
        if page.evaluate("document.documentElement.lang") != lang or (size, lang) == ("phone", "en"):
            switch_language(page, lang)
        assert page.evaluate("document.documentElement.lang") == lang
        for scheme, options in (("light", ALL_RULES), ("dark", COLOUR_RULES)):
            page.emulate_media(color_scheme=scheme)
            settle(page)
            found += problems(page, options, f"{size}/{lang}/{scheme}")
            checked.append((size, lang, scheme))
    assert len(checked) == 8
    assert not found, f"{name}: serious or critical accessibility problems:\n" + "\n".join(found)
