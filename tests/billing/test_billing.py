"""Packages and payments end to end: the real Stripe SDK against a localstripe server, whose signed
webhooks reach the app over HTTP. Each test commits for real (webhooks arrive on another thread)."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import time
from datetime import timedelta

import pytest
import stripe
import time_machine
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    Assessment, AssessmentStatus, AuditEvent, BillingCustomer, ClinicalAlert, CreditEntry, CreditKind, EntryType, Order, OrderStatus,
    OutboxMail, Product, Refund, ReviewStatus, StripeEvent, Subscription,
)
from telehealth.services.billing import catalog
from tests.conftest import PASSWORD, error_of, wait_until


# --------------------------------------------------------------------------- set-up


@pytest.fixture
def shop(app, committed, create_user_committed):
    catalog.seed_catalog()
    create_user_committed("physician", states=["NY"])
    return app


@pytest.fixture
def create_user_committed(committed):
    """create_user for committed tests (the `create_user` fixture lives in a rolled-back transaction)."""
    from tests.conftest import _make_user

    return lambda role="patient", **fields: _make_user(committed, role, **fields)


def _screened(db, patient, *, outcome="likely_candidate", review=ReviewStatus.PENDING):
    at = now()
    db.session.add(Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                              patient_id=patient.id, answers={}, submitted_at=at, outcome=outcome, reasons=[],
                              review_status=review, review_due_at=at + timedelta(hours=24)))
    db.session.commit()


@pytest.fixture
def buyer(shop, committed, create_user_committed):
    """A NY patient with a screening that allows buying, logged in on a test client."""
    patient = create_user_committed("patient")
    _screened(committed, patient)
    client = shop.test_client()
    assert client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD}).status_code == 200
    client.patient = patient
    return client


def _stripe(app) -> stripe.StripeClient:
    return stripe.StripeClient(app.config["STRIPE_SECRET_KEY"], base_addresses={"api": app.config["STRIPE_API_BASE"]},
                               max_network_retries=0)


def _credits(client) -> dict:
    return client.get("/api/v1/me/credits").get_json()["balances"]


def _buy(client, product="starter", payment_method="pm_card_visa"):
    r = client.post("/api/v1/orders", json={"product": product})
    assert r.status_code == 201, r.get_json()
    order = r.get_json()["order"]
    r = client.post(f"/api/v1/orders/{order['id']}/confirm", json={"payment_method": payment_method})
    return order, r


def _order(client, order_id):
    return client.get(f"/api/v1/orders/{order_id}").get_json()


# --------------------------------------------------------------------------- catalog and purchase


def test_catalog_prices_are_the_products(client):
    from telehealth.services.billing.catalog import DEFAULT_CATALOG

    catalog.seed_catalog()
    items = {p["code"]: p for p in client.get("/api/v1/catalog").get_json()["items"]}
    assert {code: p["price_cents"] for code, p in items.items()} == {
        "starter": 19900, "three_month": 24900, "maintenance": 14900, "coaching_30": 7900, "coaching_60": 11900}
    assert items["starter"]["grants"] == {"consult": 1, "medication_session": 1, "coaching_30": 1}
    assert items["maintenance"]["kind"] == "subscription" and len(items) == len(DEFAULT_CATALOG)


def test_purchase_to_credits_through_stripe_and_its_webhook(app, buyer, stripe_webhooks, committed):
    r = buyer.post("/api/v1/orders", json={"product": "starter"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["order"]["amount_cents"] == 19900 and body["order"]["status"] == "pending"
    intent = _stripe(app).v1.payment_intents.retrieve(
        committed.session.get(Order, body["order"]["id"]).stripe_payment_intent_id)
    assert body["client_secret"] == intent.client_secret and body["client_secret"].startswith(f"{intent.id}_secret_")
    assert intent.amount == 19900 and intent.metadata["order_id"] == str(body["order"]["id"])

    r = buyer.post(f"/api/v1/orders/{body['order']['id']}/confirm", json={"payment_method": "pm_card_visa"})
    assert r.status_code == 200
    wait_until(lambda: _order(buyer, body["order"]["id"])["status"] == "paid")
    assert _credits(buyer) == {"consult": 1, "medication_session": 1, "coaching_30": 1, "coaching_60": 0,
                               "follow_up": 0}
    # a second purchase reuses the patient's Stripe customer
    _buy(buyer, "coaching_60")
    assert committed.session.scalar(select(func.count()).select_from(BillingCustomer)) == 1
    wait_until(lambda: _credits(buyer)["coaching_60"] == 1)


def test_a_payment_intent_stripe_lost_is_not_the_patients_card_and_stripes_code_is_logged(
        app, buyer, committed, caplog):
    import logging
    import urllib.request

    r = buyer.post("/api/v1/orders", json={"product": "starter"})
    order = r.get_json()["order"]
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    gone = urllib.request.Request(f"{app.config['STRIPE_API_BASE']}/v1/payment_intents/{intent_id}", method="DELETE",
                                  headers={"Authorization": f"Bearer {app.config['STRIPE_SECRET_KEY']}"})
    urllib.request.urlopen(gone, timeout=10).close()  # Stripe no longer knows the order's intent
    with caplog.at_level(logging.WARNING, logger="telehealth.adapters.payments"):
        r = buyer.post(f"/api/v1/orders/{order['id']}/confirm", json={"payment_method": "pm_card_visa"})
    assert r.status_code == 503 and error_of(r)["code"] == "payment_provider_unavailable", r.get_json()
    [warning] = [rec for rec in caplog.records if rec.name == "telehealth.adapters.payments"]
    assert warning.levelname == "WARNING" and warning.http_status == 404 and warning.stripe_type
    assert buyer.patient.email not in warning.getMessage() + str(vars(warning))


def test_an_unknown_payment_method_is_the_patients_input_not_an_outage(app, buyer, stripe_webhooks):
    """Stripe answers 404 for a PaymentMethod id it does not know: a field error on payment_method
    (try another card), not a 503 "try again shortly"."""
    order, r = _buy(buyer, payment_method="pm_madeUpByTheClient123")
    assert r.status_code == 422, r.get_json()
    error = error_of(r)
    assert error["code"] == "unknown_payment_method" and list(error["fields"]) == ["payment_method"]
    assert "again shortly" not in error["message"]
    assert _order(buyer, order["id"])["status"] == "pending"  # nothing was charged; another card may pay it
    r = buyer.post(f"/api/v1/orders/{order['id']}/confirm", json={"payment_method": "pm_card_visa"})
    assert r.status_code == 200, r.get_json()
    wait_until(lambda: _order(buyer, order["id"])["status"] == "paid")
    r = buyer.post("/api/v1/me/subscription", json={"payment_method": "pm_madeUpByTheClient456"})
    assert r.status_code == 422 and list(error_of(r)["fields"]) == ["payment_method"], r.get_json()
    assert buyer.get("/api/v1/me/subscription").status_code == 404


def test_a_declined_card_is_a_402_and_grants_nothing(app, buyer, stripe_webhooks):
    order, r = _buy(buyer, payment_method="pm_card_chargeCustomerFail")
    assert r.status_code == 402 and error_of(r)["code"] == "payment_declined"
    wait_until(lambda: _order(buyer, order["id"])["status"] == "failed")
    assert sum(_credits(buyer).values()) == 0
    # the patient retries with another card: the same order gets paid
    r = buyer.post(f"/api/v1/orders/{order['id']}/confirm", json={"payment_method": "pm_card_visa"})
    assert r.status_code == 200
    wait_until(lambda: _order(buyer, order["id"])["status"] == "paid")
    assert _credits(buyer)["consult"] == 1


@pytest.mark.parametrize("body, field", [
    ({"product": "starter", "amount_cents": 1}, "amount_cents"),
    ({"product": "starter", "price": 100}, "price"),
    ({"product": "diamond"}, "product"),
    ({}, "product"),
])
def test_tampered_purchases_are_refused(buyer, committed, body, field):
    r = buyer.post("/api/v1/orders", json=body)
    assert r.status_code == 422 and field in error_of(r)["fields"]
    assert committed.session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("setup, message", [
    (lambda db, p: None, "screening"),
    (lambda db, p: _screened(db, p, outcome="not_eligible"), "not safe"),
    (lambda db, p: _screened(db, p, outcome="crisis"), "safety"),
    (lambda db, p: _screened(db, p, review=ReviewStatus.DECLINED), "reviewed"),
])
def test_patients_who_may_not_buy_are_refused(shop, committed, create_user_committed, setup, message):
    patient = create_user_committed("patient")
    setup(committed, patient)
    client = shop.test_client()
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = client.post("/api/v1/orders", json={"product": "starter"})
    assert r.status_code == 409 and error_of(r)["code"] == "purchase_not_allowed"
    assert message in error_of(r)["message"]
    assert committed.session.scalar(select(func.count()).select_from(Order)) == 0
    assert committed.session.scalar(select(func.count()).select_from(BillingCustomer)) == 0


def test_a_patient_in_an_unserviced_state_is_refused(shop, committed, create_user_committed):
    patient = create_user_committed("patient", state="WY")
    _screened(committed, patient, review=ReviewStatus.APPROVED)
    client = shop.test_client()
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = client.post("/api/v1/orders", json={"product": "starter"})
    assert r.status_code == 409 and "WY" in error_of(r)["message"]
    assert committed.session.scalar(select(func.count()).select_from(Order)) == 0
    assert committed.session.scalar(select(func.count()).select_from(BillingCustomer)) == 0


def test_a_new_screening_does_not_undo_a_declined_one_and_an_open_crisis_blocks(shop, committed,
                                                                                create_user_committed):
    from telehealth.models import ClinicalAlert

    patient = create_user_committed("patient")
    _screened(committed, patient, review=ReviewStatus.DECLINED)
    _screened(committed, patient)  # taken again, still waiting for review
    client = shop.test_client()
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = client.post("/api/v1/orders", json={"product": "starter"})
    assert r.status_code == 409 and "review your new screening" in error_of(r)["message"]
    _screened(committed, patient, review=ReviewStatus.APPROVED)
    assert client.post("/api/v1/orders", json={"product": "coaching_30"}).status_code == 201
    committed.session.add(ClinicalAlert(kind="crisis", urgency="urgent", patient_id=patient.id, summary="retake"))
    committed.session.commit()
    r = client.post("/api/v1/orders", json={"product": "coaching_30"})
    assert r.status_code == 409 and "safety" in error_of(r)["message"]


def test_maintenance_is_not_bought_as_an_order(buyer):
    r = buyer.post("/api/v1/orders", json={"product": "maintenance"})
    assert r.status_code == 409


# --------------------------------------------------------------------------- webhooks


def _sign(app, payload: bytes, at: int | None = None) -> str:
    at = at or int(time.time())
    signature = hmac.new(app.config["STRIPE_WEBHOOK_SECRET"].encode(), b"%d.%s" % (at, payload), hashlib.sha256)
    return f"t={at},v1={signature.hexdigest()}"


def _events_for(app, intent_id: str) -> list[dict]:
    found = []
    for kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        page = _stripe(app).v1.events.list(params={"limit": 100, "type": kind})
        found += [e.to_dict() for e in page.auto_paging_iter() if e.data.object.id == intent_id]
    return found


def test_every_webhook_of_a_purchase_replayed_20_times_in_any_order_grants_once(app, buyer, committed):
    order, r = _buy(buyer, payment_method="pm_card_chargeCustomerFail")  # a failure first...
    assert r.status_code == 402
    failed_intent = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    assert buyer.post(f"/api/v1/orders/{order['id']}/confirm", json={"payment_method": "pm_card_visa"}).status_code == 200
    committed.session.expire_all()
    paid_intent = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    assert paid_intent != failed_intent  # a retry is a new PaymentIntent for the same order

    def all_events():
        found = _events_for(app, failed_intent) + _events_for(app, paid_intent)
        return found if len(found) >= 2 else None

    events = wait_until(all_events)
    assert {e["type"] for e in events} >= {"payment_intent.payment_failed", "payment_intent.succeeded"}

    deliveries = [e for e in events for _ in range(20)]
    random.Random(7).shuffle(deliveries)
    webhook = app.test_client()
    outcomes = []
    for event in deliveries:
        payload = json.dumps(event).encode()
        r = webhook.post("/webhooks/stripe", data=payload, content_type="application/json",
                         headers={"Stripe-Signature": _sign(app, payload)})
        assert r.status_code == 200, r.get_json()
        outcomes.append(r.get_json()["message"])
    assert outcomes.count("applied") == len(events) and outcomes.count("duplicate") == 19 * len(events)
    assert _order(buyer, order["id"])["status"] == "paid"
    # a failure reported for the very intent that paid, arriving late, never unpays it
    succeeded = next(e for e in events if e["type"] == "payment_intent.succeeded")
    late_failure = {**succeeded, "id": "evt_late_failure", "type": "payment_intent.payment_failed"}
    payload = json.dumps(late_failure).encode()
    assert webhook.post("/webhooks/stripe", data=payload, content_type="application/json",
                        headers={"Stripe-Signature": _sign(app, payload)}).get_json()["message"] == "applied"
    assert _order(buyer, order["id"])["status"] == "paid"
    assert _credits(buyer) == {"consult": 1, "medication_session": 1, "coaching_30": 1, "coaching_60": 0,
                               "follow_up": 0}
    grants = committed.session.scalar(select(func.count()).select_from(CreditEntry))
    assert grants == 3


@pytest.mark.parametrize("signature", [None, "t=1,v1=deadbeef", "garbage"])
def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(app, committed, signature):
    payload = json.dumps({"id": "evt_forged", "type": "payment_intent.succeeded",
                          "data": {"object": {"id": "pi_x"}}}).encode()
    headers = {"Stripe-Signature": signature} if signature else {}
    r = app.test_client().post("/webhooks/stripe", data=payload, content_type="application/json", headers=headers)
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_signature"
    assert committed.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_a_stale_signature_is_refused(app, committed):
    payload = json.dumps({"id": "evt_old", "type": "customer.created", "data": {"object": {}}}).encode()
    r = app.test_client().post("/webhooks/stripe", data=payload, content_type="application/json",
                               headers={"Stripe-Signature": _sign(app, payload, at=int(time.time()) - 3600)})
    assert r.status_code == 400


def test_unknown_event_types_are_acknowledged_and_ignored(app, committed):
    payload = json.dumps({"id": "evt_new_kind", "type": "radar.early_fraud_warning.created",
                          "data": {"object": {"id": "x"}}}).encode()
    r = app.test_client().post("/webhooks/stripe", data=payload, content_type="application/json",
                               headers={"Stripe-Signature": _sign(app, payload)})
    assert r.status_code == 200 and r.get_json()["message"] == "ignored"


# --------------------------------------------------------------------------- subscription


def _invoice_and_pay(app, subscription_id: str, customer_id: str):
    client = _stripe(app)
    invoice = client.v1.invoices.create(params={"customer": customer_id, "subscription": subscription_id})
    try:
        client.v1.invoices.pay(invoice.id)
    except stripe.CardError:
        pass
    return invoice.id


def test_maintenance_subscription_renewal_failure_and_one_step_cancellation(app, buyer, stripe_webhooks, committed):
    r = buyer.post("/api/v1/me/subscription", json={"payment_method": "pm_card_visa"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "active"
    wait_until(lambda: _credits(buyer)["follow_up"] == 1)
    assert _credits(buyer)["medication_session"] == 1
    assert buyer.post("/api/v1/me/subscription", json={"payment_method": "pm_card_visa"}).status_code == 409

    subscription = committed.session.scalar(select(Subscription))
    customer = committed.session.scalar(select(BillingCustomer)).stripe_customer_id
    _invoice_and_pay(app, subscription.stripe_subscription_id, customer)  # the next month
    wait_until(lambda: _credits(buyer)["follow_up"] == 2)
    paid_months = [o for o in buyer.get("/api/v1/me/orders").get_json()["items"] if o["product"] == "maintenance"]
    assert len(paid_months) == 2 and all(o["amount_cents"] == 14900 for o in paid_months)

    # leaving is one request, no survey: it ends when the paid month ends
    r = buyer.post("/api/v1/me/subscription/cancel", json={})
    assert r.status_code == 200 and r.get_json()["cancel_at_period_end"] is True
    assert _stripe(app).v1.subscriptions.retrieve(subscription.stripe_subscription_id).cancel_at_period_end is True

    # the payment method stops working: the month fails, the patient is told, nothing is granted
    # (localstripe reports a renewal failure for a debit that bounces, its failing test IBAN, and
    # then ends the subscription, as Stripe does for a bounced SEPA debit)
    failing = _stripe(app).v1.payment_methods.create(params={"type": "sepa_debit", "sepa_debit": {
        "iban": "DE62370400440532013001"}})
    _stripe(app).v1.payment_methods.attach(failing.id, params={"customer": customer})
    _stripe(app).v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": failing.id}})
    _invoice_and_pay(app, subscription.stripe_subscription_id, customer)

    def failure_mail():
        committed.session.expire_all()
        return committed.session.scalar(select(OutboxMail).where(OutboxMail.kind == "payment_failed"))

    mail = wait_until(failure_mail)
    assert mail.to_address == buyer.patient.email and "ketamine" not in mail.body.lower()
    statuses = sorted(o["status"] for o in buyer.get("/api/v1/me/orders").get_json()["items"])
    assert statuses == ["failed", "paid", "paid"]
    assert _credits(buyer)["follow_up"] == 2
    wait_until(lambda: buyer.get("/api/v1/me/subscription").status_code == 404)  # ended by Stripe
    committed.session.expire_all()
    assert committed.session.scalar(select(Subscription)).status.value == "canceled"


# --------------------------------------------------------------------------- refunds


def _paid(client, product="starter"):
    order, r = _buy(client, product)
    assert r.status_code == 200
    wait_until(lambda: _order(client, order["id"])["status"] == "paid")
    return order


def test_self_service_refund_of_unused_credits_pro_rata(app, buyer, stripe_webhooks, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    order = _paid(buyer)
    ledger.debit(buyer.patient.id, CreditKind.CONSULT, key="booking:test:1", note="consult booked")
    committed.session.commit()
    quote = buyer.get(f"/api/v1/orders/{order['id']}/refund-quote").get_json()
    assert quote["refundable"] is True and quote["amount_cents"] == 19900 * 2 // 3
    assert quote["unused"] == {"medication_session": 1, "coaching_30": 1}
    r = buyer.post(f"/api/v1/orders/{order['id']}/refund", json={})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "partially_refunded" and body["refunded_cents"] == 13266
    assert sum(_credits(buyer).values()) == 0
    refund = _stripe(app).v1.refunds.list(params={"limit": 10}).data[0]
    assert refund.amount == 13266
    again = buyer.post(f"/api/v1/orders/{order['id']}/refund", json={})
    assert again.status_code == 409  # nothing unused is left


def test_refunds_outside_the_policy_are_refused(app, buyer, stripe_webhooks, committed):
    starter, coaching = _paid(buyer), _paid(buyer, "coaching_30")
    r = buyer.post(f"/api/v1/orders/{coaching['id']}/refund", json={})
    assert r.status_code == 409 and error_of(r)["code"] == "refund_not_allowed"
    with time_machine.travel(now() + timedelta(days=app.config["REFUND_WINDOW_DAYS"] + 1)):
        buyer.post("/api/v1/auth/login", json={"email": buyer.patient.email, "password": PASSWORD})
        r = buyer.post(f"/api/v1/orders/{starter['id']}/refund", json={})
        assert r.status_code == 409 and "30 days" in error_of(r)["message"]
        assert sum(_credits(buyer).values()) == 4
    assert committed.session.scalar(select(Order).where(Order.id == starter["id"])).refunded_cents == 0


def test_staff_refund_any_order_with_a_reason(app, buyer, stripe_webhooks, committed, create_user_committed):
    order = _paid(buyer, "coaching_60")
    ops = create_user_committed("ops")
    staff = app.test_client()
    staff.post("/api/v1/auth/login", json={"email": ops.email, "password": PASSWORD})
    r = staff.post(f"/api/v1/admin/orders/{order['id']}/refund", json={"amount_cents": 20000, "reason": "goodwill"})
    assert r.status_code == 422 and "amount_cents" in error_of(r)["fields"]
    r = staff.post(f"/api/v1/admin/orders/{order['id']}/refund", json={"amount_cents": 11900, "reason": "goodwill"})
    assert r.status_code == 200 and r.get_json()["status"] == "refunded"
    assert _credits(buyer)["coaching_60"] == 0  # a full refund takes back the unused credit
    event = committed.session.scalar(select(AuditEvent).where(AuditEvent.resource_type == "refund"))
    assert event.actor_id == ops.id and event.patient_id == buyer.patient.id
    r = buyer.post(f"/api/v1/admin/orders/{order['id']}/refund", json={"amount_cents": 1, "reason": "mine"})
    assert r.status_code == 403


def test_an_order_paid_outside_stripe_is_not_refundable_here_a_clear_409(app, buyer, committed,
                                                                       create_user_committed):
    """A demo (seeded) order has no PaymentIntent: nothing at Stripe to refund, said plainly."""
    from telehealth.services.billing import ledger

    product = committed.session.scalar(select(Product).where(Product.code == "starter"))
    order = Order(patient_id=buyer.patient.id, product_id=product.id, amount_cents=product.price_cents,
                  currency="usd", grants=dict(product.grants), status=OrderStatus.PENDING)
    committed.session.add(order)
    committed.session.flush()
    order.mark_paid(now())
    for kind, count in order.grants.items():
        ledger.grant(buyer.patient.id, CreditKind(kind), count, key=f"seed:{order.id}:{kind}", order_id=order.id)
    committed.session.commit()
    quote = buyer.get(f"/api/v1/orders/{order.id}/refund-quote").get_json()
    assert quote["refundable"] is False and "Stripe" in quote["reason"]
    r = buyer.post(f"/api/v1/orders/{order.id}/refund", json={})
    assert r.status_code == 409 and error_of(r)["code"] == "refund_not_allowed", r.get_json()
    staff = app.test_client()
    staff.post("/api/v1/auth/login", json={"email": create_user_committed("ops").email, "password": PASSWORD})
    r = staff.post(f"/api/v1/admin/orders/{order.id}/refund", json={"amount_cents": 100, "reason": "goodwill"})
    assert r.status_code == 409 and error_of(r)["code"] == "no_payment_to_refund", r.get_json()
    assert _order(buyer, order.id)["refunded_cents"] == 0 and sum(_credits(buyer).values()) == 3


def test_a_patient_sees_only_their_own_orders(app, buyer, stripe_webhooks, create_user_committed, committed):
    order = _paid(buyer, "coaching_30")
    other = create_user_committed("patient")
    client = app.test_client()
    client.post("/api/v1/auth/login", json={"email": other.email, "password": PASSWORD})
    assert client.get(f"/api/v1/orders/{order['id']}").status_code == 404
    assert client.post(f"/api/v1/orders/{order['id']}/refund", json={}).status_code == 404
    assert client.get("/api/v1/me/orders").get_json()["items"] == []


def test_admin_changes_a_price_and_new_orders_use_it(app, buyer, committed, create_user_committed):
    admin = create_user_committed("admin")
    client = app.test_client()
    client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    r = client.patch("/api/v1/admin/products/coaching_30", json={"price_cents": 8900})
    assert r.status_code == 200 and r.get_json()["price_cents"] == 8900
    r = client.patch("/api/v1/admin/products/coaching_30", json={"price_cents": -5})
    assert r.status_code == 422
    assert buyer.post("/api/v1/orders", json={"product": "coaching_30"}).get_json()["order"]["amount_cents"] == 8900
    assert committed.session.scalar(select(Product).where(Product.code == "coaching_30")).price_cents == 8900


@pytest.mark.parametrize("event", [{"id": "evt_1"}, {"id": "evt_2", "type": "x", "data": []},
                                   {"type": "payment_intent.succeeded", "data": {"object": {}}}, []])
def test_a_signed_but_malformed_event_is_a_400(app, committed, event):
    payload = json.dumps(event).encode()
    r = app.test_client().post("/webhooks/stripe", data=payload, content_type="application/json",
                               headers={"Stripe-Signature": _sign(app, payload)})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert committed.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_one_event_delivered_concurrently_grants_once(app, buyer, committed, live_server):
    from tests.conftest import post_concurrently

    order, r = _buy(buyer)  # confirmed at Stripe; no webhooks are delivered in this test
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    [event] = wait_until(lambda: [e for e in _events_for(app, intent_id) if e["type"] == "payment_intent.succeeded"])
    payload = json.dumps(event).encode()
    answers = post_concurrently(f"{live_server}/webhooks/stripe", [payload] * 10,
                                [{"Stripe-Signature": _sign(app, payload)} for _ in range(10)])
    assert sorted(body["message"] for _, body in answers) == ["applied"] + ["duplicate"] * 9
    assert _credits(buyer) == {"consult": 1, "medication_session": 1, "coaching_30": 1, "coaching_60": 0,
                               "follow_up": 0}


def _deliver(app, event: dict):
    payload = json.dumps(event).encode()
    return app.test_client().post("/webhooks/stripe", data=payload, content_type="application/json",
                                  headers={"Stripe-Signature": _sign(app, payload)})


def test_a_refund_made_in_stripe_is_recorded_and_cannot_be_paid_out_again(app, buyer, stripe_webhooks, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    order = _paid(buyer)
    ledger.debit(buyer.patient.id, CreditKind.CONSULT, key="booking:test:2")
    committed.session.commit()
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    refund = _stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 13266})  # the dashboard
    for _ in range(3):  # delivered more than once
        assert _deliver(app, _charge_refunded("evt_charge_refunded", intent_id, [refund])).status_code == 200
    body = _order(buyer, order["id"])
    assert body["status"] == "partially_refunded" and body["refunded_cents"] == 13266
    assert sum(_credits(buyer).values()) == 0  # the two unused credits left with the money
    quote = buyer.get(f"/api/v1/orders/{order['id']}/refund-quote").get_json()
    assert quote["refundable"] is False and quote["amount_cents"] == 0


def test_a_charge_without_an_intent_touches_no_order(app, committed):
    r = _deliver(app, {"id": "evt_invoice_charge", "type": "charge.refunded",
                       "data": {"object": {"id": "ch_x", "refunds": {"data": [{"id": "re_x", "amount": 100}]}}}})
    assert r.status_code == 200
    assert committed.session.scalar(select(func.count()).select_from(Order)) == 0
    # not skipped silently: ops are told once to check it by hand (no patient named)
    assert _deliver(app, {"id": "evt_invoice_charge_again", "type": "charge.refunded",
                          "data": {"object": {"id": "ch_x"}}}).status_code == 200
    [alert] = committed.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "refund_unmatched")).all()
    assert alert.recipient == "ops" and alert.patient_id is None and "ch_x" in alert.summary


def _race(url: str, body: dict, cookie: str, count: int) -> list[int]:
    """POST the same request from `count` threads at once; the status codes they got."""
    from tests.conftest import post_concurrently

    return sorted(code for code, _ in post_concurrently(url, [json.dumps(body).encode()] * count, {"Cookie": cookie}))


def _cookie(app, client) -> str:
    name = app.config["SESSION_COOKIE_NAME"]
    return f"{name}={client.get_cookie(name).value}"


def test_concurrent_refund_requests_pay_out_once(app, buyer, stripe_webhooks, committed, live_server):
    order = _paid(buyer)
    codes = _race(f"{live_server}/api/v1/orders/{order['id']}/refund", {}, _cookie(app, buyer), 4)
    assert codes == [200, 409, 409, 409]
    committed.session.expire_all()
    assert committed.session.get(Order, order["id"]).refunded_cents == 19900
    assert committed.session.scalar(select(func.count()).select_from(Refund)) == 1


def test_a_refund_counts_what_was_bought_not_todays_catalog(app, buyer, stripe_webhooks, committed):
    order = _paid(buyer)
    product = committed.session.scalar(select(Product).where(Product.code == "starter"))
    product.grants = {"consult": 1}  # the catalog changes after the purchase
    committed.session.commit()
    quote = buyer.get(f"/api/v1/orders/{order['id']}/refund-quote").get_json()
    assert quote["amount_cents"] == 19900 and quote["granted"] == {"consult": 1, "medication_session": 1,
                                                                    "coaching_30": 1}


def test_concurrent_subscribe_requests_start_one_subscription(app, buyer, stripe_webhooks, committed, live_server):
    codes = _race(f"{live_server}/api/v1/me/subscription", {"payment_method": "pm_card_visa"}, _cookie(app, buyer), 2)
    assert codes == [201, 409]
    assert committed.session.scalar(select(func.count()).select_from(Subscription)) == 1


def test_an_older_subscription_event_does_not_undo_a_newer_one(app, buyer, stripe_webhooks, committed):
    assert buyer.post("/api/v1/me/subscription", json={"payment_method": "pm_card_visa"}).status_code == 201
    sub_id = committed.session.scalar(select(Subscription)).stripe_subscription_id
    customer = committed.session.scalar(select(BillingCustomer)).stripe_customer_id
    newer = int(time.time()) + 60
    base = {"id": sub_id, "object": "subscription", "customer": customer, "current_period_end": newer + 86400 * 30}
    assert _deliver(app, {"id": "evt_new", "type": "customer.subscription.updated", "created": newer,
                          "data": {"object": {**base, "status": "active", "cancel_at_period_end": True}}}
                    ).status_code == 200
    assert _deliver(app, {"id": "evt_old", "type": "customer.subscription.updated", "created": newer - 30,
                          "data": {"object": {**base, "status": "past_due", "cancel_at_period_end": False}}}
                    ).status_code == 200
    state = buyer.get("/api/v1/me/subscription").get_json()
    assert state["status"] == "active" and state["cancel_at_period_end"] is True


def test_an_event_for_a_customer_not_yet_known_is_refused_so_stripe_retries(app, committed):
    r = _deliver(app, {"id": "evt_early", "type": "invoice.payment_succeeded", "data": {"object": {
        "id": "in_early", "subscription": "sub_unknown", "customer": "cus_unknown", "amount_paid": 14900}}})
    assert r.status_code == 409 and error_of(r)["code"] == "event_not_yet_placeable"
    assert committed.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


# --------------------------------------------------------------------------- refunds, each keyed by its Stripe id


def _charge_of(app, intent_id: str) -> str:
    return _stripe(app).v1.payment_intents.retrieve(intent_id).latest_charge


def _charge_refunded(event_id: str, intent_id: str, refunds, *, charge_id: str | None = None,
                     embedded: bool = False) -> dict:
    """A `charge.refunded` event as Stripe sends it since API version 2022-11-15: the charge and its
    refunded amount, its refunds not embedded (`embedded`: the old shape, listing every refund so far,
    newest first; the app reads Stripe's list either way)."""
    charge = {"id": charge_id or refunds[0].charge, "object": "charge", "payment_intent": intent_id,
              "amount_refunded": sum(r.amount for r in refunds), "refunded": False}
    if embedded:
        charge["refunds"] = {"data": [{"id": r.id, "object": "refund", "amount": r.amount, "created": r.created}
                                      for r in reversed(refunds)]}
    return {"id": event_id, "type": "charge.refunded", "data": {"object": charge}}


def _refund_entries(db, order_id: int) -> list[CreditEntry]:
    return list(db.session.scalars(select(CreditEntry).where(
        CreditEntry.order_id == order_id, CreditEntry.entry_type == EntryType.REFUND).order_by(CreditEntry.id)))


@pytest.mark.parametrize("arrival", list(itertools.permutations(range(3))))
def test_cumulative_refund_events_in_any_order_take_back_each_refunds_credits_once(app, buyer, stripe_webhooks,
                                                                                  committed, arrival):
    order = _paid(buyer, "three_month")  # 6 medication sessions and 3 follow-ups for $249
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    # three refunds made in Stripe's dashboard, each worth one credit (24900 / 9 = 2766.7)
    refunds = [_stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 2766})
               for _ in range(3)]
    events = [_charge_refunded(f"evt_refunded_{n}", intent_id, refunds[:n + 1], embedded=True) for n in range(3)]
    deliveries = [events[i] for i in arrival] + [events[i] for i in reversed(arrival)]  # each delivered twice
    outcomes = [_deliver(app, event) for event in deliveries]
    assert [r.status_code for r in outcomes] == [200] * 6, [r.get_json() for r in outcomes]
    assert [r.get_json()["message"] for r in outcomes] == ["applied"] * 3 + ["duplicate"] * 3

    body = _order(buyer, order["id"])
    assert body["status"] == "partially_refunded" and body["refunded_cents"] == 3 * 2766
    assert _credits(buyer)["follow_up"] == 0 and _credits(buyer)["medication_session"] == 6  # 3 credits paid back
    entries = _refund_entries(committed, order["id"])
    assert sorted(e.key for e in entries) == sorted(f"refund:{r.id}:follow_up" for r in refunds)
    assert [e.delta for e in entries] == [-1, -1, -1]
    assert committed.session.scalar(select(func.count()).select_from(Refund)) == 3
    quote = buyer.get(f"/api/v1/orders/{order['id']}/refund-quote").get_json()
    assert quote["unused"] == {"medication_session": 6} and quote["amount_cents"] == 24900 * 6 // 9


