"""Buying: one-time packages through a PaymentIntent, monthly maintenance through a Subscription,
and leaving in one step. Prices come from the catalog; credits are granted when Stripe says the
money arrived (stripe_events.py), never when a client says so.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from telehealth.adapters import payments as gateway
from telehealth.clock import now
from telehealth.errors import Conflict, NotFound
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.platform.alerts import AlertStatus, ClinicalAlert
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, ReviewStatus
from telehealth.models.billing.billing import (
    BillingCustomer, Order, OrderStatus, Product, ProductKind, Subscription, SubscriptionStatus,
)
from telehealth.services.billing import catalog
from telehealth.services.platform import audit
from telehealth.services.screening.assessments import serviced_states
from telehealth.services.screening.eligibility import Outcome


class PurchaseRefused(Conflict):
    code = "purchase_not_allowed"


def purchase_blocker(patient: User) -> str | None:
    """Why this patient may not buy now, in plain words (None: they may). Nothing is sold while a
    crisis is open, and a screening that was declined or not eligible is not undone by taking the
    screening again: only a physician's approval of a later one is."""
    screenings = list(db.session.scalars(
        select(Assessment).where(Assessment.patient_id == patient.id, Assessment.status == AssessmentStatus.SUBMITTED)
        .order_by(Assessment.submitted_at.desc())))
    if not screenings:
        return "Take the free screening first: the program is only for people it is safe for."
    open_crisis = db.session.scalar(select(ClinicalAlert.id).where(
        ClinicalAlert.patient_id == patient.id, ClinicalAlert.kind == "crisis",
        ClinicalAlert.status != AlertStatus.ACKNOWLEDGED).limit(1))
    if open_crisis is not None:
        return "Your safety comes first: a physician will contact you before anything else."
    latest = screenings[0]
    approved = latest.review_status is ReviewStatus.APPROVED
    if latest.review_status is ReviewStatus.DECLINED:
        return "A physician reviewed your screening and the program is not right for you now."
    if latest.outcome == Outcome.CRISIS and not approved:
        return "Your safety comes first: a physician will contact you before anything else."
    if latest.outcome == Outcome.NOT_ELIGIBLE and not approved:
        return "Your screening shows the program is not safe or suitable for you now."
    earlier_refusal = any(s.review_status is ReviewStatus.DECLINED or s.outcome == Outcome.NOT_ELIGIBLE
                          for s in screenings[1:])
    if earlier_refusal and not approved:
        return "A physician will review your new screening before you can buy a package."
    state = patient.patient_profile.state_of_residence
    if state not in serviced_states(now().date()):
        return f"We do not yet have a physician licensed in {state}; we cannot treat you there yet."
    return None


def _ensure_allowed(patient: User) -> None:
    blocker = purchase_blocker(patient)
    if blocker:
        raise PurchaseRefused(blocker)


def customer_id_for(patient: User) -> str:
    """The patient's Stripe Customer, created the first time they buy."""
    existing = db.session.get(BillingCustomer, patient.id)
    if existing is not None:
        return existing.stripe_customer_id
    customer_id = gateway.create_customer(patient.email, patient.id)
    try:
        with db.session.begin_nested():
            db.session.add(BillingCustomer(patient_id=patient.id, stripe_customer_id=customer_id))
    except IntegrityError:  # a concurrent purchase stored it first (Stripe's idempotency key made it the same)
        return db.session.get(BillingCustomer, patient.id).stripe_customer_id
    return customer_id


