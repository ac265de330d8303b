"""The billing pages with Flask's test client: packages from the catalog, paying an order (the
PaymentMethod Stripe.js would make is one of localstripe's test ids here), the received page settling
when Stripe's event arrives, refunds quoted first, monthly maintenance started and cancelled in one
step, receipts and superbills, and who may see what. Stripe is a real localstripe server; its
webhook is applied with the same service the webhook route calls."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import Assessment, AssessmentStatus, Order, OrderStatus, ReviewStatus, Subscription
from telehealth.services.billing import catalog, stripe_events
from tests.pages_support import submit, text_of

PAGES = ["/packages", "/orders", "/credits", "/maintenance", "/billing/superbill"]


# ----------------------------------------------------------------------------- set-up


@pytest.fixture
def shop(db, create_user):
    catalog.seed_catalog()
    create_user("physician", states=["NY"])  # NY is serviced


def _screened(db, patient, *, outcome="likely_candidate", review=ReviewStatus.APPROVED):
    at = now()
    db.session.add(Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                              patient_id=patient.id, answers={}, submitted_at=at, outcome=outcome, reasons=[],
                              review_status=review, review_due_at=at + timedelta(hours=24)))
    db.session.commit()


@pytest.fixture
def patient(shop, db, auth, create_user):
    """An approved NY patient, signed in on `client`."""
    user = create_user("patient")
    _screened(db, user)
    assert auth.login(user).status_code == 200
    return user


def _order_id(response) -> int:
    match = re.search(r"/orders/(\d+)/", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def _start(client, product="starter") -> int:
    response = submit(client, "/packages", {"product": product})
    assert response.status_code == 302, text_of(response)
    return _order_id(response)


def _paid(client, db, product="starter") -> Order:
    """An order paid by card, and Stripe's payment_intent.succeeded applied (as the webhook does)."""
    order_id = _start(client, product)
    response = submit(client, f"/orders/{order_id}/pay", {"payment_method": "pm_card_visa"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{order_id}/received")
    order = db.session.get(Order, order_id)
    db.session.refresh(order)
    stripe_events.handle({"id": f"evt_pages_{order.stripe_payment_intent_id}", "type": "payment_intent.succeeded",
                          "data": {"object": {"id": order.stripe_payment_intent_id}}})
    db.session.refresh(order)
    assert order.status is OrderStatus.PAID
    return order


def _policy(response) -> str:
    return response.headers["Content-Security-Policy"]


# ----------------------------------------------------------------------------- packages


def test_packages_shows_the_catalog_with_its_prices_and_what_each_grants(client, patient):
    response = client.get("/packages")
    assert response.status_code == 200
    words = text_of(response)
    for name, price in (("Starter", "$199.00"), ("3-Month program", "$249.00"), ("Coaching 30 min", "$79.00"),
                        ("Coaching 60 min", "$119.00")):
        assert f"Buy {name} for {price}" in words
    assert "Monthly maintenance $149.00 a month" in words and "Start monthly maintenance" in words
    assert "1 × Physician consult" in words and "6 × Medication for at-home sessions" in words
    assert "no hidden fees" in words
    assert "js.stripe.com" not in response.get_data(as_text=True)


def test_a_price_changed_in_the_catalog_is_the_price_shown(client, patient, db):
    product = next(p for p in catalog.list_products() if p.code == "starter")
    product.price_cents = 20900
    db.session.commit()
    assert "Buy Starter for $209.00" in text_of(client.get("/packages"))


@pytest.mark.parametrize("setup, message", [
    (None, "Take the free screening first"),
    ({"review": ReviewStatus.DECLINED}, "not right for you now"),
    ({"outcome": "not_eligible", "review": ReviewStatus.PENDING}, "not safe or suitable for you now"),
])
def test_a_patient_who_may_not_buy_is_told_why_in_words_and_nothing_is_ordered(client, shop, db, auth, create_user,
                                                                             setup, message):
    user = create_user("patient")
    if setup is not None:
        _screened(db, user, **setup)
    auth.login(user)
    page = text_of(client.get("/packages"))
    assert "You cannot buy a package yet." in page and message in page
    assert "Buy Starter" not in page
    response = submit(client, "/packages", {"product": "starter"})
    assert response.status_code == 409 and message in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.patient_id == user.id)) == 0
    assert "You cannot start monthly maintenance now." in text_of(client.get("/maintenance"))