def test_a_self_service_refund_is_keyed_by_its_stripe_id_and_not_taken_again_by_stripes_event(
        app, buyer, stripe_webhooks, committed):
    order = _paid(buyer, "three_month")
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    dashboard = _stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 2766})
    assert _deliver(app, _charge_refunded("evt_dashboard", intent_id, [dashboard])).status_code == 200
    r = buyer.post(f"/api/v1/orders/{order['id']}/refund", json={})
    assert r.status_code == 200, r.get_json()
    mine = committed.session.scalar(select(Refund).where(Refund.actor_id == buyer.patient.id))
    # Stripe then reports both refunds on the charge: the app's own is known, nothing is taken twice
    r = _deliver(app, _charge_refunded("evt_both", intent_id, [dashboard, _stripe(app).v1.refunds.retrieve(
        mine.stripe_refund_id)]))
    assert r.status_code == 200
    assert sum(_credits(buyer).values()) == 0
    assert sorted(e.key for e in _refund_entries(committed, order["id"])) == sorted(
        [f"refund:{dashboard.id}:follow_up", f"refund:{mine.stripe_refund_id}:follow_up",
         f"refund:{mine.stripe_refund_id}:medication_session"])
    assert _order(buyer, order["id"])["refunded_cents"] == 2766 + mine.amount_cents


