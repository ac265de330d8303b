"""Stripe, behind one adapter: the real `stripe` SDK with its base URL from config, so tests and
`make run` talk to a local `localstripe` server and production to Stripe itself.

Only this module imports `stripe`. It speaks in plain values (ids, statuses, cents) and raises
`PaymentDeclined` (the card said no), `UnknownPaymentMethod` (Stripe does not know the payment
method the client sent: the patient's input, a field error) or `PaymentProviderUnavailable`
(Stripe did not answer well).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import stripe
from flask import current_app

from telehealth.clock import UTC
from telehealth.errors import ServiceError

_CLIENT = "telehealth.stripe_client"
log = logging.getLogger(__name__)


class PaymentDeclined(ServiceError):
    status = 402
    code = "payment_declined"


class UnknownPaymentMethod(ServiceError):
    status = 422
    code = "unknown_payment_method"


class PaymentProviderUnavailable(ServiceError):
    status = 503
    code = "payment_provider_unavailable"


class InvalidWebhook(ServiceError):
    status = 400
    code = "invalid_signature"


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str
    failure_message: str | None = None


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool


STRIPE_JS = "https://js.stripe.com/v3/"
STRIPE_API = "https://api.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def browser_script_url() -> str:
    """Where the payment pages load Stripe.js from: STRIPE_JS_URL, else localstripe's stand-in beside
    STRIPE_API_BASE, else Stripe's own. Read per request (the tests' localstripe port varies)."""
    configured = current_app.config.get("STRIPE_JS_URL")
    if configured:
        return configured
    base = current_app.config.get("STRIPE_API_BASE")
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else STRIPE_JS


def browser_origins() -> dict[str, list[str]]:
    """What a page running Stripe.js may reach (for `pages.allow_csp`): the script's origin (which
    also frames the card field) and the API Stripe.js calls (localstripe's own origin here)."""
    script = _origin(browser_script_url())
    base = current_app.config.get("STRIPE_API_BASE")
    return {"script": [script], "connect": [_origin(base) if base else STRIPE_API], "frame": [script]}


def _client() -> stripe.StripeClient:
    app = current_app
    if _CLIENT not in app.extensions:
        base = app.config["STRIPE_API_BASE"]
        app.extensions[_CLIENT] = stripe.StripeClient(
            app.config["STRIPE_SECRET_KEY"], base_addresses={"api": base} if base else {},
            max_network_retries=app.config["STRIPE_MAX_NETWORK_RETRIES"])
    return app.extensions[_CLIENT]


def _call(fn, *args, payment_method: str | None = None, intent_id: str | None = None, **kwargs):
    """`payment_method`: the client's PaymentMethod id that this call names; `intent_id`: our
    PaymentIntent it names too. Stripe not finding the payment method means the client's id is
    unknown (a field error); any other refusal is logged with Stripe's code and type (never PHI)."""
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise PaymentDeclined(exc.user_message or "The card was declined.") from None
    except stripe.InvalidRequestError as exc:
        if payment_method is not None and _names_payment_method(exc, intent_id):
            raise UnknownPaymentMethod(
                "This card could not be found; nothing was charged. Enter your card details again.",
                fields={"payment_method": ["Unknown payment method: enter the card again."]}) from None
        _log_refusal(exc)
        raise PaymentProviderUnavailable(
            "The payment service did not complete the request; nothing was charged. Try again shortly.") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise PaymentProviderUnavailable(
            "The payment service did not answer in time. Check your orders before trying again.") from exc
    except stripe.StripeError as exc:
        _log_refusal(exc)
        raise PaymentProviderUnavailable(
            "The payment service did not complete the request; nothing was charged. Try again shortly.") from exc


def _names_payment_method(exc: stripe.InvalidRequestError, intent_id: str | None) -> bool:
    """Whether Stripe's refusal is about the client's payment method: its `param` says so, or (a
    Stripe that names no parameter, as localstripe does) a 404 while our intent is still there."""
    if exc.param:
        return exc.param == "payment_method" and (exc.code == "resource_missing" or exc.http_status == 404)
    if exc.http_status != 404:
        return False
    if intent_id is None:
        return True  # nothing else in the call can be missing
    try:
        _client().v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError:
        return False  # the intent itself is gone (or Stripe cannot say): not the patient's card
    return True


def _log_refusal(exc: stripe.StripeError) -> None:
    error = getattr(exc, "error", None)
    log.warning("stripe refused a request", extra={
        "stripe_code": exc.code, "stripe_type": getattr(error, "type", None) or type(exc).__name__,
        "stripe_param": getattr(exc, "param", None), "http_status": exc.http_status,
        "stripe_request_id": exc.request_id})


def create_customer(email: str, patient_id: int) -> str:
    customer = _call(_client().v1.customers.create,
                     params={"email": email, "metadata": {"patient_id": str(patient_id)}},
                     options={"idempotency_key": f"customer-{patient_id}"})
    return customer.id


def create_payment_intent(*, amount_cents: int, currency: str, customer_id: str, order_id: int,
                          attempt: str | None = None) -> Intent:
    """`attempt` names the failed intent a retry replaces (it keys the retry's idempotency)."""
    key = f"order-{order_id}" + (f"-after-{attempt}" if attempt else "")
    intent = _call(_client().v1.payment_intents.create,
                   params={"amount": amount_cents, "currency": currency, "customer": customer_id,
                           "payment_method_types": ["card"], "metadata": {"order_id": str(order_id)}},
                   options={"idempotency_key": key})
    return Intent(intent.id, intent.client_secret, intent.status)


def confirm_payment_intent(intent_id: str, payment_method: str) -> Intent:
    """Confirm on the server with a PaymentMethod the browser collected (Stripe's "finalize on the
    server" flow; the Payment Element confirms in the browser instead)."""
    client = _client()
    _call(client.v1.payment_intents.update, intent_id, params={"payment_method": payment_method},
          payment_method=payment_method, intent_id=intent_id)
    # Stripe refuses an unknown id at the update; a Stripe that only looks it up when confirming
    # (localstripe does) answers 404 here: either way it is the client's payment method.
    intent = _call(client.v1.payment_intents.confirm, intent_id, payment_method=payment_method, intent_id=intent_id)
    return Intent(intent.id, intent.client_secret, intent.status)


def cancel_payment_intent(intent_id: str) -> None:
    """Cancel an intent that will not be used (a failed attempt being replaced)."""
    try:
        _client().v1.payment_intents.cancel(intent_id)
    except stripe.InvalidRequestError:
        pass  # already cancelled, or in a state that cannot be cancelled: nothing to stop
    except stripe.StripeError as exc:
        raise PaymentProviderUnavailable("The payment service is unavailable; try again shortly.") from exc


def ensure_plan(*, code: str, name: str, amount_cents: int, currency: str) -> tuple[str, str]:
    """The Stripe Product and monthly Plan for a subscription product (created if missing)."""
    client = _client()
    plan_id = f"plan-{code}-{amount_cents}"
    try:
        plan = client.v1.plans.retrieve(plan_id)
        return plan.product if isinstance(plan.product, str) else plan.product.id, plan.id
    except stripe.InvalidRequestError:
        pass
    except stripe.StripeError as exc:
        raise PaymentProviderUnavailable("The payment service is unavailable; try again shortly.") from exc
    product = _call(client.v1.products.create, params={"name": name, "metadata": {"code": code}})
    try:
        plan = client.v1.plans.create(params={"id": plan_id, "amount": amount_cents, "currency": currency,
                                              "interval": "month", "product": product.id})
    except stripe.StripeError:
        # Another request created this plan a moment ago (its id is ours to choose): use that one.
        plan = _call(client.v1.plans.retrieve, plan_id)
    return (plan.product if isinstance(plan.product, str) else plan.product.id), plan.id


def create_subscription(*, customer_id: str, plan_id: str, payment_method: str, patient_id: int) -> StripeSubscription:
    client = _client()
    _call(client.v1.payment_methods.attach, payment_method, params={"customer": customer_id},
          payment_method=payment_method)
    _call(client.v1.customers.update, customer_id,
          params={"invoice_settings": {"default_payment_method": payment_method}})
    sub = _call(client.v1.subscriptions.create,
                params={"customer": customer_id, "items": [{"plan": plan_id}],
                        "metadata": {"patient_id": str(patient_id)}},
                options={"idempotency_key": f"subscribe-{patient_id}-{payment_method}"})
    return _subscription(sub)


def cancel_at_period_end(subscription_id: str) -> StripeSubscription:
    sub = _call(_client().v1.subscriptions.update, subscription_id, params={"cancel_at_period_end": True})
    return _subscription(sub)


def refund(*, payment_intent_id: str | None, charge_id: str | None = None, amount_cents: int,
           idempotency_key: str) -> str:
    params: dict = {"amount": amount_cents}
    if payment_intent_id:
        params["payment_intent"] = payment_intent_id
    else:
        params["charge"] = charge_id
    result = _call(_client().v1.refunds.create, params=params, options={"idempotency_key": idempotency_key})
    return result.id


@dataclass(frozen=True)
class RefundState:
    id: str
    amount_cents: int
    status: str  # pending, requires_action, succeeded, failed or canceled
    created: int


def charge_refunds(charge_id: str) -> list[RefundState]:
    """Every refund of a charge, as Stripe holds them now (since API version 2022-11-15 a Charge no
    longer embeds its refunds; the list is paged, so more than a page's worth are all read)."""
    page = _call(_client().v1.refunds.list, params={"charge": charge_id, "limit": 100})
    return [RefundState(r.id, int(r.amount), str(getattr(r, "status", None) or "succeeded"),
                        int(getattr(r, "created", 0) or 0)) for r in page.auto_paging_iter()]


def invoice_charge(invoice_id: str) -> str | None:
    invoice = _call(_client().v1.invoices.retrieve, invoice_id)
    charge = getattr(invoice, "charge", None)
    return charge if isinstance(charge, str) or charge is None else charge.id


def parse_webhook(payload: bytes, signature: str | None) -> dict:
    """The event, if and only if its Stripe-Signature is valid for our endpoint secret (and recent)."""
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8", "replace"), signature or "",
                                              current_app.config["STRIPE_WEBHOOK_SECRET"],
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError:
        raise InvalidWebhook("The Stripe signature is missing or invalid.") from None
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise InvalidWebhook("The event is not a JSON object.", code="malformed_event")
    return event


def timestamp(value) -> datetime | None:
    """A Stripe unix time as an aware UTC datetime (None when absent or out of any sane range)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 4_102_444_800:  # before 2100
        return None
    return datetime.fromtimestamp(value, UTC)


def _subscription(sub) -> StripeSubscription:
    return StripeSubscription(sub.id, sub.status, timestamp(getattr(sub, "current_period_end", None)),
                              bool(getattr(sub, "cancel_at_period_end", False)))
