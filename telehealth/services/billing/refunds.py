"""Refunds, self-served within the written policy or made by staff with a reason.

Policy (README, "Refunds"): unused credits of a refundable package (Starter, 3-Month program) are
refundable within REFUND_WINDOW_DAYS of payment, pro rata: price x unused credits / credits granted.
Consumed credits are not refundable. Credits are consumed oldest purchase first, so the unused ones
belong to the newest purchases. Staff may refund any paid order, any amount up to what remains.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from telehealth.adapters import payments as gateway
from telehealth.clock import now
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.billing.billing import CreditEntry, CreditKind, EntryType, Order, OrderStatus, Refund
from telehealth.services.billing import ledger
from telehealth.services.platform import audit
from telehealth.services.billing.purchases import get_order

log = logging.getLogger(__name__)


class RefundMismatch(RuntimeError):
    """Stripe reports a refund this app recorded with another order or amount."""


@dataclass(frozen=True)
class RefundQuote:
    order_id: int
    refundable: bool
    reason: str
    amount_cents: int
    unused: dict[str, int]
    granted: dict[str, int]


def _net_granted(order: Order) -> dict[CreditKind, int]:
    """Credits this order still stands behind: granted minus those already taken back by refunds."""
    rows = db.session.execute(
        select(CreditEntry.kind, func.sum(CreditEntry.delta)).where(
            CreditEntry.order_id == order.id, CreditEntry.entry_type.in_((EntryType.GRANT, EntryType.REFUND)))
        .group_by(CreditEntry.kind)).all()
    return {kind: total for kind, total in rows if total > 0}


def unused_credits(order: Order) -> dict[CreditKind, int]:
    """Unused credits of `order`: the balance belongs to the newest grants first."""
    balances = ledger.balances(order.patient_id)
    newer = list(db.session.scalars(select(Order).where(
        Order.patient_id == order.patient_id, Order.paid_at.is_not(None), Order.paid_at > order.paid_at)))
    unused: dict[CreditKind, int] = {}
    mine = _net_granted(order)
    for kind, granted in mine.items():
        remaining = balances.get(kind, 0)
        for other in newer:
            remaining -= min(remaining, _net_granted(other).get(kind, 0))
        unused[kind] = min(granted, max(remaining, 0))
    return unused


NOT_PAID_AT_STRIPE = "This order was not paid by card through Stripe, so there is no payment to refund here; contact support."


def _paid_at_stripe(order: Order) -> bool:
    """Whether Stripe holds a payment of this order to refund (a seeded demo order has none)."""
    return bool(order.stripe_payment_intent_id or order.stripe_invoice_id)


def quote(patient: User, order_id: int, *, lock: bool = False) -> RefundQuote:
    order = get_order(patient, order_id, lock=lock)
    granted = _net_granted(order)
    unused = unused_credits(order) if order.paid_at else {}
    total_granted, total_unused = sum(order.grants.values()), sum(unused.values())
    amount = order.amount_cents * total_unused // total_granted if total_granted else 0
    amount = min(amount, order.amount_cents - order.refunded_cents)
    window = timedelta(days=current_app.config["REFUND_WINDOW_DAYS"])
    if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        reason = "Only a paid order can be refunded."
    elif not _paid_at_stripe(order):
        reason = NOT_PAID_AT_STRIPE
    elif not order.product.refundable:
        reason = f"{order.product.name} is not refundable under our policy; contact support."
    elif now() - order.paid_at > window:
        reason = f"Refunds are possible within {window.days} days of payment."
    elif amount <= 0:
        reason = "Every credit of this order has been used."
    else:
        reason = "Unused credits are refundable, pro rata."
    refundable = reason == "Unused credits are refundable, pro rata."
    return RefundQuote(order.id, refundable, reason, amount if refundable else 0,
                       {k.value: v for k, v in unused.items() if v}, {k.value: v for k, v in granted.items()})


def request_refund(patient: User, order_id: int, *, expected_cents: int | None = None) -> Refund:
    """Self-service: refund the order's unused credits as quoted; they leave the balance at once.
    `expected_cents`: the amount the patient was shown and confirmed; if the quote has changed since
    (a credit was used meanwhile), nothing is refunded and they are asked to look again."""
    offer = quote(patient, order_id, lock=True)  # the order stays locked until the refund commits
    if not offer.refundable:
        raise Conflict(offer.reason, code="refund_not_allowed")
    if expected_cents is not None and expected_cents != offer.amount_cents:
        raise Conflict("The refund amount has changed since you looked (a credit may have been used): "
                       "nothing was refunded. Check the new amount before you confirm.", code="refund_quote_changed")
    order = get_order(patient, order_id, lock=True)
    return _execute(order, offer.amount_cents, {CreditKind(k): v for k, v in offer.unused.items() if v},
                    reason="Unused credits, self-service", actor=patient)


def staff_refund(actor: User, order_id: int, amount_cents: int, reason: str) -> Refund:
    """Staff refund any paid order with a reason; a full refund also takes back its unused credits."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise NotFound("No such order.")
    if not _paid_at_stripe(order):
        raise Conflict(NOT_PAID_AT_STRIPE, code="no_payment_to_refund")
    if amount_cents > order.amount_cents - order.refunded_cents:
        raise ValidationFailed("More than what remains refundable.",
                               fields={"amount_cents": [f"At most {order.amount_cents - order.refunded_cents}."]})
    full = order.refunded_cents + amount_cents == order.amount_cents
    take = {k: v for k, v in unused_credits(order).items() if v} if full and order.paid_at else {}
    return _execute(order, amount_cents, take, reason=reason, actor=actor)


