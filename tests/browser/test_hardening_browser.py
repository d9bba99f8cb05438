"""Issue 14 in Chromium: the milestone timeline's cost does not grow with the span (item 5), the CSP lets
the page open its own socket and no other (``connect-src 'self'``), and the board shows the team's storage."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_path, sign_up_and_log_in

pytestmark = pytest.mark.browser
MAX_AXIS_ELEMENTS = 1500  # days and weekend shades drawn at once, whatever the span


def call(page, method: str, path: str, body: dict | None = None) -> dict:
    """An API call from the page, as its scripts make them (cookie session, CSRF header)."""
    return page.evaluate(
        """async ([method, path, body]) => {
          const pair = document.cookie.split("; ").find((c) => c.startsWith("teammoa_csrf=")) || "";
          const headers = { "Content-Type": "application/json", "X-CSRF-Token": decodeURIComponent(pair.slice(13)) };
          const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
          return { status: r.status, body: await r.json().catch(() => null) };
        }""",
        [method, path, body],
    )


def test_the_timeline_draws_a_bounded_number_of_elements_for_a_ten_year_milestone(page, live_server):
    sign_up_and_log_in(page, live_server, "spanner")
    team = call(page, "POST", "/api/v1/teams/", {"name": "Long haul", "capacity": 5, "join_password": "team-pass-1"})
    assert team["status"] == 201, team
    api = f"/api/v1/teams/{team['body']['id']}/milestones/"
    made = call(page, "POST", api, {"title": "Decade", "start_date": "2000-01-01", "end_date": "2009-12-30"})
    assert made["status"] == 201, made
    assert (
        call(page, "POST", api, {"title": "Forever", "start_date": "0001-01-01", "end_date": "9999-12-31"})["status"] == 422
    )
    open_path(page, f"/teams/{team['body']['id']}/milestones")
    expect(page.locator(".timeline-bar", has_text="Decade")).to_be_visible()
    drawn = page.locator(".axis-day, .grid-weekend, .axis-month").count()
    assert drawn < MAX_AXIS_ELEMENTS, drawn
    # Scrolled to the far start, the axis is drawn there (and still bounded).
    page.locator(".timeline-scroller").evaluate("node => { node.scrollLeft = 0; }")
    expect(page.locator(".axis-month-label", has_text="2000").first).to_be_visible()
    drawn = page.locator(".axis-day, .grid-weekend, .axis-month").count()
    assert drawn < MAX_AXIS_ELEMENTS, drawn


def test_the_page_may_open_its_own_socket_and_no_other(page, live_server):
    sign_up_and_log_in(page, live_server, "csp")
    response = page.request.get("/")
    csp = response.headers["content-security-policy"]
    assert "connect-src 'self';" in csp and "ws:" not in csp
    result = page.evaluate(
        """async () => {
          const violations = [];
          document.addEventListener("securitypolicyviolation", (e) => violations.push(e.blockedURI));
          const attempt = (url) => new Promise((resolve) => {
            let ws;
            try { ws = new WebSocket(url); } catch (e) { resolve("blocked"); return; }
            ws.onopen = () => { ws.close(); resolve("open"); };
            ws.onerror = () => resolve("error");
          });
          const own = await attempt(`ws://${location.host}/ws/`);
          const foreign = await attempt("ws://127.0.0.2:9/ws/");
          await new Promise((r) => setTimeout(r, 200));
          return { own, foreign, violations };
        }"""
    )
    assert result["own"] == "open", result
    assert result["foreign"] in ("blocked", "error"), result
    assert any("127.0.0.2" in uri for uri in result["violations"]), result


def test_the_board_shows_the_teams_storage_use(page, live_server):
    sign_up_and_log_in(page, live_server, "storer")
    team = call(page, "POST", "/api/v1/teams/", {"name": "Files", "capacity": 5, "join_password": "team-pass-1"})
    open_path(page, f"/teams/{team['body']['id']}/board")
    expect(page.locator(".storage-use")).to_contain_text("of")
    assert page.locator(".storage-use").get_attribute("data-quota") == str(1024**3)
