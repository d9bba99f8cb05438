"""The team pages in a real browser: create and join a team, plan with todos and milestones, share posts.

Set TEAMMOA_SCREENSHOTS=1 to have the pages saved as /tmp/teams-ui-<name>.png (desktop 1280×800 and phone
390×844) while they are exercised.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, open_path, sign_up_and_log_in, wait_ready

pytestmark = pytest.mark.browser
JOIN_PASSWORD = "open-sesame"
ATTACHMENT = b"Minutes of the kick-off meeting\n- ship the prototype by Friday\n"
TOO_BIG_BYTES = 20 * 1024 * 1024 + 1


def shot(page, name: str) -> None:
    """Save /tmp/teams-ui-<name>.png when TEAMMOA_SCREENSHOTS=1."""
    if os.environ.get("TEAMMOA_SCREENSHOTS") == "1":
        page.screenshot(path=f"/tmp/teams-ui-{name}.png", full_page=True)


def create_team(page, name: str, *, capacity: int = 6) -> tuple[str, str]:
    """Create a team through the UI; return its path and invite code."""
    open_path(page, "/teams")
    page.locator("main").get_by_role("link", name=re.compile("Create a team|팀 만들기")).first.click()
    wait_ready(page)
    expect(page.locator("input[name=time_zone]")).not_to_have_value("")  # the browser's zone is proposed
    page.fill("input[name=name]", name)
    page.fill("textarea[name=description]", "Our capstone: an app for study groups.")
    page.fill("input[name=capacity]", str(capacity))
    page.fill("input[name=join_password]", JOIN_PASSWORD)
    shot(page, f"create-{page.viewport_size['width']}")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/teams/\d+$"))
    wait_ready(page)
    code = page.locator(".invite-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{8,}", code), code
    return re.search(r"/teams/\d+$", page.url).group(0), code


def join_team(page, code: str, team_name: str, host_nickname: str) -> None:
    """Join with the wizard: code → preview → a wrong password once → the right one."""
    open_path(page, "/teams")
    page.locator("main").get_by_role("link", name="Join a team").first.click()
    wait_ready(page)
    page.fill("input[name=invite_code]", code.lower())
    page.click("form button[type=submit]")
    preview = page.locator(".join-preview")
    expect(preview).to_contain_text(team_name)
    expect(preview.locator(".join-host")).to_have_text(host_nickname)
    expect(preview.locator(".join-members")).to_have_text("1 / 6 members")
    shot(page, "join-1280")
    page.fill("input[name=password]", "not-the-password")
    page.click("form button[type=submit]")
    expect(page.locator(".field[data-field=password] .field-message")).to_have_text("The password is not correct.")
    page.fill("input[name=password]", JOIN_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/teams/\d+$"))
    wait_ready(page)


def column(page, key: str):
    return page.locator(f'.todo-column[data-column="{key}"]')


def card(page, text: str):
    return page.locator(".todo-card", has_text=text)


def box_of(locator) -> dict:
    """The element's box once it is on screen: a live update may re-render the board just before."""
    for _ in range(50):
        locator.wait_for(state="visible")
        box = locator.bounding_box()
        if box is not None:
            return box
        time.sleep(0.05)
    raise AssertionError(f"{locator} never got a box")


def drag(page, source, target, *, top: bool = False) -> None:
    """Drag with the mouse in small steps, as a person does (pointer events); onto the target's middle, or
    just inside its top edge (to land before it)."""
    start = box_of(source.locator(".todo-content"))
    end = box_of(target)
    page.mouse.move(start["x"] + 10, start["y"] + 5)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + 20, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + (6 if top else end["height"] / 2), steps=8)
    page.mouse.up()


def drag_bar(page, target, dx: float) -> None:
    """Drag a timeline bar (or one of its handles) sideways and wait for the milestone to be saved."""
    target.scroll_into_view_if_needed()  # the timeline scrolls sideways: bring the part to drag into view
    box = box_of(target)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    with page.expect_response(lambda r: "/milestones/" in r.url and r.request.method == "PATCH") as saved:
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + dx, y, steps=6)
        page.mouse.up()
    assert saved.value.ok, saved.value.status


def api_json(page, path: str):
    """A GET of the API with the page's session (to check what was stored)."""
    response = page.request.get(path)
    assert response.ok, response.status
    return response.json()


