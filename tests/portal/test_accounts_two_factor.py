"""Two-step verification in the browser: a new physician (not a demo one: Dr. Adams stays for a
newcomer to enrol) sets up an authenticator from the page, by reading the key shown there, is
refused a wrong first code, saves the recovery codes and sees the status."""
from __future__ import annotations

import pyotp

from telehealth.extensions import db as _db
from tests.conftest import PASSWORD, _make_user
from tests.portal.conftest import check_page, sign_in


def test_a_physician_enrols_from_the_page(page, world, app):
    with app.app_context():
        email = _make_user(_db, "physician", second_factor=False, display_name="Dr. Noor Haddad").email
        _db.session.remove()
    sign_in(page, email, PASSWORD)
    page.goto("/account")
    check_page(page, "accounts-staff-account")
    page.get_by_role("link", name="Set up two-step verification").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Two-step verification"
    assert "must set it up" in page.locator("main").inner_text()
    check_page(page, "accounts-two-factor-start")

    page.get_by_role("button", name="Set up two-step verification").click()
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    secret = page.locator("#setup-key").inner_text().replace(" ", "")
    assert len(secret) == 32
    check_page(page, "accounts-two-factor-scan")

    code = pyotp.TOTP(secret).now()
    page.get_by_label("Code from your authenticator app").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Turn on two-step verification").click()
    assert "That code is not right" in page.locator("#field-code-error").inner_text()
    check_page(page, "accounts-two-factor-refused")

    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    assert page.get_by_role("heading", name="Save your recovery codes").is_visible()
    assert page.locator(".recovery-codes li").count() == 10
    check_page(page, "accounts-two-factor-codes")

    page.get_by_role("link", name="I have saved them, continue").click()
    page.goto("/account/two-factor")
    text = page.locator("main").inner_text()
    assert "On since" in text and "10 of 10" in text
    check_page(page, "accounts-two-factor-on")
