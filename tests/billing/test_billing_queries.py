"""Listing orders costs the same few queries however many orders there are (no N+1)."""
from __future__ import annotations

from telehealth.clock import now
from telehealth.models import Order, OrderStatus, Product, ProductKind, Refund


def _orders(db, patient, product, count):
    for i in range(count):
        order = Order(patient_id=patient.id, product_id=product.id, amount_cents=7900, grants={"coaching_30": 1},
                      status=OrderStatus.PARTIALLY_REFUNDED, refunded_cents=100, paid_at=now(),
                      stripe_payment_intent_id=f"pi_q_{patient.id}_{i}_{count}")
        db.session.add(order)
        db.session.flush()
        db.session.add(Refund(order_id=order.id, amount_cents=100, stripe_refund_id=f"re_q_{order.id}", reason="x"))
    db.session.commit()


def test_my_orders_has_no_query_per_order(client, auth, db, count_queries):
    patient = auth.as_role("patient")
    product = Product(code="q", name="Q", kind=ProductKind.ONE_TIME, price_cents=7900, grants={"coaching_30": 1})
    db.session.add(product)
    db.session.commit()
    _orders(db, patient, product, 2)
    with count_queries() as few:
        assert len(client.get("/api/v1/me/orders").get_json()["items"]) == 2
    _orders(db, patient, product, 8)
    with count_queries() as many:
        assert len(client.get("/api/v1/me/orders").get_json()["items"]) == 10
    assert many.count == few.count
