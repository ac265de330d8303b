"""The patient's billing pages: packages, card payment (Stripe.js), orders with receipts and
superbills, credits, self-service refunds with the quote first, and monthly maintenance.

Every view calls the service the API route calls (routes/billing/billing.py, billing_documents.py):
buying is `purchases.start_purchase` then `purchases.confirm_on_server` with the PaymentMethod that
Stripe.js made in the browser (Stripe's "finalize on the server" flow); the order becomes paid when
Stripe's webhook says so, and the page polls for that. Card entry is Stripe's card element, a
script: the payment pages alone allow Stripe.js in their CSP, and say so plainly without JavaScript.

Receipts and superbills are served here, by page routes calling the same services and templates as
the API's documents: a refusal (an order with no receipt yet, a bad date range) is then a page in
words and the form again, never the API's JSON shown to a person; and the superbill's dates travel
in a POSTed form, not in the address.
"""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from telehealth.adapters import payments as gateway
from telehealth.clock import today_in
from telehealth.errors import NotFound, ServiceError
from telehealth.models.accounts.accounts import Role
from telehealth.models.billing.billing import OrderStatus, SubscriptionStatus
from telehealth.pages import allow_csp, done, form_body, local_time, money, page, refusal
from telehealth.routes.documents import html_response, pdf_response
from telehealth.schemas.billing.billing import ConfirmIn, PurchaseIn, RefundIn, SubscribeIn
from telehealth.schemas.billing.billing_documents import SuperbillQuery
from telehealth.services.billing import billing_documents as documents
from telehealth.services.billing import catalog, ledger, purchases, refunds

bp = Blueprint("billing_pages", __name__)
PATIENT = (Role.PATIENT,)

# Words for the services' codes (what a person reads; the rules stay in the services).
CREDIT_LABELS = {
    "consult": ("Physician consult", "Physician consults"),
    "follow_up": ("Physician follow-up check-in", "Physician follow-up check-ins"),
    "coaching_30": ("Integration coaching session, 30 min", "Integration coaching sessions, 30 min"),
    "coaching_60": ("Integration coaching session, 60 min", "Integration coaching sessions, 60 min"),
    "medication_session": ("Medication for one at-home session", "Medication for at-home sessions"),
}
ORDER_STATUS = {
    "pending": ("Waiting for payment", "badge-warn"),
    "paid": ("Paid", "badge-ok"),
    "failed": ("Payment did not go through", "badge-danger"),
    "partially_refunded": ("Paid, partly refunded", ""),
    "refunded": ("Refunded", ""),
}
SUBSCRIPTION_STATUS = {
    "incomplete": ("Starting", "badge-warn"),
    "active": ("Active", "badge-ok"),
    "past_due": ("Payment overdue", "badge-danger"),
    "canceled": ("Ended", ""),
}
ENTRY_TYPES = {"grant": "Added", "debit": "Used", "refund": "Refunded", "expiry": "Expired",
               "restore": "Given back"}
DECLINED_HELP = "Nothing was charged. Check the card details, or use another card, and try again."


def _value(code) -> str:
    return getattr(code, "value", code)


def credit_label(kind, count: int = 1) -> str:
    one, many = CREDIT_LABELS.get(_value(kind), (_value(kind).replace("_", " "),) * 2)
    return one if count == 1 else many


@bp.context_processor
def _words():
    return {"credit_label": credit_label,
            "order_status": lambda status: ORDER_STATUS.get(_value(status), (_value(status), "")),
            "subscription_status": lambda status: SUBSCRIPTION_STATUS.get(_value(status), (_value(status), "")),
            "entry_type": lambda kind: ENTRY_TYPES.get(_value(kind), _value(kind)),
            "refund_window_days": current_app.config["REFUND_WINDOW_DAYS"]}


def _card_page() -> dict:
    """A page with Stripe's card element: Stripe.js (its URL from config) is allowed on it alone."""
    allow_csp(**gateway.browser_origins())
    return {"stripe_js_url": gateway.browser_script_url(),
            "publishable_key": current_app.config["STRIPE_PUBLISHABLE_KEY"]}


# ----------------------------------------------------------------------------- packages


@bp.route("/packages", methods=["GET", "POST"])
@page(roles=PATIENT)
def packages():
    errors, status = None, 200
    if request.method == "POST":
        try:
            body = form_body(PurchaseIn)
            order, _secret = purchases.start_purchase(current_user, body.product)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            return redirect(url_for("billing_pages.pay", order_id=order.id))
    return render_template("billing/packages.html", products=catalog.list_products(),
                           blocker=purchases.purchase_blocker(current_user), errors=errors,
                           subscription=purchases.current_subscription(current_user.id)), status


# ----------------------------------------------------------------------------- paying an order


@bp.route("/orders/<int:order_id>/pay", methods=["GET", "POST"])
@page(roles=PATIENT)
def pay(order_id: int):
    errors, status = None, 200
    if request.method == "POST":
        try:
            body = form_body(ConfirmIn)
            purchases.confirm_on_server(current_user, order_id, body.payment_method)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            return redirect(url_for("billing_pages.received", order_id=order_id))
    order = purchases.view_order(current_user, order_id)
    if order.status not in (OrderStatus.PENDING, OrderStatus.FAILED):
        flash("This order is already paid.", "info")
        return redirect(url_for("billing_pages.order", order_id=order.id))
    return render_template("billing/pay.html", order=order, errors=errors, declined_help=DECLINED_HELP,
                           blocker=purchases.purchase_blocker(current_user), **_card_page()), status