def test_refunds_recorded_under_the_old_keys_stand_beside_new_ones(app, buyer, stripe_webhooks, committed):
    from telehealth.models import CreditKind
    from telehealth.services.billing import ledger

    order = _paid(buyer, "three_month")
    row = committed.session.get(Order, order["id"])
    intent_id = row.stripe_payment_intent_id
    first, second = (_stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 2766})
                     for _ in range(2))
    # the first was recorded before refunds were keyed by their Stripe id: `refund:<order>:<n>:<kind>`
    row.record_refund(2766)
    ledger.take_back(row.patient_id, CreditKind.FOLLOW_UP, 1, key=f"refund:{row.id}:1:follow_up", order_id=row.id,
                     note="Refunded in Stripe")
    committed.session.add(Refund(order_id=row.id, amount_cents=2766, stripe_refund_id=first.id, reason="old"))
    committed.session.commit()
    assert _deliver(app, _charge_refunded("evt_after_upgrade", intent_id, [first, second])).status_code == 200
    assert _credits(buyer)["follow_up"] == 1 and _order(buyer, order["id"])["refunded_cents"] == 2 * 2766
    assert [e.key for e in _refund_entries(committed, order["id"])] == [
        f"refund:{row.id}:1:follow_up", f"refund:{second.id}:follow_up"]


