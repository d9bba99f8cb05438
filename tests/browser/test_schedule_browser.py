"""The schedule pages in Chromium: two members paint their weeks (mouse and touch), the heat-map shows
the overlap, the best suggestion is the window both marked, and its .ics downloads."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_path, screenshot, sign_up_and_log_in, wait_ready

pytestmark = pytest.mark.browser

WEEK = "2026-12-07"  # a Monday; the page is opened on this week explicitly
MONDAY, TUESDAY = "2026-12-07", "2026-12-08"
TEAM_PASSWORD = "moa-join-42"


def _api(page, method: str, path: str, body: dict) -> dict:
    """Call the API as the page's signed-in user (cookies plus the CSRF header)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "teammoa_csrf")
    response = page.request.fetch(path, method=method, data=body, headers={"X-CSRF-Token": csrf})
    assert response.ok, response.text()
    return response.json()


def _cell(page, grid: str, date: str, slot: int):
    return page.locator(f'.{grid} .slot-cell[data-date="{date}"][data-slot="{slot}"]')


def _centre(locator) -> tuple[float, float]:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box, "cell not rendered"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag_mouse(page, date: str, first: int, last: int) -> None:
    start = _cell(page, "editor", date, first)
    x, y = _centre(start)
    end_x, end_y = _centre(_cell(page, "editor", date, last))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(end_x, end_y, steps=6)
    page.mouse.up()


def _drag_touch(page, date: str, first: int, last: int) -> None:
    """A real touch drag (Chromium's touch input through CDP): pointer events of type "touch"."""
    x, y = _centre(_cell(page, "editor", date, first))
    _, end_y = _centre(_cell(page, "editor", date, last))
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 7):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + (end_y - y) * step / 6}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _checked(page, date: str) -> list[int]:
    cells = page.locator(f'.editor .slot-cell[data-date="{date}"][aria-checked="true"]')
    return sorted(int(value) for value in cells.evaluate_all("nodes => nodes.map(n => n.dataset.slot)"))


def _save(page) -> None:
    page.click('button[data-action="save"]')
    page.wait_for_selector('.dirty-state[data-dirty="false"]')


def test_two_members_find_their_overlap_and_download_it(new_page, live_server):
    alice_page, bob_page = new_page(), new_page()
    sign_up_and_log_in(alice_page, live_server, "schedalice", nickname="Alice S")
    sign_up_and_log_in(bob_page, live_server, "schedbob", nickname="Bob S")
    team = _api(
        alice_page,
        "POST",
        "/api/v1/teams/",
        {
            "name": "Schedule crew",
            "description": "",
            "capacity": 5,
            "join_password": TEAM_PASSWORD,
            "time_zone": "Asia/Seoul",
        },
    )
    _api(bob_page, "POST", "/api/v1/teams/join/", {"invite_code": team["invite_code"], "password": TEAM_PASSWORD})
    path = f"/teams/{team['id']}/schedule?view=mine&week={WEEK}"

    open_path(alice_page, path)
    alice_page.wait_for_selector('.schedule-content[data-state="ready"] .editor')
    _drag_mouse(alice_page, MONDAY, 20, 23)  # Monday 10:00–12:00
    _drag_mouse(alice_page, TUESDAY, 28, 29)  # Tuesday 14:00–15:00
    assert _checked(alice_page, MONDAY) == [20, 21, 22, 23]
    assert alice_page.locator('.dirty-state[data-dirty="true"]').count() == 1
    _save(alice_page)

    open_path(bob_page, path)
    bob_page.wait_for_selector('.schedule-content[data-state="ready"] .editor')
    _drag_touch(bob_page, MONDAY, 22, 27)  # Monday 11:00–14:00, painted by touch
    assert _checked(bob_page, MONDAY) == [22, 23, 24, 25, 26, 27]
    _drag_mouse(bob_page, MONDAY, 26, 27)  # starting on a painted cell erases: 13:00–14:00 goes
    assert _checked(bob_page, MONDAY) == [22, 23, 24, 25]
    _save(bob_page)
    open_path(bob_page, path)  # the saved week loads back
    bob_page.wait_for_selector('.schedule-content[data-state="ready"] .editor')
    assert _checked(bob_page, MONDAY) == [22, 23, 24, 25]

    alice_page.click('[role="tab"][data-tab="team"]')
    alice_page.wait_for_selector('.schedule-content[data-state="ready"] .heatmap .slot-cell')
    overlap = _cell(alice_page, "heatmap", MONDAY, 22)
    assert overlap.get_attribute("data-count") == "2" and "everyone" in overlap.get_attribute("class")
    assert _cell(alice_page, "heatmap", MONDAY, 20).get_attribute("data-count") == "1"
    assert _cell(alice_page, "heatmap", MONDAY, 30).get_attribute("data-count") == "0"
    overlap.hover()
    who = alice_page.locator(".heat-detail [data-who]")
    assert "Alice S" in who.inner_text() and "Bob S" in who.inner_text()

    best = alice_page.locator(".suggestion").first
    best.wait_for()
    assert best.get_attribute("data-start") == "2026-12-07T11:00:00+09:00"
    assert best.get_attribute("data-end") == "2026-12-07T12:00:00+09:00"
    assert "Alice S" in best.inner_text() and "Bob S" in best.inner_text()
    screenshot(alice_page, "schedule-team")
    with alice_page.expect_download() as caught:
        best.locator('a[data-action="ics"]').click()
    calendar = caught.value.path().read_bytes().decode()  # bytes: read_text() would turn CRLF into LF
    assert calendar.startswith("BEGIN:VCALENDAR\r\n") and calendar.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20261207T020000Z\r\n" in calendar and "DTEND:20261207T030000Z\r\n" in calendar
    assert "SUMMARY:" in calendar


def test_quick_fills_and_the_unsaved_warning(new_page, live_server):
    page = new_page()
    sign_up_and_log_in(page, live_server, "schedcarol", nickname="Carol S")
    team = _api(
        page,
        "POST",
        "/api/v1/teams/",
        {
            "name": "Fill crew",
            "description": "",
            "capacity": 5,
            "join_password": TEAM_PASSWORD,
            "time_zone": "Europe/Berlin",
        },
    )
    open_path(page, f"/teams/{team['id']}/schedule?week={WEEK}")
    page.wait_for_selector('.schedule-content[data-state="ready"] .editor')
    page.click('button[data-fill="working"]')
    assert _checked(page, MONDAY) == list(range(18, 36))
    assert _checked(page, "2026-12-12") == []  # Saturday
    page.click('button[data-fill="evenings"]')
    assert _checked(page, "2026-12-12") == list(range(36, 44))
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.click('.team-nav a[data-section="dashboard"]')
    wait_ready(page)
    assert messages and "unsaved" in messages[0].lower()
    assert "/schedule" in page.url  # stayed, the painting is still there
    assert _checked(page, MONDAY) == list(range(18, 44))
    page.click('button[data-fill="clear"]')
    assert _checked(page, MONDAY) == []