@bp.get("/orders/<int:order_id>/received")
@page(roles=PATIENT)
def received(order_id: int):
    """After the card was sent: the payment is Stripe's to confirm, its webhook marks the order paid."""
    return render_template("billing/received.html", order=purchases.view_order(current_user, order_id))


@bp.get("/orders/<int:order_id>/status")
@page(roles=PATIENT)
def order_status(order_id: int):
    """The order's payment status alone (htmx polls it on the received page until it settles)."""
    return render_template("billing/_order_status.html", order=purchases.view_order(current_user, order_id))


# ----------------------------------------------------------------------------- orders


@bp.get("/orders")
@page(roles=PATIENT)
def orders():
    return render_template("billing/orders.html", orders=purchases.list_orders(current_user.id),
                           balances=ledger.balances(current_user.id),
                           subscription=purchases.current_subscription(current_user.id))


@bp.get("/orders/<int:order_id>")
@page(roles=PATIENT)
def order(order_id: int):
    return render_template("billing/order.html", order=purchases.view_order(current_user, order_id),
                           paid_states=(OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED))


@bp.get("/orders/<int:order_id>/receipt")
@page(roles=PATIENT)
def receipt(order_id: int):
    """The printable receipt (the API's document: same service, same template)."""
    return html_response(documents.receipt_html(documents.receipt(current_user, order_id)))


@bp.get("/orders/<int:order_id>/receipt.pdf")
@page(roles=PATIENT)
def receipt_pdf(order_id: int):
    found = documents.receipt(current_user, order_id)
    return pdf_response(documents.receipt_pdf(found), f"receipt-{found.number}.pdf")


@bp.route("/billing/superbill", methods=["GET", "POST"])
@page(roles=PATIENT)
def superbill():
    """A superbill over a date range, as a printable page or a PDF (POSTed: no dates in the address)."""
    errors, status = None, 200
    today = today_in(current_user.time_zone)
    values = {"start": request.form.get("start", today.replace(month=1, day=1).isoformat()),
              "end": request.form.get("end", today.isoformat()), "format": request.form.get("format", "html")}
    if request.method == "POST":
        try:
            query = form_body(SuperbillQuery)
            found = documents.superbill(current_user, current_user.id, query.start, query.end)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            if query.format == "pdf":
                return pdf_response(documents.superbill_pdf(found),
                                    f"superbill-{query.start.isoformat()}-to-{query.end.isoformat()}.pdf")
            return html_response(documents.superbill_html(found))
    return render_template("billing/superbill_form.html", errors=errors, values=values), status


# ----------------------------------------------------------------------------- credits


@bp.get("/credits")
@page(roles=PATIENT)
def credits():
    return render_template("billing/credits.html", balances=ledger.balances(current_user.id),
                           entries=ledger.entries(current_user.id))


# ----------------------------------------------------------------------------- refunds


@bp.route("/orders/<int:order_id>/refund", methods=["GET", "POST"])
@page(roles=PATIENT)
def refund(order_id: int):
    """The quote first (what comes back, which credits leave), then one confirmation."""
    errors, status = None, 200
    if request.method == "POST":
        try:
            body = form_body(RefundIn)
            done_refund = refunds.request_refund(current_user, order_id, expected_cents=body.expected_amount_cents)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            return done(f"Refunded {money(done_refund.amount_cents)}. It goes back to the card you paid with, "
                        "usually within 5 to 10 business days.", "billing_pages.order", order_id=order_id)
    quote = refunds.quote(current_user, order_id)
    return render_template("billing/refund.html", quote=quote, order=purchases.view_order(current_user, order_id),
                           errors=errors), status


# ----------------------------------------------------------------------------- monthly maintenance


@bp.get("/maintenance")
@page(roles=PATIENT)
def maintenance():
    return _maintenance_page(None, 200)


def _maintenance_page(errors, status):
    subscription = purchases.current_subscription(current_user.id)
    product, blocker = None, None
    if subscription is None:
        try:
            product = purchases.maintenance_product()
        except NotFound as exc:
            blocker = exc.message
        else:
            blocker = purchases.purchase_blocker(current_user)
    card = _card_page() if subscription is None and product is not None and not blocker else {}
    return render_template("billing/maintenance.html", subscription=subscription, product=product, blocker=blocker,
                           errors=errors, declined_help=DECLINED_HELP, SubscriptionStatus=SubscriptionStatus,
                           **card), status


@bp.post("/maintenance/start")
@page(roles=PATIENT)
def maintenance_start():
    try:
        body = form_body(SubscribeIn)
        purchases.subscribe(current_user, body.payment_method)
    except ServiceError as exc:
        return _maintenance_page(refusal(exc), exc.status)
    return done("Monthly maintenance has started. This month's credits arrive in a moment.",
                "billing_pages.maintenance")


@bp.post("/maintenance/cancel")
@page(roles=PATIENT)
def maintenance_cancel():
    """One step, no questions: it ends when the month already paid for ends (as the API's cancel)."""
    try:
        subscription = purchases.cancel_subscription(current_user)
    except ServiceError as exc:
        return _maintenance_page(refusal(exc), exc.status)
    ends = local_time(subscription.current_period_end, "date") if subscription.current_period_end else None
    return done(f"Monthly maintenance is cancelled. {'It ends on ' + ends + '; you' if ends else 'You'} "
                "will not be charged again.", "billing_pages.maintenance")