def start_purchase(patient: User, product_code: str) -> tuple[Order, str]:
    """An order for a one-time product and the PaymentIntent's client secret for the Payment Element."""
    product = catalog.get_product(product_code)
    if product.kind is not ProductKind.ONE_TIME:
        raise PurchaseRefused("Monthly maintenance is a subscription: start it on the monthly maintenance page.")
    _ensure_allowed(patient)
    customer_id = customer_id_for(patient)
    order = Order(patient_id=patient.id, product_id=product.id, amount_cents=product.price_cents,
                  currency=product.currency, grants=dict(product.grants), status=OrderStatus.PENDING)
    db.session.add(order)
    db.session.flush()
    intent = gateway.create_payment_intent(amount_cents=order.amount_cents, currency=order.currency,
                                           customer_id=customer_id, order_id=order.id)
    order.stripe_payment_intent_id = intent.id
    audit.record(patient, "create", "order", order.id, patient_id=patient.id)
    db.session.commit()
    return order, intent.client_secret


def get_order(actor: User, order_id: int, *, lock: bool = False) -> Order:
    """The order, for its patient or for ops/admin (whose reads are audited). `lock` reads it FOR
    UPDATE, for changes that must not interleave (refunds, confirmation)."""
    query = select(Order).where(Order.id == order_id)
    order = db.session.scalar(query.with_for_update() if lock else query)
    if order is None or (actor.role is Role.PATIENT and order.patient_id != actor.id):
        raise NotFound("No such order.")
    if actor.role is not Role.PATIENT:
        audit.record(actor, "read", "order", order.id, patient_id=order.patient_id)
    return order


def list_orders_for_staff(actor: User, patient_id: int) -> list[Order]:
    audit.record(actor, "read", "orders", patient_id, patient_id=patient_id)
    db.session.commit()
    return list_orders(patient_id)


def confirm_on_server(patient: User, order_id: int, payment_method: str) -> Order:
    """Confirm an order's PaymentIntent with a PaymentMethod id collected by Stripe.js. The order
    becomes paid when Stripe's webhook says so."""
    _ensure_allowed(patient)
    order = get_order(patient, order_id, lock=True)
    if order.status is OrderStatus.FAILED:
        # The failed intent is cancelled so an open Payment Element cannot pay it as well.
        gateway.cancel_payment_intent(order.stripe_payment_intent_id)
        intent = gateway.create_payment_intent(amount_cents=order.amount_cents, currency=order.currency,
                                               customer_id=customer_id_for(patient), order_id=order.id,
                                               attempt=order.stripe_payment_intent_id)
        order.retry_with(intent.id)
        db.session.commit()
        order = get_order(patient, order_id, lock=True)
    if order.status is not OrderStatus.PENDING:
        raise Conflict("This order is not waiting for payment.")
    try:
        gateway.confirm_payment_intent(order.stripe_payment_intent_id, payment_method)
    except gateway.PaymentDeclined as exc:
        order.move_to(OrderStatus.FAILED)  # known now (the row is locked: a webhook cannot interleave)
        order.failure_message = exc.message[:300]
        db.session.commit()
        raise
    return order


def list_orders(patient_id: int) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.patient_id == patient_id)
                                   .options(selectinload(Order.product), selectinload(Order.refunds))
                                   .order_by(Order.created_at.desc(), Order.id.desc())))


def view_order(actor: User, order_id: int) -> Order:
    """One order as its patient or ops/admin sees it (a staff read is audited and kept)."""
    order = get_order(actor, order_id)
    db.session.commit()
    return order


# ------------------------------------------------------------------ maintenance subscription


def current_subscription(patient_id: int) -> Subscription | None:
    return db.session.scalar(select(Subscription).where(
        Subscription.patient_id == patient_id, Subscription.status != SubscriptionStatus.CANCELED)
        .order_by(Subscription.id.desc()).limit(1))


def my_subscription(patient: User) -> Subscription:
    subscription = current_subscription(patient.id)
    if subscription is None:
        raise NotFound("You have no monthly maintenance.")
    return subscription


def maintenance_product() -> Product:
    product = db.session.scalar(select(Product).where(Product.kind == ProductKind.SUBSCRIPTION,
                                                      Product.active.is_(True)).order_by(Product.id).limit(1))
    if product is None:
        raise NotFound("Monthly maintenance is not offered right now.")
    return product


