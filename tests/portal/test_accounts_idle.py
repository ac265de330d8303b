"""The idle-logoff warning in the browser, on Playwright's clock: the warning comes before the
automatic logoff, "Stay signed in" keeps the session (keep-alive 204), and when it runs out the
person lands on the sign-in page, told why, and signed out on the server too."""
from __future__ import annotations

from tests.portal.conftest import check_page, sign_in

EMAIL = "patient.prescribe@demo.telehealth"  # read only: signing out ends this browser's session alone


def test_idle_warning_stay_signed_in_then_signed_out(page, world, app):
    idle_ms = app.config["PATIENT_IDLE_TIMEOUT_MINUTES"] * 60_000
    warn_ms = idle_ms - app.config["IDLE_WARNING_SECONDS"] * 1000
    page.clock.install()
    sign_in(page, EMAIL)
    page.goto("/account")
    dialog = page.get_by_role("dialog", name="Are you still there?")
    page.clock.fast_forward(warn_ms - 5_000)
    assert not dialog.is_visible()
    page.clock.fast_forward(6_000)
    dialog.wait_for(state="visible")
    assert "signed out in" in dialog.inner_text()
    check_page(page, "accounts-idle-warning")

    with page.expect_response("**/session/keepalive") as kept:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 204
    dialog.wait_for(state="hidden")

    page.clock.fast_forward(warn_ms + 1_000)  # the warning again, from the keep-alive on
    dialog.wait_for(state="visible")
    page.clock.fast_forward(idle_ms - warn_ms)  # and nobody answers it
    page.wait_for_url("**/login")
    assert "signed out after a period of inactivity" in page.get_by_role("status").first.inner_text()
    page.goto("/account")  # the server ended the session too
    assert "/login?next=" in page.url
