"""Buying in the browser: a patient of our own (signed up, screening approved by a demo physician)
chooses Starter, pays through the card element of localstripe's stand-in Stripe.js, sees the payment
settle when Stripe's webhook reaches the app, then reads the order, its receipt and the refund quote,
and refunds. A declined card is said in words, and a retry with a good card goes through."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from telehealth.extensions import db
from tests.portal.conftest import DEMO_PASSWORD, check_page, sign_in

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def approved_patient(app) -> str:
    """A new NY patient whose screening a demo physician approved (as demo.py's `_approved` does,
    for a patient outside its fixed cast); returns the email (the demo password)."""
    from telehealth.demo import DOMAIN, _patient, screening_answers
    from telehealth.models.screening.assessments import Decision
    from telehealth.schemas.accounts.accounts import PatientSignupIn
    from telehealth.services.accounts import accounts
    from telehealth.services.screening import assessments, reviews

    local = f"billing.{uuid.uuid4().hex[:10]}"
    spec = _patient(local, "Sam", "Buyer", "1987-03-03", "NY", "America/New_York", "+12125550199", "Albany", "12207")
    with app.app_context():
        patient = accounts.sign_up_patient(PatientSignupIn.model_validate(spec))
        assessment, _ = assessments.submit(patient, "screening", 1, screening_answers(spec))
        reviews.decide(accounts.find_by_email(f"dr.brooks@{DOMAIN}"), assessment.id, Decision.APPROVE, message=None,
                       note="Approved for a billing test.")
        db.session.commit()
        db.session.remove()
    assert spec["password"] == DEMO_PASSWORD
    return spec["email"]


def fill_card(page, number: str) -> None:
    """The stand-in's card element: one input per part, each named for a screen reader."""
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry month (MM)").fill("12")
    page.get_by_label("Expiry year (YY)").fill("34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_label("ZIP code").fill("10001")


def test_a_patient_buys_starter_by_card_sees_credits_then_refunds_with_the_quote_first(page, app):
    sign_in(page, approved_patient(app))
    page.goto("/packages")
    expect(page.get_by_role("heading", name="Choose a package")).to_be_visible()
    check_page(page, "billing-packages")
    page.get_by_role("button", name="Buy Starter for $199.00").click()

    expect(page.get_by_role("heading", name="Pay for Starter")).to_be_visible()
    expect(page.get_by_label("Card number")).to_be_visible()  # the card element is mounted
    check_page(page, "billing-pay")
    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Pay $199.00").click()

    page.wait_for_url("**/received")
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    # Stripe's webhook marks the order paid; the page's status follows without a reload
    expect(page.get_by_text("Your credits are ready")).to_be_visible(timeout=15_000)
    check_page(page, "billing-paid")

    page.get_by_role("link", name="See your credits").click()
    expect(page.locator(".credit-balances")).to_contain_text("1 Physician consult")
    check_page(page, "billing-credits")

    page.goto("/orders")
    check_page(page, "billing-orders")
    page.get_by_role("link", name="Starter").first.click()
    expect(page.get_by_role("link", name="View the receipt")).to_be_visible()
    check_page(page, "billing-order")

    page.get_by_role("link", name="See what a refund would return").click()
    expect(page.get_by_text("We would refund $199.00 to the card you paid with.")).to_be_visible()
    check_page(page, "billing-refund-quote")
    page.get_by_role("button", name="Refund $199.00").click()
    expect(page.get_by_role("status").filter(has_text="Refunded $199.00")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Refunded")


def test_a_declined_card_is_said_in_words_and_a_retry_with_a_good_card_succeeds(page, app):
    sign_in(page, approved_patient(app))
    page.goto("/packages")
    page.get_by_role("button", name="Buy Coaching 30 min for $79.00").click()
    fill_card(page, DECLINED_CARD)
    page.get_by_role("button", name="Pay $79.00").click()

    alert = page.get_by_role("alert").filter(has_text="declined")
    expect(alert).to_contain_text("Your card was declined.")
    expect(page.get_by_text("Nothing was charged.")).to_be_visible()
    check_page(page, "billing-pay-declined")

    fill_card(page, GOOD_CARD)  # the card element is there again
    page.get_by_role("button", name="Pay $79.00").click()
    page.wait_for_url("**/received")
    expect(page.get_by_text("Your credits are ready")).to_be_visible(timeout=15_000)
    expect(page.locator(".order-status")).to_contain_text("1 × Integration coaching session, 30 min")


def test_without_javascript_the_pay_page_says_card_entry_needs_it_and_offers_nothing_broken(browser, world,
                                                                                            live_server, app):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  java_script_enabled=False)
    try:
        tab = context.new_page()
        sign_in(tab, approved_patient(app))
        tab.goto("/packages")
        tab.get_by_role("button", name="Buy Starter for $199.00").click()  # a plain form: no script needed
        # Chromium under Playwright runs no script but still parses <noscript> as if it would (it does
        # not draw it): the words are checked in the page; a browser with JavaScript off shows them.
        assert "Card entry needs JavaScript." in tab.locator("noscript").first.text_content()
        expect(tab.get_by_role("button", name="Pay $199.00")).to_be_hidden()
        expect(tab.get_by_role("link", name="Not now")).to_be_hidden()
    finally:
        context.close()