def subscribe(patient: User, payment_method: str) -> Subscription:
    """Start monthly maintenance; the first month's credits arrive with invoice.payment_succeeded."""
    product = maintenance_product()
    _ensure_allowed(patient)
    if current_subscription(patient.id) is not None:
        raise Conflict("You already have monthly maintenance.")
    if not product.stripe_plan_id:
        product.stripe_product_id, product.stripe_plan_id = gateway.ensure_plan(
            code=product.code, name=product.name, amount_cents=product.price_cents, currency=product.currency)
    customer_id = customer_id_for(patient)
    db.session.commit()  # the customer and plan ids are kept even if Stripe fails next
    # One subscribe at a time per patient (the lock lasts until this transaction ends): two quick
    # clicks must not start two subscriptions. A partial unique index backs this up.
    db.session.execute(select(User.id).where(User.id == patient.id).with_for_update())
    if current_subscription(patient.id) is not None:
        raise Conflict("You already have monthly maintenance.")
    remote = gateway.create_subscription(customer_id=customer_id, plan_id=product.stripe_plan_id,
                                         payment_method=payment_method, patient_id=patient.id)
    subscription = upsert_subscription(remote.id, patient.id, product.id)
    apply_remote_state(subscription, remote.status, remote.current_period_end, remote.cancel_at_period_end)
    audit.record(patient, "create", "subscription", subscription.id, patient_id=patient.id)
    db.session.commit()
    return subscription


def upsert_subscription(stripe_id: str, patient_id: int, product_id: int) -> Subscription:
    """Our row for a Stripe subscription, whichever of the API answer and its webhooks comes first."""
    found = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == stripe_id))
    if found is not None:
        return found
    subscription = Subscription(patient_id=patient_id, product_id=product_id, stripe_subscription_id=stripe_id,
                                status=SubscriptionStatus.INCOMPLETE)
    try:
        with db.session.begin_nested():
            db.session.add(subscription)
    except IntegrityError:
        return db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == stripe_id))
    return subscription


_REMOTE_STATUS = {"active": SubscriptionStatus.ACTIVE, "trialing": SubscriptionStatus.ACTIVE,
                  "past_due": SubscriptionStatus.PAST_DUE, "unpaid": SubscriptionStatus.PAST_DUE,
                  "canceled": SubscriptionStatus.CANCELED, "incomplete_expired": SubscriptionStatus.CANCELED,
                  "incomplete": SubscriptionStatus.INCOMPLETE}


def apply_remote_state(subscription: Subscription, status: str, period_end, cancel_at_period_end: bool,
                       as_of=None) -> None:
    """Follow Stripe's view as of `as_of` (an event's time), except that a cancelled subscription
    never comes back to life and an older view never overwrites a newer one."""
    if subscription.status is SubscriptionStatus.CANCELED:
        return
    if as_of is not None:
        if subscription.remote_updated_at is not None and as_of < subscription.remote_updated_at:
            return
        subscription.remote_updated_at = as_of
    subscription.status = _REMOTE_STATUS.get(status, subscription.status)
    if subscription.status is SubscriptionStatus.CANCELED:
        subscription.canceled_at = subscription.canceled_at or now()
    subscription.current_period_end = period_end or subscription.current_period_end
    subscription.cancel_at_period_end = cancel_at_period_end


def cancel_subscription(patient: User) -> Subscription:
    """One request, no survey: maintenance ends at the end of the period already paid for."""
    subscription = current_subscription(patient.id)
    if subscription is None:
        raise NotFound("You have no monthly maintenance to cancel.")
    if not subscription.cancel_at_period_end:
        remote = gateway.cancel_at_period_end(subscription.stripe_subscription_id)
        apply_remote_state(subscription, remote.status, remote.current_period_end, True)
    audit.record(patient, "update", "subscription", subscription.id, patient_id=patient.id,
                 fields=["cancel_at_period_end"])
    db.session.commit()
    return subscription
