"""The catalog: products, their prices in integer cents and the credits each grants (PRODUCT.md).

Prices live here and only here: a purchase names a product, never an amount.
"""
from __future__ import annotations

from sqlalchemy import select

from telehealth.errors import NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.billing.billing import CreditKind, Product, ProductKind
from telehealth.services.platform import audit

DEFAULT_CATALOG = (
    {"code": "starter", "name": "Starter", "kind": ProductKind.ONE_TIME, "price_cents": 19900, "refundable": True,
     "description": "1 initial physician consult, medication for the first session, 1 integration coaching session (30 min).",
     "grants": {CreditKind.CONSULT: 1, CreditKind.MEDICATION_SESSION: 1, CreditKind.COACHING_30: 1}},
    {"code": "three_month", "name": "3-Month program", "kind": ProductKind.ONE_TIME, "price_cents": 24900,
     "refundable": True,
     "description": "A treatment series (6 sessions of medication, shipped in stages), 3 physician follow-up "
                    "check-ins, ongoing support for 3 months.",
     "grants": {CreditKind.MEDICATION_SESSION: 6, CreditKind.FOLLOW_UP: 3}},
    {"code": "maintenance", "name": "Monthly maintenance", "kind": ProductKind.SUBSCRIPTION, "price_cents": 14900,
     "refundable": False,
     "description": "Physician oversight (1 follow-up a month) and that month's medication. Cancel any time.",
     "grants": {CreditKind.FOLLOW_UP: 1, CreditKind.MEDICATION_SESSION: 1}},
    {"code": "coaching_30", "name": "Coaching 30 min", "kind": ProductKind.ONE_TIME, "price_cents": 7900,
     "refundable": False, "description": "1 integration coaching session of 30 minutes.",
     "grants": {CreditKind.COACHING_30: 1}},
    {"code": "coaching_60", "name": "Coaching 60 min", "kind": ProductKind.ONE_TIME, "price_cents": 11900,
     "refundable": False, "description": "1 integration coaching session of 60 minutes.",
     "grants": {CreditKind.COACHING_60: 1}},
)


def seed_catalog() -> list[Product]:
    """Create the default products that are missing (idempotent; existing prices are kept)."""
    existing = {p.code for p in db.session.scalars(select(Product))}
    for spec in DEFAULT_CATALOG:
        if spec["code"] not in existing:
            db.session.add(Product(**{**spec, "grants": {k.value: v for k, v in spec["grants"].items()}}))
    db.session.commit()
    return list_products(include_inactive=True)


def list_products(*, include_inactive: bool = False) -> list[Product]:
    query = select(Product).order_by(Product.id)
    if not include_inactive:
        query = query.where(Product.active.is_(True))
    return list(db.session.scalars(query))


def get_product(code: str, *, field: str = "product") -> Product:
    product = db.session.scalar(select(Product).where(Product.code == code, Product.active.is_(True)))
    if product is None:
        raise ValidationFailed("No such product.", fields={field: ["Choose a product from the catalog."]})
    return product


def update_product(actor: User, code: str, changes: dict) -> Product:
    product = db.session.scalar(select(Product).where(Product.code == code))
    if product is None:
        raise NotFound("No such product.")
    if "grants" in changes and changes["grants"] is not None:
        changes["grants"] = {CreditKind(k).value: v for k, v in changes["grants"].items()}
    if "price_cents" in changes and changes["price_cents"] != product.price_cents:
        product.stripe_plan_id = None  # a new price needs a new Stripe plan; existing subscribers keep theirs
    for name, value in changes.items():
        if value is not None:
            setattr(product, name, value)
    audit.record(actor, "update", "product", product.code, fields=changes.keys())
    db.session.commit()
    return product