def test_maintenance_is_not_bought_as_a_package_and_the_refusal_says_where_to_go(client, patient, db):
    response = submit(client, "/packages", {"product": "maintenance"})
    assert response.status_code == 409 and "start it on the monthly maintenance page" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_product_not_in_the_catalog_is_refused_at_the_field(client, patient, db):
    response = submit(client, "/packages", {"product": "free-lunch"})
    assert response.status_code == 422 and "Choose a product from the catalog." in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


# ----------------------------------------------------------------------------- paying


def test_the_pay_page_loads_stripe_js_from_config_and_its_csp_names_it_on_that_page_only(client, patient, app,
                                                                                         monkeypatch):
    order_id = _start(client)
    response = client.get(f"/orders/{order_id}/pay")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    stripe_base = app.config["STRIPE_API_BASE"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(stripe_base))
    assert f'src="{stripe_base}/js.stripe.com/v3/"' in html
    policy = _policy(response)
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert origin in script_src and origin in policy.split("connect-src")[1].split(";")[0]
    assert f"frame-src {origin}" in policy
    assert "Pay $199.00" in text_of(response) and "Card entry needs JavaScript" in text_of(response)
    assert 'data-card-form' in html and 'hidden' in html.split("data-card-form")[1].split(">")[0]
    # every other page loads from the app alone (but monthly maintenance's card field: tested below)
    for url in ["/packages", "/orders", "/credits", "/billing/superbill", f"/orders/{order_id}",
                f"/orders/{order_id}/received", f"/orders/{order_id}/refund"]:
        other = client.get(url)
        assert other.status_code == 200 and origin not in _policy(other), url

    monkeypatch.setitem(app.config, "STRIPE_JS_URL", "https://js.stripe.com/v3/")
    response = client.get(f"/orders/{order_id}/pay")
    assert 'src="https://js.stripe.com/v3/"' in response.get_data(as_text=True)
    assert "script-src" in _policy(response) and "https://js.stripe.com" in _policy(response)


def test_paying_confirms_on_the_server_and_the_received_page_settles_when_stripe_says_paid(client, patient, db):
    order_id = _start(client)
    response = submit(client, f"/orders/{order_id}/pay", {"payment_method": "pm_card_visa"})
    assert response.status_code == 302
    received = client.get(f"/orders/{order_id}/received")
    words = text_of(received)
    assert "Payment received" in words and "credits arrive in a moment" in words and "Check status" in words
    assert 'hx-trigger="every 2s"' in received.get_data(as_text=True)

    order = db.session.get(Order, order_id)
    stripe_events.handle({"id": "evt_pages_received", "type": "payment_intent.succeeded",
                          "data": {"object": {"id": order.stripe_payment_intent_id}}})
    status = client.get(f"/orders/{order_id}/status")
    assert "Paid" in text_of(status) and "1 × Physician consult" in text_of(status)
    assert "hx-trigger" not in status.get_data(as_text=True)  # settled: the polling stops
    credits = text_of(client.get("/credits"))
    assert "1 Physician consult" in credits and "Added: Physician consult" in credits
    # a paid order is not paid again
    again = client.get(f"/orders/{order_id}/pay")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/orders/{order_id}")