def test_a_team_is_created_joined_planned_on_the_board_and_timeline_and_shares_a_post(new_page, live_server):
    host = new_page()
    member = new_page()
    host_user = sign_up_and_log_in(host, live_server, "tm.host", nickname="Hana Host")
    expect(host.locator(".teams-empty")).to_be_visible()
    shot(host, "teams-empty-1280")
    team_path, code = create_team(host, "Capstone Crew")
    team_id = int(team_path.rsplit("/", 1)[1])
    expect(host.locator(".dash-members .member")).to_have_count(1)
    shot(host, "dashboard-1280")

    member_user = sign_up_and_log_in(member, live_server, "tm.member", nickname="Minho Member")
    join_team(member, code, "Capstone Crew", host_user.nickname)
    expect(member.locator(".toast", has_text="Welcome to “Capstone Crew”!")).to_be_visible()
    expect(member.locator(".dash-members .member")).to_have_count(2)
    expect(member.locator("[data-action=leave]")).to_be_visible()
    expect(member.locator("[data-action=disband]")).to_have_count(0)

    open_path(host, "/teams")
    expect(host.locator(".team-card", has_text="Capstone Crew")).to_contain_text("2 / 6 members")
    shot(host, "teams-1280")

    # A milestone with automatic progress.
    open_path(host, f"{team_path}/milestones")
    host.click("[data-action=new-milestone]")
    host.fill("dialog input[name=title]", "Prototype")
    host.select_option("dialog select[name=priority]", "high")
    host.click("dialog button[type=submit]")
    bar = host.locator(".timeline-bar", has_text="Prototype")
    expect(bar).to_have_attribute("data-progress", "0")
    milestone = api_json(host, f"/api/v1/teams/{team_id}/milestones/")["items"][0]

    # Todos on the backlog: added, reordered by dragging, edited and linked in their dialog, deleted.
    open_path(member, f"{team_path}/todos")  # watches the board live while the host works
    open_path(host, f"{team_path}/todos")
    for text, linked in (
        ("Sketch the screens", "Prototype"),
        ("Write the brief", "Prototype"),
        ("Order pizza", "No milestone"),
    ):
        host.fill(".todo-create input[name=content]", text)
        host.select_option(".todo-create select[name=milestone_id]", label=linked)
        host.click(".todo-create button[type=submit]")
        expect(column(host, "backlog").locator(".todo-card", has_text=text)).to_be_visible()
    backlog_cards = column(host, "backlog").locator(".todo-content")
    drag(host, card(host, "Write the brief"), column(host, "backlog").locator(".todo-card").first, top=True)
    expect(backlog_cards).to_have_text(["Write the brief", "Sketch the screens", "Order pizza"])
    card(host, "Write the brief").locator("[data-action=more]").click()
    host.fill("dialog textarea[name=content]", "Write the project brief")
    host.click("dialog [data-action=save]")
    expect(card(host, "Write the project brief")).to_be_visible()
    card(host, "Order pizza").locator("[data-action=more]").click()
    host.select_option("dialog select[name=milestone_id]", label="Prototype")
    host.click("dialog [data-action=save]")  # one save for text, milestone and column
    expect(card(host, "Order pizza").locator(".todo-milestone")).to_have_text("Prototype")
    card(host, "Order pizza").locator("[data-action=more]").click()
    host.click("dialog [data-action=delete]")
    host.locator("dialog.modal-confirm button[type=submit]").click()
    expect(card(host, "Order pizza")).to_have_count(0)
    expect(backlog_cards).to_have_text(["Write the project brief", "Sketch the screens"])
    member_column = column(host, f"member-{api_json(member, '/api/v1/users/me/')['id']}")
    drag(host, card(host, "Sketch the screens"), member_column)
    expect(member_column.locator(".todo-card", has_text="Sketch the screens")).to_be_visible()
    expect(host.locator(".board-status")).to_contain_text("Moved “Sketch the screens” to Minho Member.")
    shot(host, "todos-1280")
    host.reload()
    wait_ready(host)
    expect(member_column.locator(".todo-card", has_text="Sketch the screens")).to_be_visible()
    mine = column(member, member_column.get_attribute("data-column"))
    expect(mine.locator(".todo-card", has_text="Sketch the screens")).to_be_visible()  # arrived live
    expect(column(member, "backlog").locator(".todo-content")).to_have_text(["Write the project brief"])

    # The member may not hand work to the host: the drop is refused and the card stays.
    host_column = column(member, f"member-{api_json(host, '/api/v1/users/me/')['id']}")
    drag(member, card(member, "Write the project brief"), host_column)
    expect(member.locator(".board-status")).to_contain_text("Only the host assigns todos to other members.")
    expect(column(member, "backlog").locator(".todo-card", has_text="Write the project brief")).to_be_visible()

    # The member completes their todo; the milestone's automatic progress follows on the timeline.
    card(member, "Sketch the screens").locator("[data-action=complete]").click()
    expect(column(member, "done").locator(".todo-card", has_text="Sketch the screens")).to_be_visible()
    expect(column(member, "done")).to_contain_text(f"by {member_user.nickname}")
    shot(member, "todos-member-1280")
    open_path(host, f"{team_path}/milestones")
    expect(bar).to_have_attribute("data-progress", "50")
    expect(bar).to_contain_text("50%")

    # Dragging the bar moves the milestone by whole days; dragging its end resizes it.
    day = int(host.locator(".timeline-canvas").evaluate("node => parseFloat(node.style.getPropertyValue('--day'))"))
    drag_bar(host, bar, 2 * day + 2)
    moved = api_json(host, f"/api/v1/teams/{team_id}/milestones/{milestone['id']}/")
    assert moved["start_date"] > milestone["start_date"] and moved["end_date"] > milestone["end_date"]
    drag_bar(host, host.locator(".timeline-bar", has_text="Prototype").locator(".bar-handle-end"), 3 * day + 2)
    resized = api_json(host, f"/api/v1/teams/{team_id}/milestones/{milestone['id']}/")
    assert resized["start_date"] == moved["start_date"] and resized["end_date"] > moved["end_date"]
    expect(host.locator(".page-status")).to_contain_text("now runs")
    assert resized["todo_stats"] == {"total": 2, "completed": 1, "open": 1}
    shot(host, "milestones-1280")

    # The member writes a post with an attachment; an oversized file is refused before any upload.
    open_path(member, f"{team_path}/board")
    member.get_by_role("link", name="Write a post").click()
    wait_ready(member)
    member.fill("input[name=title]", "Kick-off notes")
    member.fill("textarea[name=body]", "We meet **every Monday**.\n\n<script>window.hacked = 1</script>")
    member.set_input_files(
        "input[type=file]",
        files=[{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * TOO_BIG_BYTES}],
    )
    expect(member.locator(".field[data-field=file] .field-message")).to_contain_text("“huge.bin” is larger than 20 MB.")
    member.set_input_files(
        "input[type=file]", files=[{"name": "minutes.txt", "mimeType": "text/plain", "buffer": ATTACHMENT}]
    )
    expect(member.locator(".file-item.pending")).to_contain_text("minutes.txt")
    shot(member, "post-edit-1280")
    member.click("form button[type=submit]")
    member.wait_for_url(re.compile(r"/board/\d+$"))
    wait_ready(member)
    body = member.locator(".post-body")
    expect(body.locator("strong")).to_have_text("every Monday")
    expect(body.locator("script")).to_have_count(0)
    assert member.evaluate("() => window.hacked") is None
    with member.expect_download() as download_info:
        member.locator(".file-item", has_text="minutes.txt").get_by_role("link").click()
    download = download_info.value
    assert download.suggested_filename == "minutes.txt"
    with open(download.path(), "rb") as handle:
        assert handle.read() == ATTACHMENT
    shot(member, "post-1280")

    # The host finds it by the author's name, reads it, and could moderate it.
    open_path(host, f"{team_path}/board")
    host.fill("input[name=q]", "Minho")
    expect(host.locator(".result-count")).to_have_text("1 post matches “Minho”.")
    shot(host, "board-1280")
    host.locator(".post-item", has_text="Kick-off notes").get_by_role("link").click()
    wait_ready(host)
    expect(host.locator(".post-attachments")).to_contain_text("minutes.txt")
    expect(host.locator("[data-action=delete]")).to_be_visible()
    expect(host.get_by_role("link", name="Edit")).to_have_count(0)


