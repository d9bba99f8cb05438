"""With no sign-in provider configured (the shared live server), the sign-in and sign-up pages show no
provider buttons and no empty "Or log in with" divider."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_path

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_no_provider_buttons_without_providers(page, path):
    with page.expect_response("**/api/v1/users/oauth/providers/") as answer:
        open_path(page, path)
    assert answer.value.json() == {"providers": []}
    page.locator("form button[type=submit]").wait_for()
    assert page.locator(".provider-button").count() == 0
    assert page.locator(".divider-label").count() == 0
