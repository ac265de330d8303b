"""Billing: the catalog, orders and their payments, subscriptions, refunds, Stripe events, and the
credits ledger that turns a payment into consults, follow-ups, coaching and medication.

Money is integer cents. The ledger is append-only; `CreditBalance` is its running sum per patient
and kind, updated in the same transaction with a guarded UPDATE so it can never go negative.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import UTCDateTime


class CreditKind(StrEnum):
    CONSULT = "consult"
    FOLLOW_UP = "follow_up"
    COACHING_30 = "coaching_30"
    COACHING_60 = "coaching_60"
    MEDICATION_SESSION = "medication_session"


class ProductKind(StrEnum):
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ProductKind] = mapped_column(enum_column(ProductKind, "product_kind"))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    grants: Mapped[dict] = mapped_column(JSON)  # {credit kind: count}
    refundable: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    stripe_product_id: Mapped[str | None] = mapped_column(String(100))
    stripe_plan_id: Mapped[str | None] = mapped_column(String(100))


class BillingCustomer(db.Model):
    """The patient's Stripe Customer: made once, reused for every purchase."""

    __tablename__ = "billing_customers"

    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# Payment events may arrive in any order and more than once; these are the moves that mean
# something. A failure after a success changes nothing; a success after a failure (a retry) pays.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.FAILED}),
    OrderStatus.FAILED: frozenset({OrderStatus.PAID}),
    OrderStatus.PAID: frozenset({OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset(),
}


class Order(db.Model):
    """One payment: a one-time package (a PaymentIntent) or one month of a subscription (an Invoice)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),  # a 100% coupon month is $0
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_within_amount"),
        Index("ix_orders_patient_created", "patient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    # What this order grants, copied from the product when it was made: a later catalog change
    # neither changes what was bought nor how its refund is counted.
    grants: Mapped[dict] = mapped_column(JSON)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "order_status"), default=OrderStatus.PENDING)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    failure_message: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.id")

    def move_to(self, status: OrderStatus) -> bool:
        """Apply a transition; False (and no change) when it means nothing from here."""
        if status is self.status and status is not OrderStatus.PARTIALLY_REFUNDED:
            return False
        if status not in ORDER_TRANSITIONS[self.status]:
            return False
        self.status = status
        return True

    def retry_with(self, payment_intent_id: str) -> None:
        """A failed payment is tried again with a fresh PaymentIntent (the failed one stays failed)."""
        if self.status is not OrderStatus.FAILED:
            raise Conflict("Only a failed payment can be retried.")
        self.status, self.stripe_payment_intent_id = OrderStatus.PENDING, payment_intent_id

    def mark_paid(self, at: datetime) -> bool:
        if self.move_to(OrderStatus.PAID):
            self.paid_at, self.failure_message = at, None
            return True
        return False

    def record_refund(self, amount_cents: int) -> None:
        if self.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
            raise Conflict("Only a paid order can be refunded.")
        if amount_cents <= 0 or self.refunded_cents + amount_cents > self.amount_cents:
            raise Conflict("A refund cannot exceed what was paid.")
        self.refunded_cents += amount_cents
        self.move_to(OrderStatus.REFUNDED if self.refunded_cents == self.amount_cents
                     else OrderStatus.PARTIALLY_REFUNDED)

    def reverse_refund(self, amount_cents: int) -> None:
        """A refund failed at Stripe after it was recorded: the money is ours again."""
        self.refunded_cents = max(self.refunded_cents - amount_cents, 0)
        self.status = OrderStatus.PARTIALLY_REFUNDED if self.refunded_cents else OrderStatus.PAID


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    stripe_refund_id: Mapped[str] = mapped_column(String(100), unique=True)
    reason: Mapped[str] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    order: Mapped[Order] = relationship(back_populates="refunds")


class SubscriptionStatus(StrEnum):
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (
        # One live maintenance subscription per patient, whatever races the requests run.
        Index("uq_subscriptions_one_live_per_patient", "patient_id", unique=True,
              postgresql_where=text("status <> 'canceled'"), sqlite_where=text("status <> 'canceled'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    stripe_subscription_id: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[SubscriptionStatus] = mapped_column(enum_column(SubscriptionStatus, "subscription_status"))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Stripe created the newest subscription event applied: an older one arriving late is ignored.
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship()

    @property
    def is_live(self) -> bool:
        return self.status is not SubscriptionStatus.CANCELED


class EntryType(StrEnum):
    GRANT = "grant"
    DEBIT = "debit"
    REFUND = "refund"        # unused credits taken back when their money is returned
    EXPIRY = "expiry"
    RESTORE = "restore"      # a debit given back (a cancelled booking)


class CreditEntry(db.Model):
    """Append-only: never updated or deleted. `key` makes each effect happen once (a webhook
    replayed twenty times grants once)."""

    __tablename__ = "credit_entries"
    __table_args__ = (Index("ix_credit_entries_patient_kind", "patient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[CreditKind] = mapped_column(enum_column(CreditKind, "credit_kind"))
    delta: Mapped[int] = mapped_column(Integer)
    entry_type: Mapped[EntryType] = mapped_column(enum_column(EntryType, "credit_entry_type"))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class CreditBalance(db.Model):
    __tablename__ = "credit_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True)
    kind: Mapped[CreditKind] = mapped_column(enum_column(CreditKind, "credit_kind"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)


class StripeEvent(db.Model):
    """Every Stripe event handled, stored in the same transaction as its effect: a replay is a no-op."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Diagnosis(db.Model):
    """A diagnosis code (ICD-10-CM) recorded by a physician, used on superbills."""

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(200))
    recorded_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
