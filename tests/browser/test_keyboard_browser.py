"""Keyboard-only walkthroughs: the mind map (keyboard-first editing), the todo board and the week editor,
with what a screen reader would hear checked where the page announces it. The mouse is used only where the
test is about the mouse (Ctrl+drag linking)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.demo import call
from tests.browser.demo_team import fx_as_user, fx_team  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def snapshot(page: Any, team: Any) -> dict[str, Any]:
    return call(page.context, "GET", f"teams/{team.demo.team_id}/mindmaps/{team.demo.map_id}/")


def focused_node_title(page: Any) -> str | None:
    return page.evaluate("() => document.activeElement?.closest?.('.mm-node')?.dataset.title ?? null")


def test_the_mind_map_is_edited_from_the_keyboard_alone(as_user, team):
    page = as_user()
    page.goto(team.path(f"/mindmaps/{team.demo.map_id}"))
    expect(page.locator(".mm-state")).to_have_attribute("data-state", "open")
    page.locator(".mm-canvas").focus()
    root_title = "Study groups app"
    # Arrows pick the idea nearest the centre, then move by direction.
    page.keyboard.press("ArrowDown")
    expect(page.locator(".mm-node.is-selected")).to_have_count(1)
    for _ in range(4):  # walk up to the top idea of the tree
        if focused_node_title(page) == root_title:
            break
        page.keyboard.press("ArrowUp")
    if focused_node_title(page) != root_title:
        page.keyboard.press("ArrowDown")
    assert focused_node_title(page) == root_title

    # Tab adds a child and edits its title in place; Enter saves it.
    page.keyboard.press("Tab")
    editor = page.locator(".mm-inplace")
    expect(editor).to_be_focused()
    expect(page.locator(".mm-announcer")).to_contain_text(f"New idea added under “{root_title}”")
    page.keyboard.type("Keyboard child")
    page.keyboard.press("Enter")
    expect(page.locator('.mm-node[data-title="Keyboard child"]')).to_have_count(1)
    assert focused_node_title(page) == "Keyboard child"

    # Enter adds a sibling (same parent); typing on a selected idea replaces its title.
    page.keyboard.press("Enter")
    expect(editor).to_be_focused()
    page.keyboard.type("Keyboard sibling")
    page.keyboard.press("Enter")
    expect(page.locator('.mm-node[data-title="Keyboard sibling"]')).to_have_count(1)
    page.keyboard.type("Renamed sibling")
    page.keyboard.press("Enter")
    expect(page.locator('.mm-node[data-title="Renamed sibling"]')).to_have_count(1)
    expect(page.locator(".mm-announcer")).to_contain_text("Renamed to “Renamed sibling”")

    data = snapshot(page, team)
    ids = {node["title"]: node["id"] for node in data["nodes"]}
    links = {(link["source_id"], link["target_id"]) for link in data["links"]}
    assert (ids[root_title], ids["Keyboard child"]) in links
    assert (ids[root_title], ids["Renamed sibling"]) in links

    # F2 edits in place; Escape cancels the edit.
    page.keyboard.press("F2")
    expect(editor).to_have_value("Renamed sibling")
    page.keyboard.type("Throw away")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(page.locator('.mm-node[data-title="Renamed sibling"]')).to_have_count(1)

    # Delete removes the selected idea (and says so); Escape lets go and Tab leaves the canvas.
    page.keyboard.press("Delete")
    expect(page.locator('.mm-node[data-title="Renamed sibling"]')).to_have_count(0)
    expect(page.locator(".mm-announcer")).to_contain_text("Deleted “Renamed sibling”")
    page.keyboard.press("Escape")
    expect(page.locator(".mm-node.is-selected")).to_have_count(0)
    page.keyboard.press("Tab")
    assert page.evaluate("() => !document.activeElement.closest('.mm-canvas')"), "Tab is trapped in the canvas"


def test_ctrl_drag_links_two_ideas_and_delete_removes_a_selected_link(as_user, team):
    page = as_user()
    page.goto(team.path(f"/mindmaps/{team.demo.map_id}"))
    expect(page.locator(".mm-state")).to_have_attribute("data-state", "open")
    a = page.locator(f'.mm-node[data-node-id="{team.demo.nodes["Shared calendar"]}"] rect').bounding_box()
    b = page.locator(f'.mm-node[data-node-id="{team.demo.nodes["Flash cards"]}"] rect').bounding_box()
    with page.expect_response(lambda r: r.url.endswith("/links/") and r.request.method == "POST") as made:
        page.keyboard.down("Control")
        page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        page.mouse.down()
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
        page.mouse.up()
        page.keyboard.up("Control")
    link_id = made.value.json()["id"]
    link = page.locator(f'.mm-link[data-link-id="{link_id}"]')
    expect(link).to_have_count(1)
    line = link.locator(".mm-link-line").bounding_box()
    page.mouse.click(line["x"] + line["width"] / 2, line["y"] + line["height"] / 2)
    expect(link).to_have_class(re.compile("is-selected"))
    page.locator(".mm-canvas").focus()
    page.keyboard.press("Delete")
    expect(link).to_have_count(0)
    assert link_id not in [x["id"] for x in snapshot(page, team)["links"]]


def test_the_todo_board_is_worked_from_the_keyboard(as_user, team):
    page = as_user()
    page.goto(team.path("/todos"))
    expect(page.locator(".todo-card").first).to_be_visible()
    page.locator(".todo-create input[name=content]").focus()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")
    card = page.locator(".todo-card", has_text="Typed without a mouse")
    expect(card).to_be_visible()
    more = card.locator("[data-action=more]")
    more.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog[open]")
    expect(dialog.locator("textarea[name=content]")).to_be_focused()
    # Tab to the column picker, choose Done with the keyboard and save with Enter on the button.
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "column":
            break
    assert page.evaluate("document.activeElement.name") == "column"
    page.keyboard.press("End")  # the last column: Done
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.action") == "save":
            break
    page.keyboard.press("Enter")
    expect(page.locator(".todo-column[data-column=done] .todo-card", has_text="Typed without a mouse")).to_be_visible()
    expect(dialog).to_have_count(0)


def test_the_week_editor_is_painted_from_the_keyboard(as_user, team):
    page = as_user("member")
    monday = team.monday
    page.goto(team.path(f"/schedule?view=mine&week={(monday + dt.timedelta(days=7)).isoformat()}"))
    grid = page.locator(".editor")
    expect(grid).to_be_visible()
    first = grid.locator(".slot-cell").first
    first.focus()
    for _ in range(18):  # down to 09:00
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    checked = grid.locator('.slot-cell[aria-checked="true"]')
    expect(checked).to_have_count(2)
    expect(page.locator(".dirty-state")).to_have_attribute("data-dirty", "true")
    save = page.locator(".editor-card [data-action=save]")
    save.focus()
    with page.expect_response(lambda r: "/schedules/me/" in r.url and r.request.method == "PUT"):
        page.keyboard.press("Enter")
    expect(page.locator(".dirty-state")).to_have_attribute("data-dirty", "false")