def test_a_known_refund_reported_with_another_amount_is_an_error_not_skipped(app, buyer, stripe_webhooks, committed):
    order = _paid(buyer, "three_month")
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    refund = _stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 2766})
    assert _deliver(app, _charge_refunded("evt_first", intent_id, [refund])).status_code == 200
    recorded = committed.session.scalar(select(Refund).where(Refund.stripe_refund_id == refund.id))
    recorded.amount_cents = 5532  # our record and Stripe's now disagree
    committed.session.commit()
    assert _deliver(app, _charge_refunded("evt_other_amount", intent_id, [refund])).status_code == 500
    assert committed.session.get(StripeEvent, "evt_other_amount") is None  # Stripe will deliver it again
    assert _order(buyer, order["id"])["refunded_cents"] == 2766 and _credits(buyer)["follow_up"] == 2


def test_a_refund_event_without_embedded_refunds_takes_the_credits_back(app, buyer, stripe_webhooks, committed):
    order = _paid(buyer, "three_month")
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    refund = _stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 2766})
    event = _charge_refunded("evt_today", intent_id, [refund])
    assert "refunds" not in event["data"]["object"]
    assert _deliver(app, event).get_json()["message"] == "applied"
    assert _order(buyer, order["id"])["refunded_cents"] == 2766 and _credits(buyer)["follow_up"] == 2
    quote = buyer.get(f"/api/v1/orders/{order['id']}/refund-quote").get_json()
    assert quote["unused"] == {"medication_session": 6, "follow_up": 2}
    assert quote["amount_cents"] == 24900 * 8 // 9  # the eight unused credits, no more


