"""Hostile input 10: every user-supplied text field holds an XSS payload, and every page that shows it is
opened in Chromium: no script runs (an init script turns any alert, confirm, prompt or payload handler
into ``window.__xss``, and dialogs are recorded), no element gains an event-handler attribute or a
``javascript:`` link, and plain-text fields are shown as the text that was typed.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.browser.conftest import log_in, open_path
from tests.conftest import PASSWORD, token_from_mail

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
NICKNAME = "<svg onload=alert()>"  # 20 characters: the longest a nickname may be
MARKDOWN = (
    f'{IMG}\n\n{SCRIPT}\n\n[click](javascript:window.__xss=1)\n\n![x](x" onerror="window.__xss=1)\n\n'
    f'<a href="javascript:window.__xss=1">a</a> <iframe src="javascript:window.__xss=1"></iframe>'
)
HOOK = """
window.__xss = 0;
for (const name of ["alert", "confirm", "prompt"]) window[name] = () => { window.__xss = 2; };
"""
INERT = """() => {
  const all = [...document.querySelectorAll("body *")];
  const handlers = all.filter((e) => [...e.attributes].some((a) => a.name.toLowerCase().startsWith("on")));
  const links = all.filter((e) => /^\\s*javascript:/i.test(e.getAttribute("href") || e.getAttribute("src") || ""));
  const scripts = [...document.querySelectorAll("main script, main iframe, main object, main embed")];
  return {xss: window.__xss, handlers: handlers.map((e) => e.outerHTML.slice(0, 120)),
          links: links.map((e) => e.outerHTML.slice(0, 120)), scripts: scripts.length};
}"""


def _api_user(base_url: str, data_dir, name: str, nickname: str) -> dict[str, str]:
    email = f"{name}@example.com"
    with httpx.Client(base_url=base_url, timeout=15) as http:
        r = http.post(
            "/api/v1/users/register/", json={"username": name, "email": email, "nickname": nickname, "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        assert http.post("/api/v1/users/verify-email/", json={"token": token_from_mail(data_dir, email)}).status_code == 200
        r = http.post("/api/v1/users/login/", json={"login": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _hostile_team(base_url: str, headers: dict[str, str]) -> dict:
    """A team whose every text field (and every object's) is a payload; returns the ids and texts."""
    with httpx.Client(base_url=base_url, timeout=15, headers=headers) as http:

        def post(path: str, body: dict) -> dict:
            r = http.post(path, json=body)
            assert r.status_code == 201, (path, r.text)
            return r.json()

        team = post(
            "/api/v1/teams/", {"name": IMG, "description": SCRIPT + SVG, "capacity": 5, "join_password": "team-pass-1"}
        )
        base = f"/api/v1/teams/{team['id']}/"
        post(base + "todos/", {"content": SVG + SCRIPT})
        post(
            base + "milestones/", {"title": IMG, "description": SCRIPT, "start_date": "2026-11-01", "end_date": "2026-12-31"}
        )
        board = post(base + "posts/", {"title": SCRIPT, "body": MARKDOWN})
        mindmap = post(base + "mindmaps/", {"title": SVG})
        node = post(
            f"{base}mindmaps/{mindmap['id']}/nodes/", {"title": IMG[:64], "content": MARKDOWN[:2000], "x": 300, "y": 200}
        )
        post(f"{base}mindmaps/{mindmap['id']}/nodes/{node['id']}/comments/", {"body": SCRIPT + IMG})
    return {"team": team["id"], "post": board["id"], "map": mindmap["id"], "node": node["id"]}


def test_payloads_in_every_text_field_run_no_script_and_show_as_text(new_page, live_server):
    name = "xss" + uuid.uuid4().hex[:8]
    headers = _api_user(live_server.base_url, live_server.data_dir, name, NICKNAME)
    ids = _hostile_team(live_server.base_url, headers)
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.context.add_init_script(HOOK)
    log_in(page, name, PASSWORD)
    t = ids["team"]
    pages = {  # path → the plain-text payloads the page must show as text
        "/teams": [IMG],
        f"/teams/{t}": [IMG, SCRIPT + SVG, NICKNAME],
        f"/teams/{t}/todos": [SVG + SCRIPT],
        f"/teams/{t}/milestones": [IMG],
        f"/teams/{t}/board": [SCRIPT],
        f"/teams/{t}/board/{ids['post']}": [SCRIPT],
        f"/teams/{t}/board/{ids['post']}/edit": [],
        f"/teams/{t}/mindmaps": [SVG],
        f"/teams/{t}/mindmaps/{ids['map']}": [],
        f"/teams/{t}/schedule": [],
        "/profile": [],
    }
    problems = []
    for path, texts in pages.items():
        open_path(page, path)
        page.wait_for_timeout(300)  # let late renders (sockets, images) happen
        if path.endswith(f"/mindmaps/{ids['map']}"):
            node = page.locator(f'.mm-node[data-node-id="{ids["node"]}"]')
            node.wait_for()
            if node.get_attribute("data-title") != IMG[:64]:
                problems.append(f"{path}: the node's title is not kept as text")
            node.click()
            page.wait_for_timeout(500)
        state = page.evaluate(INERT)
        if state["xss"] or state["handlers"] or state["links"] or state["scripts"]:
            problems.append(f"{path}: {state}")
        shown = page.locator("body").inner_text()
        problems += [f"{path}: {text!r} is not shown as text" for text in texts if text not in shown]
        if path.endswith("/edit") and page.locator("input[name=title]").input_value() != SCRIPT:
            problems.append(f"{path}: the title field does not hold the text as typed")
    assert not dialogs, dialogs
    assert not problems, problems
