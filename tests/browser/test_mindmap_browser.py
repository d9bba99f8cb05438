"""Two people on one mind map in real browsers: A creates and drags a node, B sees it appear, move and A's
cursor; B's connection is cut and restored, and B's canvas catches up with A's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_path, screenshot, sign_up_and_log_in

pytestmark = pytest.mark.browser
TEAM_PASSWORD = "team-pass-1"
PEER_DRAGGING = re.compile(r"\bis-peer-dragging\b")
DRAGGING = re.compile(r"\bis-dragging\b")


def api(page, method: str, path: str, body: dict | None = None) -> dict:
    """Call the API as the page's signed-in user (its cookies, with the CSRF header)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "teammoa_csrf")
    response = page.request.fetch(f"/api/v1/{path}", method=method, data=body, headers={"X-CSRF-Token": csrf})
    assert response.ok, response.text()
    return response.json()


def canvas_state(page) -> list[tuple]:
    """What a page's canvas shows: (id, title, x, y) of every node, and the links."""
    return page.evaluate("""() => [
        [...document.querySelectorAll('.mm-node')].map(n => [Number(n.dataset.nodeId), n.dataset.title,
                                                             Number(n.dataset.x), Number(n.dataset.y)])
            .sort((a, b) => a[0] - b[0]),
        [...document.querySelectorAll('.mm-link')].map(l => Number(l.dataset.linkId)).sort((a, b) => a - b)]""")


def node_center(page, node_id: int) -> tuple[float, float]:
    box = page.locator(f'.mm-node[data-node-id="{node_id}"] rect').bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, node_id: int, dx: float, dy: float, *, release: bool = True) -> None:
    x, y = node_center(page, node_id)
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y + dy * step / 10)
        page.wait_for_timeout(30)
    if release:
        page.mouse.up()


def live(page) -> None:
    expect(page.locator(".mm-state")).to_have_attribute("data-state", "open")


def test_a_peer_sees_nodes_appear_and_move_and_catches_up_after_a_cut(new_page, live_server):
    a, b = new_page(), new_page()
    sign_up_and_log_in(a, live_server, "mapmaker")
    sign_up_and_log_in(b, live_server, "mapviewer")
    team = api(a, "POST", "teams/", {"name": "Map crew", "capacity": 5, "join_password": TEAM_PASSWORD})
    api(b, "POST", "teams/join/", {"invite_code": team["invite_code"], "password": TEAM_PASSWORD})
    a_id = api(a, "GET", "users/me/")["id"]

    open_path(a, f"/teams/{team['id']}/mindmaps")
    a.fill("input[name=title]", "Launch ideas")
    a.click("form.mindmap-create button[type=submit]")
    a.wait_for_url(f"**/teams/{team['id']}/mindmaps/*")
    map_path = a.url.split(live_server.base_url, 1)[1]
    open_path(b, map_path)
    live(a)
    live(b)
    expect(b.locator(f'.mm-person[data-user-id="{a_id}"]')).to_be_visible()

    canvas = a.locator(".mm-canvas")
    box = canvas.bounding_box()
    canvas.dblclick(position={"x": box["width"] / 2, "y": box["height"] / 2})
    expect(a.locator(".mm-node")).to_have_count(1)
    node_id = int(a.locator(".mm-node").first.get_attribute("data-node-id"))
    expect(b.locator(f'.mm-node[data-node-id="{node_id}"]')).to_have_attribute("data-title", "New idea")
    screenshot(a, "mindmap-a-created")

    start_x = int(b.locator(f'.mm-node[data-node-id="{node_id}"]').get_attribute("data-x"))
    drag(a, node_id, 160, 90, release=False)
    peer_node = b.locator(f'.mm-node[data-node-id="{node_id}"]')
    expect(peer_node).to_have_class(PEER_DRAGGING)  # the live preview, before the drop
    expect(b.locator(f'.mm-cursor[data-user-id="{a_id}"]')).to_have_count(1)
    screenshot(b, "mindmap-b-preview")
    a.mouse.up()
    a_node = a.locator(f'.mm-node[data-node-id="{node_id}"]')
    expect(a_node).not_to_have_class(DRAGGING)
    moved_x = a_node.get_attribute("data-x")
    assert int(moved_x) > start_x
    expect(peer_node).to_have_attribute("data-x", moved_x)
    expect(peer_node).not_to_have_class(PEER_DRAGGING)

    b.context.set_offline(True)
    expect(b.locator(".mm-state")).to_have_attribute("data-state", "offline")
    canvas.dblclick(position={"x": box["width"] / 4, "y": box["height"] / 4})
    expect(a.locator(".mm-node")).to_have_count(2)
    drag(a, node_id, -60, 120)
    second = next(n for n in canvas_state(a)[0] if n[0] != node_id)[0]
    api(
        a,
        "POST",
        f"teams/{team['id']}/mindmaps/{map_path.rsplit('/', 1)[1]}/links/",
        {"source_id": node_id, "target_id": second},
    )
    expect(a.locator(".mm-link")).to_have_count(1)
    expect(b.locator(".mm-node")).to_have_count(1)  # cut off: B has not seen any of it

    b.context.set_offline(False)
    live(b)
    expect(b.locator(".mm-node")).to_have_count(2)
    expect(b.locator(".mm-link")).to_have_count(1)
    expect(b.locator(f'.mm-node[data-node-id="{node_id}"]')).to_have_attribute(
        "data-x", a.locator(f'.mm-node[data-node-id="{node_id}"]').get_attribute("data-x")
    )
    assert canvas_state(b) == canvas_state(a)
    screenshot(b, "mindmap-b-caught-up")