def test_credits_are_counted_over_all_refunds_of_an_order_not_rounded_up_each(app, buyer, stripe_webhooks,
                                                                             committed):
    small, whole = _paid(buyer, "three_month"), _paid(buyer, "three_month")  # 9 credits each, $249
    intent_id = committed.session.get(Order, small["id"]).stripe_payment_intent_id
    dimes = [_stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 10})
             for _ in range(105)]  # more than a page of Stripe's list (100 at most)
    assert _deliver(app, _charge_refunded("evt_dimes", intent_id, dimes)).status_code == 200
    assert _order(buyer, small["id"])["refunded_cents"] == 1050
    assert -sum(e.delta for e in _refund_entries(committed, small["id"])) == 1
    assert committed.session.scalar(select(func.count()).select_from(Refund)) == 105
    whole_intent = committed.session.get(Order, whole["id"]).stripe_payment_intent_id
    one_credit = _stripe(app).v1.refunds.create(params={"payment_intent": whole_intent, "amount": 2767})
    assert _deliver(app, _charge_refunded("evt_one_credit", whole_intent, [one_credit])).status_code == 200
    assert -sum(e.delta for e in _refund_entries(committed, whole["id"])) == 1


def test_a_refund_that_fails_at_stripe_gives_its_money_and_credits_back(app, buyer, stripe_webhooks, committed):
    order = _paid(buyer, "three_month")
    intent_id = committed.session.get(Order, order["id"]).stripe_payment_intent_id
    refund = _stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 2766})
    _stripe(app).v1.refunds.update(refund.id, params={"status": "pending"})  # Stripe's refunds are often pending
    assert _deliver(app, _charge_refunded("evt_pending", intent_id, [refund])).status_code == 200
    assert _order(buyer, order["id"])["refunded_cents"] == 2766 and _credits(buyer)["follow_up"] == 2
    _stripe(app).v1.refunds.update(refund.id, params={"status": "failed"})
    updated = {"id": "evt_failed", "type": "refund.updated", "data": {"object": {
        "id": refund.id, "object": "refund", "charge": refund.charge, "payment_intent": intent_id,
        "status": "failed"}}}
    for _ in range(2):
        assert _deliver(app, {**updated}).status_code == 200
    assert _deliver(app, {**updated, "id": "evt_failed_again"}).status_code == 200
    body = _order(buyer, order["id"])
    assert body["status"] == "paid" and body["refunded_cents"] == 0
    assert _credits(buyer)["follow_up"] == 3
    assert sorted(e.key for e in committed.session.scalars(select(CreditEntry).where(
        CreditEntry.order_id == order["id"], CreditEntry.entry_type == EntryType.REFUND))) == [
        f"refund:{refund.id}:follow_up", f"refund:{refund.id}:follow_up:restore"]
    # a refund Stripe lists as failed from the start takes nothing
    failed = _stripe(app).v1.refunds.create(params={"payment_intent": intent_id, "amount": 5000})
    _stripe(app).v1.refunds.update(failed.id, params={"status": "failed"})
    assert _deliver(app, _charge_refunded("evt_failed_first", intent_id, [refund, failed])).status_code == 200
    assert _order(buyer, order["id"])["refunded_cents"] == 0 and _credits(buyer)["follow_up"] == 3


