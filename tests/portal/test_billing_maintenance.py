"""Monthly maintenance in the browser: started with a card through the stand-in Stripe.js card
element, then cancelled with one button; the page shows the state at each step."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.portal.conftest import check_page, sign_in
from tests.portal.test_billing_purchase import GOOD_CARD, approved_patient, fill_card


def test_maintenance_is_started_by_card_and_cancelled_in_one_step(page, app):
    sign_in(page, approved_patient(app))
    page.goto("/maintenance")
    expect(page.get_by_role("heading", name="Monthly maintenance", exact=True)).to_be_visible()
    expect(page.get_by_label("Card number")).to_be_visible()
    check_page(page, "billing-maintenance-start")

    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Start for $149.00 a month").click()
    expect(page.get_by_role("status").filter(has_text="Monthly maintenance has started.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Active")
    expect(page.locator(".facts")).to_contain_text("Renews on")
    check_page(page, "billing-maintenance")

    page.get_by_role("button", name="Cancel monthly maintenance").click()  # one step: no survey, no second page
    expect(page.get_by_role("status").filter(has_text="Monthly maintenance is cancelled.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Ends on")
    expect(page.get_by_role("button", name="Cancel monthly maintenance")).to_have_count(0)
    check_page(page, "billing-maintenance-cancelled")
