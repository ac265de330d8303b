"""The account page in the browser (a demo patient, read only: a refused change writes nothing)."""
from __future__ import annotations

from tests.portal.conftest import check_page, sign_in


def test_account_page_shows_the_profile_and_refuses_an_empty_phone(page, world):
    sign_in(page, "patient@demo.telehealth")
    page.goto("/account")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    assert page.get_by_label("Phone number", exact=True).input_value() == "+12125550143"
    assert page.get_by_label("City").input_value() == "Brooklyn"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    check_page(page, "accounts-account")
    page.get_by_label("Phone number", exact=True).fill("")
    page.get_by_role("button", name="Save my details").click()
    assert "This field is required" in page.locator("#field-phone-error").inner_text()
    check_page(page, "accounts-account-refused")
    page.goto("/account")  # nothing was saved
    assert page.get_by_label("Phone number", exact=True).input_value() == "+12125550143"
