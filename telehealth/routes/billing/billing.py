"""The catalog, purchases, the maintenance subscription, credits, refunds and Stripe's webhook."""
from flask import Blueprint, current_app, request
from flask_login import current_user

from telehealth.adapters import payments as gateway
from telehealth.api import PUBLIC, Empty, MessageOut, endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.billing.billing import (
    CatalogOut, ConfirmIn, CreditsOut, OrderListOut, OrderOut, ProductOut, ProductUpdateIn, PurchaseIn, PurchaseOut,
    RefundIn, RefundQuoteOut, StaffRefundIn, SubscribeIn, SubscriptionOut, credits_out, order_out, product_out,
    subscription_out,
)
from telehealth.services.billing import catalog, ledger, purchases, refunds, stripe_events

bp = Blueprint("billing", __name__, url_prefix="/api/v1")
webhooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")
PATIENT = (Role.PATIENT,)


@bp.get("/catalog")
@endpoint("Products and their prices (integer cents) and what each grants", tags=["billing"], auth=PUBLIC,
          response=CatalogOut)
def list_catalog():
    return CatalogOut(items=[product_out(p) for p in catalog.list_products()])


@bp.patch("/admin/products/<code>")
@endpoint("Change a product (admin)", tags=["billing"], auth=(Role.ADMIN,), body=ProductUpdateIn, response=ProductOut)
def update_product(code: str, body: ProductUpdateIn):
    return product_out(catalog.update_product(current_user, code, body.model_dump(exclude_unset=True)))


@bp.post("/orders")
@endpoint("Start buying a one-time package: an order and the client secret for Stripe's Payment Element",
          tags=["billing"], auth=PATIENT, body=PurchaseIn, response=PurchaseOut, status=201, errors=(409, 503))
def purchase(body: PurchaseIn):
    """The amount comes from the catalog; credits are granted when Stripe reports the payment."""
    order, client_secret = purchases.start_purchase(current_user, body.product)
    return PurchaseOut(order=order_out(order), client_secret=client_secret,
                       publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"])


@bp.post("/orders/<int:order_id>/confirm")
@endpoint("Confirm an order's payment on the server with a PaymentMethod from Stripe.js", tags=["billing"],
          auth=PATIENT, body=ConfirmIn, response=OrderOut, errors=(402, 409, 503))
def confirm(order_id: int, body: ConfirmIn):
    return order_out(purchases.confirm_on_server(current_user, order_id, body.payment_method))


@bp.get("/me/orders")
@endpoint("My orders, newest first", tags=["billing"], auth=PATIENT, response=OrderListOut)
def my_orders():
    return OrderListOut(items=[order_out(o) for o in purchases.list_orders(current_user.id)])


@bp.get("/orders/<int:order_id>")
@endpoint("One order (its patient, ops or admin)", tags=["billing"], auth=(Role.PATIENT, Role.OPS, Role.ADMIN),
          response=OrderOut)
def get_order(order_id: int):
    return order_out(purchases.view_order(current_user, order_id))


@bp.get("/admin/patients/<int:patient_id>/orders")
@endpoint("A patient's orders, for refunds and billing questions (ops, admin; audited)", tags=["billing"],
          auth=(Role.OPS, Role.ADMIN), response=OrderListOut)
def patient_orders(patient_id: int):
    return OrderListOut(items=[order_out(o) for o in purchases.list_orders_for_staff(current_user, patient_id)])


@bp.get("/me/credits")
@endpoint("My credit balances and ledger entries", tags=["billing"], auth=PATIENT, response=CreditsOut)
def my_credits():
    return credits_out(ledger.balances(current_user.id), ledger.entries(current_user.id))


@bp.post("/me/subscription")
@endpoint("Start monthly maintenance with a PaymentMethod", tags=["billing"], auth=PATIENT, body=SubscribeIn,
          response=SubscriptionOut, status=201, errors=(402, 404, 409, 503))
def subscribe(body: SubscribeIn):
    return subscription_out(purchases.subscribe(current_user, body.payment_method))


@bp.get("/me/subscription")
@endpoint("My monthly maintenance", tags=["billing"], auth=PATIENT, response=SubscriptionOut, errors=(404,))
def my_subscription():
    return subscription_out(purchases.my_subscription(current_user))


@bp.post("/me/subscription/cancel")
@endpoint("Cancel monthly maintenance in one step (it ends at the end of the paid month)", tags=["billing"],
          auth=PATIENT, body=Empty, response=SubscriptionOut, errors=(404, 503))
def cancel(body: Empty):
    return subscription_out(purchases.cancel_subscription(current_user))


@bp.get("/orders/<int:order_id>/refund-quote")
@endpoint("What a self-service refund of this order would return, and why", tags=["billing"], auth=PATIENT,
          response=RefundQuoteOut)
def refund_quote(order_id: int):
    q = refunds.quote(current_user, order_id)
    return RefundQuoteOut(**q.__dict__)


@bp.post("/orders/<int:order_id>/refund")
@endpoint("Refund this order's unused credits under the written policy", tags=["billing"], auth=PATIENT,
          body=RefundIn, response=OrderOut, errors=(409, 503))
def refund(order_id: int, body: RefundIn):
    """`{}` refunds what the quote says now; `{"expected_amount_cents": n}` only if that is still n."""
    return order_out(refunds.request_refund(current_user, order_id, expected_cents=body.expected_amount_cents).order)


@bp.post("/admin/orders/<int:order_id>/refund")
@endpoint("Refund any paid order with a reason (ops, admin)", tags=["billing"], auth=(Role.OPS, Role.ADMIN),
          body=StaffRefundIn, response=OrderOut, errors=(409, 503))
def staff_refund(order_id: int, body: StaffRefundIn):
    return order_out(refunds.staff_refund(current_user, order_id, body.amount_cents, body.reason).order)


@webhooks.post("/stripe")
@endpoint("Stripe's webhook: events signed with the endpoint secret", tags=["webhooks"], auth=PUBLIC,
          response=MessageOut, errors=(400,))
def stripe_webhook():
    """A bad or missing signature is a 400 and changes nothing; a replayed event changes nothing."""
    event = gateway.parse_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    return MessageOut(message=stripe_events.handle(event))
