"""What Stripe tells us, applied exactly once and in any order.

Each event id is stored in the same transaction as its effect, so a replay is a no-op; effects
themselves are keyed (credits by order or invoice), so two different events that mean the same
thing, or a race between two deliveries, still grant once. Unknown event types are acknowledged
and ignored. Nothing slow happens here: mail goes to the outbox.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telehealth.adapters.mail import send_mail
from telehealth.clock import UTC, now
from telehealth.errors import ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts import User
from telehealth.models.billing import (
    BillingCustomer, CreditKind, Order, OrderStatus, Refund, StripeEvent, Subscription, SubscriptionStatus,
)
from telehealth.services import ledger, purchases

log = logging.getLogger(__name__)


class MalformedEvent(ValidationFailed):
    status = 400
    code = "malformed_event"


def handle(event: dict) -> str:
    """Apply a verified event; returns "applied", "duplicate" or "ignored".

    A unique-key clash means another delivery committed first: either the same event (then it is a
    duplicate) or a row this effect also needed (then trying again sees that row and succeeds)."""
    if not (isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
            and isinstance((event.get("data") or {}).get("object"), dict)):
        raise MalformedEvent("The event lacks an id, a type or a data object.")
    for _attempt in range(3):
        if db.session.get(StripeEvent, event["id"]) is not None:
            return "duplicate"
        handler = HANDLERS.get(event["type"])
        db.session.add(StripeEvent(id=event["id"], type=event["type"]))
        try:
            if handler is not None:
                handler(event["data"]["object"])
            db.session.commit()
            return "applied" if handler else "ignored"
        except IntegrityError:
            db.session.rollback()
            log.info("stripe event raced a concurrent delivery; trying again", extra={"event_type": event["type"]})
    raise RuntimeError("a Stripe event kept racing concurrent deliveries")  # 500: Stripe delivers it again


def grant_for(order: Order, *, period_key: str) -> None:
    for kind, count in order.product.grants.items():
        ledger.grant(order.patient_id, CreditKind(kind), count, key=f"{period_key}:{kind}", order_id=order.id,
                     note=f"{order.product.name}")


# Rows an event changes are read FOR UPDATE (PostgreSQL; SQLite transactions are serialized
# already): two events about one subscription, delivered at once, apply one after the other instead
# of the later write erasing the earlier (a deletion must not be undone by a "past due").
def _order_for_intent(intent: dict) -> Order | None:
    return db.session.scalar(select(Order).where(Order.stripe_payment_intent_id == intent["id"]).with_for_update())


def payment_intent_succeeded(intent: dict) -> None:
    order = _order_for_intent(intent)
    if order is None:  # a subscription invoice's payment: the invoice events carry it
        return
    order.mark_paid(now())
    if order.paid_at is not None:  # paid now or before: the keyed grant happens once either way
        grant_for(order, period_key=f"order:{order.id}")


def payment_intent_failed(intent: dict) -> None:
    order = _order_for_intent(intent)
    if order is None:
        return
    if order.move_to(OrderStatus.FAILED):
        error = intent.get("last_payment_error") or {}
        order.failure_message = (error.get("message") or "The payment failed.")[:300]


def _subscription_for(stripe_subscription_id: str | None, customer_id: str | None) -> Subscription | None:
    if not stripe_subscription_id:
        return None
    found = db.session.scalar(select(Subscription).where(
        Subscription.stripe_subscription_id == stripe_subscription_id).with_for_update())
    if found is not None:
        return found
    # The webhook beat the API answer: the customer tells us whose it is.
    customer = db.session.scalar(select(BillingCustomer).where(BillingCustomer.stripe_customer_id == customer_id))
    if customer is None:
        log.warning("stripe subscription for an unknown customer", extra={"subscription": stripe_subscription_id})
        return None
    return purchases.upsert_subscription(stripe_subscription_id, customer.patient_id,
                                         purchases.maintenance_product().id)


def _invoice_order(invoice: dict, subscription: Subscription) -> Order:
    order = db.session.scalar(select(Order).where(Order.stripe_invoice_id == invoice["id"]).with_for_update())
    if order is None:
        order = Order(patient_id=subscription.patient_id, product_id=subscription.product_id,
                      amount_cents=invoice.get("amount_paid") or invoice.get("amount_due") or invoice["total"],
                      currency=invoice.get("currency", "usd"), stripe_invoice_id=invoice["id"],
                      subscription_id=subscription.id, status=OrderStatus.PENDING)
        db.session.add(order)
        db.session.flush()
    return order


def _period_end(invoice: dict) -> datetime | None:
    lines = (invoice.get("lines") or {}).get("data") or []
    end = lines[0].get("period", {}).get("end") if lines else invoice.get("period_end")
    return datetime.fromtimestamp(end, UTC) if end else None


def invoice_paid(invoice: dict) -> None:
    """A month of maintenance: its credits, once per invoice."""
    subscription = _subscription_for(invoice.get("subscription"), invoice.get("customer"))
    if subscription is None:
        return
    order = _invoice_order(invoice, subscription)
    order.mark_paid(now())
    grant_for(order, period_key=f"invoice:{invoice['id']}")
    purchases.apply_remote_state(subscription, "active", _period_end(invoice), subscription.cancel_at_period_end)


def invoice_failed(invoice: dict) -> None:
    subscription = _subscription_for(invoice.get("subscription"), invoice.get("customer"))
    if subscription is None:
        return
    order = _invoice_order(invoice, subscription)
    if not order.move_to(OrderStatus.FAILED):
        return  # already failed (told once) or paid after all
    if subscription.status is not SubscriptionStatus.CANCELED:  # whichever event came first
        subscription.status = SubscriptionStatus.PAST_DUE
    patient = db.session.get(User, subscription.patient_id)
    send_mail(patient.email, "We could not take your monthly payment",
              "Your monthly payment did not go through. Please log in to update your payment method "
              "or to see your options; you can cancel in one step there too.", kind="payment_failed")


def subscription_deleted(sub: dict) -> None:
    subscription = _subscription_for(sub["id"], sub.get("customer"))
    if subscription is not None and subscription.status is not SubscriptionStatus.CANCELED:
        subscription.status = SubscriptionStatus.CANCELED
        subscription.canceled_at = now()


def subscription_updated(sub: dict) -> None:
    subscription = _subscription_for(sub["id"], sub.get("customer"))
    if subscription is not None:
        end = sub.get("current_period_end")
        purchases.apply_remote_state(subscription, sub.get("status", ""),
                                     datetime.fromtimestamp(end, UTC) if end else None,
                                     bool(sub.get("cancel_at_period_end")))


def charge_refunded(charge: dict) -> None:
    """Refunds made outside the app (Stripe's dashboard): the money is recorded on the order."""
    order = db.session.scalar(select(Order).where(Order.stripe_payment_intent_id == charge.get("payment_intent")))
    if order is None:
        return
    for refund in (charge.get("refunds") or {}).get("data") or []:
        if db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == refund["id"])) is None:
            order.record_refund(refund["amount"])
            db.session.add(Refund(order_id=order.id, amount_cents=refund["amount"], stripe_refund_id=refund["id"],
                                  reason="Refunded in Stripe"))


HANDLERS = {
    "payment_intent.succeeded": payment_intent_succeeded,
    "payment_intent.payment_failed": payment_intent_failed,
    "invoice.payment_succeeded": invoice_paid,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_failed,
    "customer.subscription.deleted": subscription_deleted,
    "customer.subscription.updated": subscription_updated,
    "charge.refunded": charge_refunded,
}