def refund_key(stripe_refund_id: str, kind: CreditKind) -> str:
    """The ledger key of the credits one refund takes back: Stripe's own id for the refund (`re_...`)
    and the kind, so two refunds never share a key, however many arrive in one event. Refunds
    recorded before keys were Stripe ids keep their `refund:<order id>:<n>:<kind>` rows: a Stripe id
    is never all digits, so no new key can take an old one's place, and which refunds are applied is
    read from `Refund.stripe_refund_id`, whatever their ledger keys."""
    return f"refund:{stripe_refund_id}:{kind.value}"


def _taken_back(order: Order) -> int:
    """Credits refunds have taken back from this order so far (net of any given back)."""
    return -(db.session.scalar(select(func.sum(CreditEntry.delta)).where(
        CreditEntry.order_id == order.id, CreditEntry.entry_type == EntryType.REFUND)) or 0)


def record_outside_refund(order: Order, stripe_refund_id: str, amount_cents: int) -> Refund:
    """A refund Stripe made without this app asking (or whose answer was lost): its money, and the
    unused credits it pays for, leave the order. Credits are counted over the order's whole refunded
    amount, rounded up once: ceil(refunded / a credit's price in whole cents) less those refunds took
    already (ten $1 refunds of a $249, 9-credit package take one credit, not ten; one credit's price,
    $27.67, takes one, not two); those beyond what is unused stay (consumed credits are not taken
    back). Keyed by this refund's id."""
    order.record_refund(min(amount_cents, order.amount_cents - order.refunded_cents))
    total = sum(order.grants.values())
    per_credit = -(-order.amount_cents // total) if total else 0  # a credit's price, whole cents rounded up
    due = min(-(-order.refunded_cents // per_credit), total) if per_credit else 0
    to_take = max(due - _taken_back(order), 0)
    for kind, unused in sorted(unused_credits(order).items()):
        take = min(unused, to_take)
        if take:
            ledger.take_back(order.patient_id, kind, take, key=refund_key(stripe_refund_id, kind),
                             order_id=order.id, note="Refunded in Stripe")
            to_take -= take
    refund = Refund(order_id=order.id, amount_cents=amount_cents, stripe_refund_id=stripe_refund_id,
                    reason="Refunded in Stripe")
    db.session.add(refund)
    db.session.flush()  # the next refund of the same event sees this one
    return refund


def reverse_failed_refund(order: Order, refund: Refund, status: str) -> Refund | None:
    """A recorded refund that Stripe then failed (or canceled): the money stays with us after all, so
    the order counts it back and the credits it took return (keyed `<its key>:restore`). Recorded as
    a reversal row (`<refund id>:reversed`, the amount negated) beside the refund, once."""
    reversal_id = f"{refund.stripe_refund_id}:reversed"  # Stripe's ids have no colon: never a refund's own
    if db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == reversal_id)) is not None:
        return None
    order.reverse_refund(refund.amount_cents)
    taken = db.session.scalars(select(CreditEntry).where(
        CreditEntry.order_id == order.id, CreditEntry.entry_type == EntryType.REFUND,
        CreditEntry.key.like(f"refund:{refund.stripe_refund_id}:%"), CreditEntry.delta < 0)).all()
    for entry in taken:
        ledger.give_back(order.patient_id, entry.kind, -entry.delta, key=f"{entry.key}:restore", order_id=order.id,
                         note=f"Refund {status} at Stripe")
    reversal = Refund(order_id=order.id, amount_cents=-refund.amount_cents, stripe_refund_id=reversal_id,
                      reason=f"Refund {status} at Stripe: the money was not returned")
    db.session.add(reversal)
    db.session.flush()
    log.warning("a refund failed at Stripe; its money and credits are counted back",
                extra={"order_id": order.id, "refund_status": status})
    return reversal


def _execute(order: Order, amount_cents: int, take: dict[CreditKind, int], *, reason: str, actor: User) -> Refund:
    # Numbers this order's refund requests to Stripe: a request repeated after a lost answer (the
    # order is locked, nothing committed) is the same refund at Stripe, not a second one.
    sequence = len(order.refunds) + 1
    order.record_refund(amount_cents)  # refuses more than was paid, or an unpaid order (409)
    ledger.hold(order.patient_id, take)  # the credits are there, and stay until this commits
    db.session.flush()  # everything checked and staged before the money moves
    charge = None
    if order.stripe_payment_intent_id is None and order.stripe_invoice_id:
        charge = gateway.invoice_charge(order.stripe_invoice_id)
        if charge is None:  # an invoice Stripe settled without a charge (a credit balance, a $0 month)
            raise Conflict(NOT_PAID_AT_STRIPE, code="no_payment_to_refund")
    stripe_refund_id = gateway.refund(payment_intent_id=order.stripe_payment_intent_id, charge_id=charge,
                                      amount_cents=amount_cents, idempotency_key=f"refund-{order.id}-{sequence}")
    for kind, count in take.items():
        ledger.take_back(order.patient_id, kind, count, key=refund_key(stripe_refund_id, kind),
                         order_id=order.id, note=reason[:300])
    refund = Refund(order_id=order.id, amount_cents=amount_cents, stripe_refund_id=stripe_refund_id,
                    reason=reason[:300], actor_id=actor.id)
    db.session.add(refund)
    audit.record(actor, "create", "refund", order.id, patient_id=order.patient_id)
    db.session.commit()
    return refund
