"""The partner pharmacy, behind one adapter: send an order, cancel an order. Requests are signed
like the pharmacy's webhooks (HMAC-SHA256 over "timestamp.body" with the shared secret). Tests and
the demo point PHARMACY_API_BASE at scripts/pharmacy_server.py, which speaks the same protocol."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote

from flask import current_app

from telehealth.errors import ServiceError


def signature(secret: str, ts: str, body: bytes) -> str:
    """HMAC-SHA256 over "timestamp.body": how our requests and the pharmacy's webhooks are signed."""
    return hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class PharmacyUnavailable(ServiceError):
    status = 503
    code = "pharmacy_unavailable"


class PharmacyRefused(ServiceError):
    status = 409
    code = "pharmacy_refused"


class PharmacyRejected(ServiceError):
    """The pharmacy answered that it will not take this request as it is (a 4xx other than 409:
    malformed, bad signature, unknown order, unprocessable): sending it again changes nothing, so
    it is not retried; a person must look at it."""

    status = 502
    code = "pharmacy_rejected"

    def __init__(self, http_status: int):
        super().__init__(f"The pharmacy rejected the request (HTTP {http_status}); nothing changed.")
        self.http_status = http_status


# 4xx answers that say "not now" rather than "never": retried like an outage.
TRANSIENT_4XX = frozenset({408, 425, 429})


def _post(path: str, payload: dict) -> dict:
    cfg = current_app.config
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(f"{cfg['PHARMACY_API_BASE']}{path}", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Pharmacy-Timestamp": ts,
        "X-Pharmacy-Signature": signature(cfg["PHARMACY_WEBHOOK_SECRET"], ts, body)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 409:
            raise PharmacyRefused("The pharmacy has already shipped or cancelled this order; it cannot be changed."
                                  ) from None
        if 400 <= exc.code < 500 and exc.code not in TRANSIENT_4XX:
            raise PharmacyRejected(exc.code) from None
        raise PharmacyUnavailable("The pharmacy did not take the request; nothing changed. Try again shortly.") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PharmacyUnavailable("The pharmacy did not take the order; nothing was sent. Try again shortly.") from exc


def send_order(*, reference: str, patient_name: str, address: dict, medication: str, form: str, strength_mg: int,
               units: int, directions: str) -> str:
    """The pharmacy's order id for the order of `reference`, an idempotency key: sending the same
    reference again (an answer was lost) answers the same order rather than a second one. A
    reference cancelled before its order arrived is refused (PharmacyRefused); an order the
    pharmacy will not take as it is, rejected (PharmacyRejected); no answer, PharmacyUnavailable."""
    reply = _post("/orders", {"reference": reference, "patient_name": patient_name, "address": address,
                              "medication": medication, "form": form, "strength_mg": strength_mg, "units": units,
                              "directions": directions})
    order_id = reply.get("order_id")
    if not isinstance(order_id, str):
        raise PharmacyUnavailable("The pharmacy's answer had no order id.")
    return order_id


def cancel_order(reference: str) -> None:
    """Cancel the order of `reference` (by reference, so an order whose answer was lost, or that
    is still on its way, is cancelled too); PharmacyRefused once it has shipped. Idempotent."""
    _post(f"/references/{quote(reference, safe='')}/cancel", {})


def update_address(order_id: str, address: dict) -> None:
    """Tell the pharmacy where the order goes now; a 409 if it has already shipped."""
    _post(f"/orders/{order_id}/address", {"address": address})
