"""The account pages in a real browser: sign-up to log-out, and the mistakes people make on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PASSWORD,
    PHONE,
    log_in,
    open_path,
    screenshot,
    sign_up,
    sign_up_and_log_in,
    verify_link_for,
    wait_ready,
)

pytestmark = pytest.mark.browser
GENERIC_LOGIN_ERROR = "The username, e-mail or password is not correct."


def nav(page):
    return page.locator(".site-nav")


def test_a_new_user_signs_up_verifies_edits_the_profile_changes_the_password_and_logs_back_in(page, live_server):
    user = sign_up(page, "walker")
    expect(page.locator("main")).to_contain_text(f"We sent a confirmation link to {user.email}")
    screenshot(page, "check-email")

    open_path(page, verify_link_for(page, user.email))
    screenshot(page, "outbox-verified")
    expect(page.locator(".notice-success")).to_contain_text("Your e-mail address is confirmed.")
    expect(nav(page).get_by_role("link", name="Log in")).to_be_visible()  # verifying never logs in

    log_in(page, user.username, user.password)
    expect(nav(page)).to_contain_text(user.nickname)

    open_path(page, "/profile")
    expect(page.locator(".profile-summary")).to_contain_text(user.email)
    page.fill("input[name=nickname]", "Walker Renamed")
    page.fill("textarea[name=profile]", "Plans the team's meetings.")
    page.click("form button[type=submit]")
    expect(page.locator(".form-notice")).to_contain_text("Your profile has been saved.")
    expect(nav(page)).to_contain_text("Walker Renamed")
    screenshot(page, "profile")
    page.reload()
    wait_ready(page)
    expect(page.locator("input[name=nickname]")).to_have_value("Walker Renamed")
    expect(page.locator("textarea[name=profile]")).to_have_value("Plans the team's meetings.")

    open_path(page, "/profile/password")
    page.fill("input[name=current_password]", user.password)
    page.fill("input[name=new_password]", "Another-Horse-77")
    page.fill("input[name=confirm]", "Another-Horse-77")
    page.click("form button[type=submit]")
    expect(page.locator(".form-notice")).to_contain_text("Your password has been changed.")

    nav(page).get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url("/"))
    expect(nav(page).get_by_role("link", name="Log in")).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("You have logged out.")

    open_path(page, "/login")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    expect(page.locator(".form-notice")).to_contain_text(GENERIC_LOGIN_ERROR)

    log_in(page, user.email, "Another-Horse-77")
    expect(nav(page)).to_contain_text("Walker Renamed")


def test_a_taken_username_is_reported_while_typing_and_on_submit(page):
    sign_up(page, "taken.name")
    open_path(page, "/signup")
    page.fill("input[name=username]", "Taken.Name")  # usernames are case-insensitive
    username_field = page.locator('.field[data-field="username"]')
    expect(username_field.locator(".field-message")).to_have_text("This username is already taken.")
    page.fill("input[name=email]", "someone.else@example.com")
    page.fill("input[name=nickname]", "Someone else")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(username_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(username_field.locator(".field-message")).to_have_text("This username is already taken.")
    expect(page.locator(".form-notice")).to_contain_text("Please check the highlighted fields.")
    assert page.url.endswith("/signup")


def test_a_free_username_is_confirmed_while_typing(page):
    open_path(page, "/signup")
    page.fill("input[name=username]", "nobody-has-this")
    expect(page.locator('.field[data-field="username"] .field-message')).to_have_text("Available.")


def test_a_weak_password_is_refused_with_a_message(page):
    open_path(page, "/signup")
    page.fill("input[name=username]", "weakling")
    page.fill("input[name=email]", "weakling@example.com")
    page.fill("input[name=nickname]", "Weakling")
    password_message = page.locator('.field[data-field="password"] .field-message')

    page.fill("input[name=password]", "short")
    page.click("form button[type=submit]")
    expect(password_message).to_have_text("Use at least 8 characters.")

    page.fill("input[name=password]", "password")  # long enough, but on every common-password list
    page.click("form button[type=submit]")
    expect(password_message).to_contain_text("too common")
    screenshot(page, "signup-errors")
    assert page.url.endswith("/signup")


def test_a_wrong_password_and_an_unknown_user_get_the_same_generic_message(page, live_server):
    sign_up_and_log_in(page, live_server, "forgetful")
    nav(page).get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url("/"))

    for login in ("forgetful", "no-such-person"):
        open_path(page, "/login")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", "Not-The-Password-1")
        page.click("form button[type=submit]")
        expect(page.locator(".form-notice")).to_have_text(GENERIC_LOGIN_ERROR)
        expect(page.locator("input[name=password]")).to_have_value("")
    screenshot(page, "login-error")


def test_an_unverified_account_is_asked_to_verify_and_can_have_the_link_sent_again(page):
    user = sign_up(page, "unverified")
    open_path(page, "/login")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    expect(page.locator(".notice-warning")).to_contain_text("not confirmed yet")
    resend = page.locator("form.resend-form")
    expect(resend.locator("input[name=email]")).to_have_value(user.email)
    resend.locator("button[type=submit]").click()
    expect(resend.locator(".notice-success")).to_contain_text("a new link is on its way")
    assert page.url.endswith("/login")


def test_a_verification_link_works_once(page, new_page):
    user = sign_up(page, "once")
    link = verify_link_for(page, user.email)
    open_path(page, link)
    expect(page.locator(".notice-success")).to_be_visible()
    other = new_page()
    open_path(other, link)
    expect(other.locator(".notice-error")).to_contain_text("not valid")
    expect(other.locator("form.resend-form")).to_be_visible()


def test_a_forgotten_password_is_reset_through_the_mailed_link(page, live_server):
    user = sign_up_and_log_in(page, live_server, "resetter")
    page.context.clear_cookies()
    open_path(page, "/forgot-password")
    page.fill("input[name=email]", user.email)
    page.click("form button[type=submit]")
    expect(page.locator(".form-notice")).to_contain_text("a link to reset the password is on its way")

    open_path(page, verify_link_for(page, user.email, kind="reset-password"))
    page.fill("input[name=new_password]", "Fresh-Start-2024")
    page.fill("input[name=confirm]", "Fresh-Start-2025")
    page.click("form button[type=submit]")
    expect(page.locator('.field[data-field="confirm"] .field-message')).to_have_text("The two passwords are not the same.")
    page.fill("input[name=confirm]", "Fresh-Start-2024")
    page.click("form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("Your password has been changed.")
    log_in(page, user.username, "Fresh-Start-2024")


def test_a_user_deactivates_the_account_after_confirming(page, live_server):
    user = sign_up_and_log_in(page, live_server, "leaver")
    open_path(page, "/profile/deactivate")
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    expect(page.locator('.field[data-field="confirm"] .field-message')).to_have_text("Tick this box to confirm.")
    page.fill("input[name=password]", "Wrong-Password-9")
    page.check("input[name=confirm]")
    page.click("form button[type=submit]")
    expect(page.locator('.field[data-field="password"] .field-message')).to_have_text("The password is not correct.")
    screenshot(page, "deactivate")
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    page.wait_for_url(live_server.url("/"))
    expect(page.locator(".toast")).to_contain_text("Your account has been deactivated.")
    expect(nav(page).get_by_role("link", name="Log in")).to_be_visible()

    open_path(page, "/login")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    expect(page.locator(".form-notice")).to_have_text(GENERIC_LOGIN_ERROR)


def test_pages_for_signed_in_users_send_visitors_to_log_in_and_back(page, live_server):
    open_path(page, "/profile")
    assert page.url.endswith("/login?next=%2Fprofile")
    expect(page.locator(".notice-info")).to_contain_text("Please log in")
    user = sign_up(page, "returner")
    open_path(page, verify_link_for(page, user.email))
    open_path(page, "/login?next=%2Fprofile")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", user.password)
    page.click("form button[type=submit]")
    page.wait_for_url(live_server.url("/profile"))
    wait_ready(page)
    expect(page.locator(".profile-summary")).to_contain_text(user.username)


def test_korean_browsers_get_korean_and_the_switch_is_remembered(new_page):
    page = new_page(viewport=PHONE, locale="ko-KR")
    open_path(page, "/")
    expect(page.locator("h1")).to_have_text("팀에 필요한 모든 것을 한곳에 모았어요.")
    assert page.evaluate("document.documentElement.lang") == "ko"
    screenshot(page, "landing-ko-phone")
    page.locator(".menu-toggle").click()
    page.select_option("#language", "en")
    expect(page.locator("h1")).to_have_text("Everything your team needs, gathered in one place.")
    page.reload()
    wait_ready(page)
    expect(page.locator("h1")).to_have_text("Everything your team needs, gathered in one place.")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/signup",
        "/login",
        "/check-email",
        "/forgot-password",
        "/dev/outbox",
        "/verify-email",
        "/reset-password?token=x",
        "/api-reference",
        "/no-such-page",
    ],
)
def test_every_public_page_fits_a_phone_screen(new_page, path):
    page = new_page(viewport=PHONE)
    open_path(page, path)
    expect(page.locator("main h1").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    screenshot(page, "phone" + (path.split("?")[0].replace("/", "-") if path != "/" else "-landing"))


def test_the_api_reference_lists_each_services_openapi_document(page):
    open_path(page, "/")
    page.locator(".site-footer").get_by_role("link", name="API reference").click()
    page.wait_for_url("**/api-reference")
    wait_ready(page)
    hrefs = page.locator(".doc-list a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["/api/v1/users/openapi.json", "/api/v1/teams/openapi.json", "/api/v1/schedules/openapi.json"]
    response = page.request.get(hrefs[0])
    assert response.status == 200 and "paths" in response.json()


def test_the_session_survives_the_access_cookie_running_out(page, live_server):
    sign_up_and_log_in(page, live_server, "longsession")
    page.context.clear_cookies(name="teammoa_access")  # what the browser does after its 15 minutes
    open_path(page, "/profile")
    expect(page.locator(".profile-summary")).to_contain_text("longsession")
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert "teammoa_access" in names  # refreshed, not signed out
    page.fill("textarea[name=profile]", "Still here.")
    page.click("form button[type=submit]")
    expect(page.locator(".form-notice")).to_contain_text("Your profile has been saved.")


def test_a_session_that_cannot_be_refreshed_ends_cleanly(page, live_server):
    sign_up_and_log_in(page, live_server, "expired")
    page.context.clear_cookies(name="teammoa_access")
    page.context.clear_cookies(name="teammoa_refresh")
    open_path(page, "/profile")
    assert "/login?next=%2Fprofile" in page.url
    expect(nav(page).get_by_role("link", name="Log in")).to_be_visible()