def test_the_team_pages_fit_a_phone_in_korean(new_page, live_server):
    page = new_page(viewport=PHONE, locale="ko-KR")
    sign_up_and_log_in(page, live_server, "tm.phone", nickname="폰 사용자")
    team_path, code = create_team(page, "모바일 팀")
    expect(page.locator(".team-nav")).to_contain_text("할 일")
    open_path(page, f"/teams/join?code={code}")  # an invite link looks the team up at once
    expect(page.locator(".join-preview")).to_contain_text("모바일 팀")
    expect(page.locator(".notice")).to_contain_text("이미 이 팀의 멤버예요.")
    open_path(page, f"{team_path}/todos")
    page.fill(".todo-create input[name=content]", "발표 자료 만들기")
    page.click(".todo-create button[type=submit]")
    expect(column(page, "backlog")).to_contain_text("발표 자료 만들기")
    open_path(page, f"{team_path}/milestones")
    page.click("[data-action=new-milestone]")
    page.fill("dialog input[name=title]", "중간 발표")
    page.select_option("dialog select[name=progress_mode]", "manual")
    page.locator("dialog input[name=progress]").fill("40")
    page.click("dialog button[type=submit]")
    expect(page.locator(".timeline-bar", has_text="중간 발표")).to_have_attribute("data-progress", "40")
    for name, path in (
        ("dashboard", team_path),
        ("todos", f"{team_path}/todos"),
        ("milestones", f"{team_path}/milestones"),
        ("board", f"{team_path}/board"),
        ("post-new", f"{team_path}/board/new"),
        ("teams", "/teams"),
        ("join", "/teams/join"),
    ):
        open_path(page, path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the phone"
        shot(page, f"{name}-390")


def test_the_host_tools_rotate_edit_hand_over_and_disband_while_members_see_it_live(new_page, live_server):
    host = new_page()
    member = new_page()
    sign_up_and_log_in(host, live_server, "tools.host", nickname="Toolkeeper")
    team_path, code = create_team(host, "Tool Shed")
    sign_up_and_log_in(member, live_server, "tools.member", nickname="Apprentice")
    open_path(member, f"/teams/join?code={code}")
    member.fill("input[name=password]", JOIN_PASSWORD)
    member.click("form button[type=submit]")
    member.wait_for_url(f"**{team_path}")
    wait_ready(member)
    open_path(host, team_path)
    expect(host.locator(".dash-members .member")).to_have_count(2)

    host.click("[data-action=rotate]")
    host.locator("dialog.modal-confirm button[type=submit]").click()
    expect(host.locator(".copy-status")).to_have_text("The invite code has been replaced.")
    assert host.locator(".invite-code").inner_text().strip() != code

    host.click("[data-action=password]")
    host.fill("dialog input[name=password]", "new-secret")
    host.click("dialog button[type=submit]")
    expect(host.locator(".toast", has_text="The join password has been changed.")).to_be_visible()

    host.click("[data-action=edit]")
    host.fill("dialog input[name=name]", "Tool Shed Two")
    host.fill("dialog input[name=capacity]", "1")
    host.click("dialog button[type=submit]")
    expect(host.locator("dialog .field[data-field=capacity] .field-message")).to_contain_text("At least 2")
    host.fill("dialog input[name=capacity]", "3")
    host.click("dialog button[type=submit]")
    expect(host.locator(".team-title")).to_have_text("Tool Shed Two")
    expect(member.locator(".team-title")).to_have_text("Tool Shed Two")  # live, without a reload
    shot(host, "host-tools-1280")

    host.locator(".member", has_text="Apprentice").locator("[data-action=transfer]").click()
    host.locator("dialog.modal-confirm button[type=submit]").click()
    expect(host.locator("[data-action=leave]")).to_be_visible()
    expect(member.locator("[data-action=disband]")).to_be_visible()  # the new host got the tools live

    host.click("[data-action=leave]")
    host.locator("dialog.modal-confirm button[type=submit]").click()
    host.wait_for_url("**/teams")
    expect(host.locator(".toast", has_text="You have left “Tool Shed Two”.")).to_be_visible()
    expect(member.locator(".dash-members .member")).to_have_count(1)

    member.click("[data-action=disband]")
    confirm = member.locator("dialog.modal-confirm button[type=submit]")
    expect(confirm).to_be_disabled()
    member.fill("dialog input[name=typed]", "Tool Shed Two")
    confirm.click()
    member.wait_for_url("**/teams")
    wait_ready(member)
    expect(member.locator(".teams-empty")).to_be_visible()
