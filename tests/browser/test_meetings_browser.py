"""Meetings in Chromium: the host books from a suggestion, the invitation lands in the outbox and parses
with icalendar, a second member answers in their browser and the host sees it live, the host moves it
(an update with a higher SEQUENCE), the dashboard shows who is coming, then the host cancels. The profile
makes a calendar feed link that reads back with icalendar and turns off."""

from __future__ import annotations

import time

import icalendar
import pytest

from tests.browser.conftest import open_path, sign_up_and_log_in
from tests.conftest import calendars_from_mail

pytestmark = pytest.mark.browser

WEEK = "2027-03-08"  # a Monday, in the future
TEAM_PASSWORD = "moa-join-42"


def _api(page, method: str, path: str, body: dict) -> dict:
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "teammoa_csrf")
    response = page.request.fetch(path, method=method, data=body, headers={"X-CSRF-Token": csrf})
    assert response.ok, response.text()
    return response.json()


def _eventually(check, bound_s: float = 30.0) -> None:
    """Wait for a mail written right after a response (a bound for a loaded machine, not a speed test)."""
    deadline = time.monotonic() + bound_s
    while not check():
        assert time.monotonic() < deadline, "the mail never arrived"
        time.sleep(0.1)


def test_book_invite_answer_live_and_cancel(new_page, live_server):
    alice_page, bob_page = new_page(), new_page()
    sign_up_and_log_in(alice_page, live_server, "meetalice", nickname="Alice M")
    bob = sign_up_and_log_in(bob_page, live_server, "meetbob", nickname="Bob M")
    team = _api(
        alice_page,
        "POST",
        "/api/v1/teams/",
        {
            "name": "Meeting crew",
            "description": "",
            "capacity": 5,
            "join_password": TEAM_PASSWORD,
            "time_zone": "Asia/Seoul",
        },
    )
    _api(bob_page, "POST", "/api/v1/teams/join/", {"invite_code": team["invite_code"], "password": TEAM_PASSWORD})
    slots = {"week_start": WEEK, "slots": {WEEK: [20, 21, 22, 23]}}  # Monday 10:00–12:00 for both
    for page in (alice_page, bob_page):
        _api(page, "PUT", f"/api/v1/teams/{team['id']}/schedules/me/", slots)
    path = f"/teams/{team['id']}/schedule?view=team&week={WEEK}"

    open_path(alice_page, path)
    alice_page.locator('.suggestion button[data-action="book"]').first.click()
    alice_page.fill("#meeting-title", "Planning")
    alice_page.click('button[data-action="book-meeting"]')
    booked = alice_page.locator('.meeting[data-status="booked"]')
    booked.wait_for()
    assert "Planning" in booked.inner_text()

    _eventually(lambda: len(calendars_from_mail(live_server.data_dir, bob.email)) == 1)  # mailed just after the answer
    (invitation,) = calendars_from_mail(live_server.data_dir, bob.email)
    assert str(invitation["METHOD"]) == "REQUEST"
    (event,) = invitation.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Planning" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART").isoformat() == "2027-03-08T01:00:00+00:00"  # 10:00 in Seoul

    open_path(bob_page, path)
    bob_page.locator('.meeting button[data-answer="going"]').click()
    bob_page.locator('.meeting button[data-answer="going"][aria-pressed="true"]').wait_for()
    alice_page.locator('.meeting[data-going="1"]').wait_for()  # live, without a reload
    assert "Bob M" in alice_page.locator(".meeting .who").inner_text()

    # The host moves it an hour later: an update with a higher SEQUENCE, the same UID.
    alice_page.click('.meeting button[data-action="change-meeting"]')
    alice_page.fill(".meeting-change input[name=start]", "2027-03-08T11:00")
    alice_page.click('.meeting button[data-action="save-meeting"]')
    _eventually(lambda: len(calendars_from_mail(live_server.data_dir, bob.email)) == 2)
    (update,) = calendars_from_mail(live_server.data_dir, bob.email)[1].walk("VEVENT")
    assert (str(update["UID"]), int(update["SEQUENCE"])) == (str(event["UID"]), 1)
    assert update.decoded("DTSTART").isoformat() == "2027-03-08T02:00:00+00:00"

    open_path(bob_page, f"/teams/{team['id']}")  # the dashboard shows the next meeting and who is coming
    coming = bob_page.locator('.dash-meeting[data-going="1"]')
    coming.wait_for()
    assert "Planning" in coming.inner_text() and "Bob M" in coming.inner_text()

    alice_page.once("dialog", lambda dialog: dialog.accept())
    alice_page.click('.meeting button[data-action="cancel-meeting"]')
    alice_page.locator(".meeting-list .empty").wait_for()
    bob_page.locator(".dash-meetings .dash-meeting").wait_for(state="detached")  # gone live from the dashboard too
    methods = ["REQUEST", "REQUEST", "CANCEL"]
    _eventually(lambda: [str(c["METHOD"]) for c in calendars_from_mail(live_server.data_dir, bob.email)] == methods)


def test_the_profile_makes_a_feed_link_that_reads_back_and_turns_off(new_page, live_server):
    page = new_page()
    sign_up_and_log_in(page, live_server, "feedcarol", nickname="Carol F")
    team = _api(
        page,
        "POST",
        "/api/v1/teams/",
        {
            "name": "Feed crew",
            "description": "",
            "capacity": 5,
            "join_password": TEAM_PASSWORD,
            "time_zone": "Europe/Berlin",
        },
    )
    meeting = {"title": "Feed sync", "start": "2027-03-29T09:00:00", "duration_minutes": 30}
    _api(page, "POST", f"/api/v1/teams/{team['id']}/schedules/meetings/", meeting)

    open_path(page, "/profile")
    page.locator('.calendar-feed [data-feed="off"]').wait_for()
    page.click('button[data-action="feed-new"]')
    link = page.locator(".calendar-feed input.feed-link")
    link.wait_for()
    url = link.input_value()
    assert url.startswith("webcal://") and url.endswith(".ics")
    feed_path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    response = page.request.get(live_server.url(feed_path))
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.text())
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Feed sync"
    assert event.decoded("DTSTART").isoformat() == "2027-03-29T07:00:00+00:00"  # 09:00 CEST, after the DST change

    page.click('button[data-action="feed-off"]')
    page.locator('.calendar-feed [data-feed="off"]').wait_for()
    assert page.request.get(live_server.url(feed_path)).status == 404
