"""What Stripe tells us, applied exactly once and in any order.

Each event id is stored in the same transaction as its effect, so a replay is a no-op; effects
themselves are keyed (credits by order or invoice, refunds by Stripe's refund id), so two different
events that mean the same thing, or a race between two deliveries, still apply once. Unknown event types are acknowledged
and ignored. Nothing slow happens here: mail goes to the outbox.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telehealth.adapters import payments as gateway
from telehealth.adapters.mail import send_mail
from telehealth.adapters.payments import timestamp
from telehealth.clock import now
from telehealth.errors import ServiceError, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.billing.billing import (
    BillingCustomer, CreditKind, Order, OrderStatus, Refund, StripeEvent, Subscription, SubscriptionStatus,
)
from telehealth.models.platform.alerts import OPS
from telehealth.services.billing import ledger, purchases, refunds
from telehealth.services.platform import alerts

log = logging.getLogger(__name__)


class MalformedEvent(ValidationFailed):
    status = 400
    code = "malformed_event"


class NotYetPlaceable(ServiceError):
    status = 409
    code = "event_not_yet_placeable"


def handle(event: dict) -> str:
    """Apply a verified event; returns "applied", "duplicate" or "ignored".

    A unique-key clash means another delivery committed first: either the same event (then it is a
    duplicate) or a row this effect also needed (then trying again sees that row and succeeds)."""
    data = event.get("data")
    if not (isinstance(event.get("id"), str) and 0 < len(event["id"]) <= 255 and isinstance(event.get("type"), str)
            and isinstance(data, dict) and isinstance(data.get("object"), dict)
            and isinstance(data["object"].get("id"), str)):
        raise MalformedEvent("The event lacks an id, a type or a data object with an id.")
    for _attempt in range(3):
        if db.session.get(StripeEvent, event["id"]) is not None:
            return "duplicate"
        handler = HANDLERS.get(event["type"])
        db.session.add(StripeEvent(id=event["id"], type=event["type"]))
        try:
            if handler is not None:
                handler(event["data"]["object"], timestamp(event.get("created")))
            db.session.commit()
            return "applied" if handler else "ignored"
        except IntegrityError:
            db.session.rollback()
            log.info("stripe event raced a concurrent delivery; trying again", extra={"event_type": event["type"]})
    raise RuntimeError("a Stripe event kept racing concurrent deliveries")  # 500: Stripe delivers it again


def grant_for(order: Order, *, period_key: str) -> None:
    for kind, count in order.grants.items():
        ledger.grant(order.patient_id, CreditKind(kind), count, key=f"{period_key}:{kind}", order_id=order.id,
                     note=f"{order.product.name}")


# Rows an event changes are read FOR UPDATE (PostgreSQL; SQLite transactions are serialized
# already): two events about one subscription, delivered at once, apply one after the other instead
# of the later write erasing the earlier (a deletion must not be undone by a "past due").
def _order_for_intent(intent: dict) -> Order | None:
    return db.session.scalar(select(Order).where(Order.stripe_payment_intent_id == intent["id"]).with_for_update())


def _order_from_metadata(intent: dict) -> Order | None:
    """An order an intent names in its metadata, though the order has moved on to a newer intent."""
    order_id = str((intent.get("metadata") or {}).get("order_id", ""))
    if not order_id.isdigit() or int(order_id) > 2**31 - 1:
        return None
    return db.session.scalar(select(Order).where(Order.id == int(order_id)).with_for_update())


def payment_intent_succeeded(intent: dict, at) -> None:
    order = _order_for_intent(intent)
    if order is None:
        # An earlier attempt of a retried order was paid after all (its cancellation lost the race):
        # the money is the order's. If the order was paid twice, staff see the log and refund one.
        order = _order_from_metadata(intent)
        if order is None:  # a subscription invoice's payment: the invoice events carry it
            return
        if order.paid_at is not None:
            log.warning("an order was paid by two payment intents", extra={"order_id": order.id})
            return
        order.status = OrderStatus.FAILED if order.status is OrderStatus.PENDING else order.status
        order.stripe_payment_intent_id = intent["id"]
    order.mark_paid(now())
    if order.paid_at is not None:  # paid now or before: the keyed grant happens once either way
        grant_for(order, period_key=f"order:{order.id}")


def payment_intent_failed(intent: dict, at) -> None:
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
        # Not ours yet (the purchase that made it has not committed): refuse, so Stripe delivers
        # it again later, rather than store it as handled and lose its effect.
        raise NotYetPlaceable("This subscription's customer is not known yet; deliver the event again later.")
    return purchases.upsert_subscription(stripe_subscription_id, customer.patient_id,
                                         purchases.maintenance_product().id)


def _invoice_order(invoice: dict, subscription: Subscription) -> Order:
    order = db.session.scalar(select(Order).where(Order.stripe_invoice_id == invoice["id"]).with_for_update())
    if order is None:
        amount = invoice.get("amount_paid") or invoice.get("amount_due") or invoice.get("total") or 0
        if not isinstance(amount, int) or not 0 <= amount <= 10_000_000:
            raise MalformedEvent("The invoice's amount is not a sane number of cents.")
        order = Order(patient_id=subscription.patient_id, product_id=subscription.product_id, amount_cents=amount,
                      currency=str(invoice.get("currency", "usd"))[:3], grants=dict(subscription.product.grants),
                      stripe_invoice_id=invoice["id"], subscription_id=subscription.id, status=OrderStatus.PENDING)
        db.session.add(order)
        db.session.flush()
    return order


def _period_end(invoice: dict) -> datetime | None:
    lines = (invoice.get("lines") or {}).get("data") or []
    first = lines[0] if lines and isinstance(lines[0], dict) else {}
    return timestamp((first.get("period") or {}).get("end") if first else invoice.get("period_end"))


def invoice_paid(invoice: dict, at) -> None:
    """A month of maintenance: its credits, once per invoice."""
    subscription = _subscription_for(invoice.get("subscription"), invoice.get("customer"))
    if subscription is None:
        return
    order = _invoice_order(invoice, subscription)
    order.mark_paid(now())
    grant_for(order, period_key=f"invoice:{invoice['id']}")
    purchases.apply_remote_state(subscription, "active", _period_end(invoice), subscription.cancel_at_period_end,
                                 as_of=at)


def invoice_failed(invoice: dict, at) -> None:
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


def subscription_deleted(sub: dict, at) -> None:
    subscription = _subscription_for(sub["id"], sub.get("customer"))
    if subscription is not None and subscription.status is not SubscriptionStatus.CANCELED:
        subscription.status = SubscriptionStatus.CANCELED
        subscription.canceled_at = now()


def subscription_updated(sub: dict, at) -> None:
    subscription = _subscription_for(sub["id"], sub.get("customer"))
    if subscription is not None:
        purchases.apply_remote_state(subscription, str(sub.get("status", "")), timestamp(sub.get("current_period_end")),
                                     bool(sub.get("cancel_at_period_end")), as_of=at)


def charge_refunded(charge: dict, at) -> None:
    """Refunds made outside the app (Stripe's dashboard, or one of ours whose answer was lost):
    the money is recorded on the order and unused credits worth it are taken back, so a
    self-service refund cannot pay the same credits out twice."""
    _apply_refunds_of(charge["id"], charge.get("payment_intent"), charge.get("invoice"))


def refund_changed(refund: dict, at) -> None:
    """`refund.created`, `refund.updated`, `charge.refund.updated`: the refund's charge is read again
    (a refund is often `pending` first and may then fail)."""
    if isinstance(refund.get("charge"), str):
        _apply_refunds_of(refund["charge"], refund.get("payment_intent"), None)


# A refund that has not failed counts (pending ones too: credits are taken back at once, the safe
# side); a refund that fails or is canceled later gives its money and credits back.
_NOT_REFUNDED = frozenset({"failed", "canceled"})


def _apply_refunds_of(charge_id: str, intent_id, invoice_id) -> None:
    """Stripe is asked for the charge's refunds (a Charge no longer embeds them since API version
    2022-11-15, and the list is paged); each refund is applied once, by its own id, oldest first:
    events arrive in any order, repeated."""
    order = None
    if isinstance(intent_id, str):
        order = db.session.scalar(select(Order).where(Order.stripe_payment_intent_id == intent_id).with_for_update())
    if order is None and isinstance(invoice_id, str):  # a maintenance month's charge
        order = db.session.scalar(select(Order).where(Order.stripe_invoice_id == invoice_id).with_for_update())
    listed = None
    if order is None:  # a charge whose refunds we made (a staff refund of a maintenance month)?
        try:
            listed = gateway.charge_refunds(charge_id)
        except gateway.PaymentProviderUnavailable:
            listed = []
        ours = db.session.scalar(select(Refund.order_id).where(
            Refund.stripe_refund_id.in_([r.id for r in listed])).limit(1)) if listed else None
        if ours is not None:
            order = db.session.scalar(select(Order).where(Order.id == ours).with_for_update())
    if order is None:
        # Not one we can place (e.g. an invoice's charge under an API version that no longer names
        # the invoice): never skipped silently, ops look at it by hand.
        log.warning("a refunded charge matches no order", extra={"charge_id": charge_id[:100]})
        alerts.raise_once(f"refund_unmatched:{charge_id[:60]}", kind="refund_unmatched", urgency="routine",
                          recipient=OPS, summary=f"Stripe refunded charge {charge_id[:100]}, which matches no "
                          "order here: check whether credits must be taken back by hand.")
        return
    if listed is None:
        listed = gateway.charge_refunds(charge_id)
    for refund in sorted(listed, key=lambda r: (r.created, r.id)):
        known = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == refund.id))
        counts = refund.status not in _NOT_REFUNDED
        if known is None:
            if counts:
                refunds.record_outside_refund(order, refund.id, refund.amount_cents)
        elif (known.order_id, known.amount_cents) != (order.id, refund.amount_cents):
            # Never skipped quietly: our record and Stripe's disagree about money (a 500, logged;
            # Stripe delivers the event again while someone looks).
            raise refunds.RefundMismatch(f"refund {refund.id} is recorded with another order or amount")
        elif not counts:
            refunds.reverse_failed_refund(order, known, refund.status)


HANDLERS = {
    "payment_intent.succeeded": payment_intent_succeeded,
    "payment_intent.payment_failed": payment_intent_failed,
    "invoice.payment_succeeded": invoice_paid,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_failed,
    "customer.subscription.deleted": subscription_deleted,
    "customer.subscription.updated": subscription_updated,
    "charge.refunded": charge_refunded,
    "refund.created": refund_changed,
    "refund.updated": refund_changed,
    "refund.failed": refund_changed,
    "charge.refund.updated": refund_changed,
}