def test_a_dashboard_refund_of_a_maintenance_month_takes_back_its_unused_credits(app, buyer, stripe_webhooks,
                                                                                committed):
    assert buyer.post("/api/v1/me/subscription", json={"payment_method": "pm_card_visa"}).status_code == 201
    wait_until(lambda: _credits(buyer)["follow_up"] == 1)
    month = committed.session.scalar(select(Order).where(Order.stripe_invoice_id.is_not(None)))
    invoice = _stripe(app).v1.invoices.retrieve(month.stripe_invoice_id)
    charge_id = invoice.charge if isinstance(invoice.charge, str) else invoice.charge.id
    refund = _stripe(app).v1.refunds.create(params={"charge": charge_id})  # the whole month, in the dashboard
    event = {"id": "evt_month_refunded", "type": "charge.refunded", "data": {"object": {
        "id": charge_id, "object": "charge", "invoice": month.stripe_invoice_id, "amount_refunded": refund.amount}}}
    assert _deliver(app, event).status_code == 200
    assert _credits(buyer)["follow_up"] == 0 and _credits(buyer)["medication_session"] == 0
    assert _order(buyer, month.id)["status"] == "refunded"



def test_stripes_event_about_a_staff_refund_of_a_month_finds_its_order_without_naming_the_invoice(
        app, buyer, stripe_webhooks, committed, create_user_committed):
    assert buyer.post("/api/v1/me/subscription", json={"payment_method": "pm_card_visa"}).status_code == 201
    wait_until(lambda: _credits(buyer)["follow_up"] == 1)
    month = committed.session.scalar(select(Order).where(Order.stripe_invoice_id.is_not(None)))
    staff = app.test_client()
    staff.post("/api/v1/auth/login", json={"email": create_user_committed("ops").email, "password": PASSWORD})
    r = staff.post(f"/api/v1/admin/orders/{month.id}/refund", json={"amount_cents": 5000, "reason": "goodwill"})
    assert r.status_code == 200, r.get_json()
    refund = committed.session.scalar(select(Refund).where(Refund.order_id == month.id))
    charge_id = _stripe(app).v1.refunds.retrieve(refund.stripe_refund_id).charge
    event = {"id": "evt_staff_month", "type": "charge.refunded", "data": {"object": {
        "id": charge_id, "object": "charge", "amount_refunded": 5000}}}  # today's shape: no invoice named
    assert _deliver(app, event).status_code == 200
    assert committed.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "refund_unmatched")) is None
    assert _order(buyer, month.id)["refunded_cents"] == 5000