def test_a_declined_card_is_said_in_words_and_a_retry_with_another_card_goes_through(client, patient, db):
    order_id = _start(client)
    response = submit(client, f"/orders/{order_id}/pay", {"payment_method": "pm_card_visa_chargeDeclined"})
    assert response.status_code == 402
    words = text_of(response)
    assert "Your card was declined." in words and "Nothing was charged" in words and "Pay $199.00" in words
    assert db.session.get(Order, order_id).status is OrderStatus.FAILED
    assert "Your last payment did not go through." in text_of(client.get(f"/orders/{order_id}/pay"))
    assert "Try the payment again" in text_of(client.get("/orders"))

    response = submit(client, f"/orders/{order_id}/pay", {"payment_method": "pm_card_visa"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/received")
    assert db.session.get(Order, order_id).status is OrderStatus.PENDING  # a new attempt, paid by the webhook


def test_a_payment_method_that_is_not_one_is_refused_at_the_field(client, patient):
    order_id = _start(client)
    response = submit(client, f"/orders/{order_id}/pay", {"payment_method": "4242424242424242"})
    assert response.status_code == 422 and "Pay $199.00" in text_of(response)


# ----------------------------------------------------------------------------- orders, receipts, superbills


def test_orders_list_and_an_orders_page_with_its_receipt_and_superbill(client, patient, db):
    order = _paid(client, db)
    words = text_of(client.get("/orders"))
    assert f"Order {order.id}: Starter" in words and "$199.00" in words and "Paid" in words
    assert "1 × Physician consult" in words  # the credits summary

    page = client.get(f"/orders/{order.id}")
    words = text_of(page)
    assert "View the receipt" in words and "Download the receipt (PDF)" in words
    assert "See what a refund would return" in words

    receipt = client.get(f"/orders/{order.id}/receipt")
    assert receipt.status_code == 200 and receipt.mimetype == "text/html"
    assert f"R-{order.id:06d}" in text_of(receipt) and "$199.00" in text_of(receipt)
    title = receipt.get_data(as_text=True).split("<title>")[1].split("</title>")[0]
    assert "Ketamine" not in title and title.endswith("Telehealth Care")  # tabs and history are seen by others
    assert "style-src 'unsafe-inline'" in _policy(receipt)  # the document's own policy
    pdf = client.get(f"/orders/{order.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

    form = client.get("/billing/superbill")
    assert form.status_code == 200 and "Get the superbill" in text_of(form)
    today = now().date()
    bill = submit(client, "/billing/superbill", {"start": (today - timedelta(days=30)).isoformat(),
                                                 "end": (today + timedelta(days=1)).isoformat(), "format": "html"})
    assert bill.status_code == 200 and "Starter" in text_of(bill) and "Superbill" in text_of(bill)
    bill = submit(client, "/billing/superbill", {"start": today.isoformat(), "end": today.isoformat(),
                                                 "format": "pdf"})
    assert bill.mimetype == "application/pdf"


def test_a_superbill_over_a_wrong_range_is_refused_on_the_form(client, patient):
    response = submit(client, "/billing/superbill", {"start": "2026-05-01", "end": "2026-04-01", "format": "html"})
    assert response.status_code == 422
    assert "The end date must be on or after the start date." in text_of(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_an_unpaid_order_has_no_receipt_said_in_words(client, patient):
    order_id = _start(client)
    response = client.get(f"/orders/{order_id}/receipt")
    assert response.status_code == 409 and "Only paid orders have a receipt." in text_of(response)
    assert "Pay now" in text_of(client.get(f"/orders/{order_id}"))


# ----------------------------------------------------------------------------- refunds


def test_a_refund_is_quoted_first_then_made_and_its_credits_leave(client, patient, db):
    order = _paid(client, db)
    quote = client.get(f"/orders/{order.id}/refund")
    words = text_of(quote)
    assert "We would refund $199.00 to the card you paid with." in words
    assert "1 × Physician consult" in words and "Refund $199.00" in words
    assert db.session.get(Order, order.id).refunded_cents == 0  # a quote changes nothing

    api = client.post(f"/api/v1/orders/{order.id}/refund", json={"expected_amount_cents": 100})  # the same rule
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "refund_quote_changed"
    stale = submit(client, f"/orders/{order.id}/refund", {"expected_amount_cents": "100"})
    assert stale.status_code == 409 and "has changed since you looked" in text_of(stale)
    assert "We would refund $199.00" in text_of(stale)  # the current quote, to look at again
    db.session.refresh(order)
    assert order.refunded_cents == 0

    done = submit(client, f"/orders/{order.id}/refund", {"expected_amount_cents": "19900"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/orders/{order.id}")
    page = text_of(client.get(f"/orders/{order.id}"))
    assert "Refunded $199.00" in page and "Refunded" in page
    db.session.refresh(order)
    assert order.status is OrderStatus.REFUNDED
    assert "You have no credits right now." in text_of(client.get("/credits"))
    again = text_of(client.get(f"/orders/{order.id}/refund"))
    assert "This order cannot be refunded here." in again and "Only a paid order can be refunded." in again


def test_a_refund_outside_the_policy_is_refused_in_words(client, patient, db):
    order = _paid(client, db, "coaching_30")
    quote = text_of(client.get(f"/orders/{order.id}/refund"))
    assert "This order cannot be refunded here." in quote and "not refundable under our policy" in quote
    assert "Refund $" not in quote
    response = submit(client, f"/orders/{order.id}/refund", {})
    assert response.status_code == 409 and "not refundable under our policy" in text_of(response)


# ----------------------------------------------------------------------------- maintenance


def test_maintenance_is_started_with_a_card_and_cancelled_in_one_step(client, patient, db):
    page = client.get("/maintenance")
    words = text_of(page)
    assert "$149.00 a month" in words and "Start for $149.00 a month" in words
    assert "frame-src" in _policy(page)  # the card field's page allows Stripe.js

    declined = submit(client, "/maintenance/start", {"payment_method": "pm_card_visa_chargeDeclined"},
                      token_from="/maintenance")
    assert declined.status_code == 402 and "Your card was declined." in text_of(declined)
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0

    started = submit(client, "/maintenance/start", {"payment_method": "pm_card_visa"}, token_from="/maintenance")
    assert started.status_code == 302
    words = text_of(client.get("/maintenance"))
    assert "Monthly maintenance has started." in words and "Active" in words and "Renews on" in words
    assert "Cancel monthly maintenance" in words

    cancelled = submit(client, "/maintenance/cancel", {}, token_from="/maintenance")
    assert cancelled.status_code == 302 and cancelled.headers["Location"].endswith("/maintenance")
    words = text_of(client.get("/maintenance"))
    assert "Monthly maintenance is cancelled." in words and "will not be charged again" in words
    assert "Ends on" in words and "Cancel monthly maintenance" not in words
    assert db.session.scalar(select(Subscription)).cancel_at_period_end is True


def test_cancelling_without_maintenance_is_said_in_words(client, patient):
    response = submit(client, "/maintenance/cancel", {}, token_from="/maintenance")
    assert response.status_code == 404 and "You have no monthly maintenance to cancel." in text_of(response)


# ----------------------------------------------------------------------------- who may see what


def test_another_patients_order_is_not_found_on_every_page(client, patient, db, auth, create_user):
    order = _paid(client, db)
    other = create_user("patient")
    _screened(db, other)
    auth.login(other)
    for url in (f"/orders/{order.id}", f"/orders/{order.id}/pay", f"/orders/{order.id}/received",
                f"/orders/{order.id}/status", f"/orders/{order.id}/refund", f"/orders/{order.id}/receipt",
                f"/orders/{order.id}/receipt.pdf"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Starter" not in text_of(response)
    assert submit(client, f"/orders/{order.id}/refund", {}, token_from="/orders").status_code == 404
    assert submit(client, f"/orders/{order.id}/pay", {"payment_method": "pm_card_visa"},
                  token_from="/orders").status_code == 404
    db.session.refresh(order)
    assert order.refunded_cents == 0


def test_staff_are_refused_the_patients_billing_pages(client, shop, auth):
    auth.as_role("coach")
    for url in PAGES:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("url", [*PAGES, "/orders/1", "/orders/1/pay", "/orders/1/refund", "/orders/1/receipt"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={url}"


# ----------------------------------------------------------------------------- the local Stripe.js


def test_the_stand_in_stripe_js_creates_payment_methods_with_the_publishable_key(app, localstripe_url):
    """scripts/localstripe_server.py serves localstripe's Stripe.js with createPaymentMethod working
    (and its card inputs named), and lets the publishable key create a PaymentMethod, as Stripe does."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    script = urllib.request.urlopen(f"{localstripe_url}/js.stripe.com/v3/", timeout=5).read().decode()
    assert "createPaymentMethod: async () => {}" not in script
    assert "/v1/payment_methods" in script and "'aria-label'" in script

    card = {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034",
            "card[cvc]": "123"}

    def create(fields):
        request = urllib.request.Request(f"{localstripe_url}/v1/payment_methods", method="POST",
                                         data=urllib.parse.urlencode(fields).encode())
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = create({"key": app.config["STRIPE_PUBLISHABLE_KEY"], **card})
    assert status == 200 and body["id"].startswith("pm_") and body["card"]["last4"] == "4242"
    assert create(card)[0] == 401  # no key: still refused
    assert create({"key": "sk_not_a_publishable_key", **card})[0] == 401
