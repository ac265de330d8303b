"""Request and response bodies for the catalog, purchases, subscriptions, credits and refunds."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import text

ProductCode = Annotated[str, StringConstraints(min_length=1, max_length=40)]
PaymentMethodId = Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,100}$")]
CreditKindName = Literal["consult", "follow_up", "coaching_30", "coaching_60", "medication_session"]


class PurchaseIn(Schema):
    """Only the product: the price is the catalog's."""

    product: ProductCode


class ConfirmIn(Schema):
    payment_method: PaymentMethodId


class SubscribeIn(Schema):
    payment_method: PaymentMethodId


class RefundIn(Schema):
    """A self-service refund; `expected_amount_cents`, when given, is the quote the patient confirmed:
    a refund of any other amount (the quote changed meanwhile) is refused, nothing is refunded."""

    expected_amount_cents: int | None = Field(default=None, ge=0, le=10_000_000)


class StaffRefundIn(Schema):
    amount_cents: int = Field(gt=0, le=10_000_000)
    reason: text(300, min_length=3)


class ProductUpdateIn(Schema):
    name: text(100) | None = None
    description: text(1000, min_length=0) | None = None
    price_cents: int | None = Field(default=None, gt=0, le=10_000_000)
    grants: dict[CreditKindName, Annotated[int, Field(ge=0, le=100)]] | None = None
    refundable: bool | None = None
    active: bool | None = None


class ProductOut(Schema):
    code: str
    name: str
    description: str
    kind: str
    price_cents: int
    currency: str
    grants: dict[str, int]
    refundable: bool


class CatalogOut(Schema):
    items: list[ProductOut]


class RefundOut(Schema):
    id: int
    amount_cents: int
    reason: str
    created_at: Timestamp


class OrderOut(Schema):
    id: int
    product: str
    amount_cents: int
    currency: str
    status: str
    refunded_cents: int
    created_at: Timestamp
    paid_at: Timestamp | None
    failure_message: str | None
    refunds: list[RefundOut]


class PurchaseOut(Schema):
    order: OrderOut
    client_secret: str
    publishable_key: str


class OrderListOut(Schema):
    items: list[OrderOut]


class SubscriptionOut(Schema):
    id: int
    product: str
    status: str
    cancel_at_period_end: bool
    current_period_end: Timestamp | None


class CreditEntryOut(Schema):
    kind: str
    delta: int
    entry_type: str
    note: str
    created_at: Timestamp


class CreditsOut(Schema):
    balances: dict[str, int]
    entries: list[CreditEntryOut]


class RefundQuoteOut(Schema):
    order_id: int
    refundable: bool
    reason: str
    amount_cents: int
    unused: dict[str, int]
    granted: dict[str, int]


def product_out(p) -> ProductOut:
    return ProductOut(code=p.code, name=p.name, description=p.description, kind=p.kind.value,
                      price_cents=p.price_cents, currency=p.currency, grants=p.grants, refundable=p.refundable)


def order_out(o) -> OrderOut:
    return OrderOut(id=o.id, product=o.product.code, amount_cents=o.amount_cents, currency=o.currency,
                    status=o.status.value, refunded_cents=o.refunded_cents, created_at=o.created_at,
                    paid_at=o.paid_at, failure_message=o.failure_message,
                    refunds=[RefundOut(id=r.id, amount_cents=r.amount_cents, reason=r.reason, created_at=r.created_at)
                             for r in o.refunds])


def credits_out(balances, entries) -> CreditsOut:
    """`balances`: the ledger's {CreditKind: count}; `entries`: its CreditEntry rows."""
    return CreditsOut(balances={k.value: v for k, v in balances.items()},
                      entries=[CreditEntryOut(kind=e.kind.value, delta=e.delta, entry_type=e.entry_type.value,
                                              note=e.note, created_at=e.created_at) for e in entries])


def subscription_out(s) -> SubscriptionOut:
    return SubscriptionOut(id=s.id, product=s.product.code, status=s.status.value,
                           cancel_at_period_end=s.cancel_at_period_end, current_period_end=s.current_period_end)
