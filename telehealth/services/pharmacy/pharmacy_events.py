"""The partner pharmacy's webhook: HMAC-SHA256 over the timestamp and the body with a shared
secret, refused outside a 5-minute window (replays), idempotent on the pharmacy's event id, and
tolerant of events that arrive late or out of order (see models/pharmacy/shipments.py)."""
from __future__ import annotations

import hmac
import json
import re
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telehealth.adapters.payments import timestamp
from telehealth.adapters.pharmacy import signature
from telehealth.clock import now
from telehealth.errors import NotFound, ServiceError, ValidationFailed
from telehealth.extensions import db
from telehealth.models.platform.alerts import OPS
from telehealth.models.pharmacy.shipments import PATH, RANK, Shipment, ShipmentEvent, ShipmentStatus
from telehealth.services.pharmacy.shipments import give_back_credits
from telehealth.services.platform.alerts import raise_once

REPLAY_WINDOW_SECONDS = 300
# reports that the package has left the pharmacy: shipped, and every step of the path after it
LEFT = frozenset(PATH[RANK[ShipmentStatus.SHIPPED]:])


class BadPharmacySignature(ServiceError):
    status = 401
    code = "invalid_signature"


def verify(body: bytes, ts: str | None, sig: str | None) -> dict:
    """The event, if the signature is right and the timestamp within the window."""
    if not ts or not sig or not re.fullmatch(r"[0-9]{1,12}", ts) or not re.fullmatch(r"[0-9a-f]{64}", sig):
        raise BadPharmacySignature("The pharmacy signature or timestamp is missing or malformed.")
    if abs(now().timestamp() - int(ts)) > REPLAY_WINDOW_SECONDS:
        raise BadPharmacySignature("The pharmacy timestamp is outside the 5-minute window.")
    expected = signature(current_app.config["PHARMACY_WEBHOOK_SECRET"], ts, body)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise BadPharmacySignature("The pharmacy signature does not match.")
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    fields = {}
    if not isinstance(event, dict):
        raise ValidationFailed("The event is not a JSON object.", fields={"body": ["Not an object."]})
    for name in ("event_id", "order_id", "status"):
        if not isinstance(event.get(name), str) or not 0 < len(event[name]) <= 100:
            fields[name] = ["Required text."]
    if not isinstance(event.get("status"), str) or event["status"] not in {s.value for s in ShipmentStatus}:
        fields.setdefault("status", []).append("Unknown status.")
    if fields:
        raise ValidationFailed("The event is malformed.", fields=fields)
    return event


def handle(event: dict) -> str:
    """Apply one verified event; "applied", "stale" (kept in the history) or "duplicate"."""
    shipment = db.session.scalar(select(Shipment).where(Shipment.pharmacy_order_id == event["order_id"])
                                 .with_for_update())
    if shipment is None:
        raise NotFound("No shipment has this pharmacy order id.")
    # Checked under the shipment's lock: a concurrent delivery of the same event has either
    # committed (seen here) or waits for this one.
    if _seen(event["event_id"]):
        db.session.commit()
        return "duplicate"
    at = _occurred_at(event)
    details = {k: str(event[k])[:100] for k in ("carrier", "tracking_number", "signature_name", "reason")
               if event.get(k)}
    was = shipment.status
    verdict = shipment.apply(ShipmentStatus(event["status"]), at, source="pharmacy", event_id=event["event_id"],
                             details=details, strict=False)
    if shipment.status is ShipmentStatus.CANCELLED and was is not ShipmentStatus.CANCELLED:
        give_back_credits(shipment)
    if was is ShipmentStatus.CANCELLED and ShipmentStatus(event["status"]) in LEFT:
        # Kept as history only, but a controlled substance may be on its way after all (and its
        # credits were given back): a person must look at it.
        raise_once(f"shipped_after_cancel:{shipment.id}", kind="shipped_after_cancel", urgency="urgent",
                   recipient=OPS, patient_id=shipment.patient_id, shipment_id=shipment.id,
                   summary=f"Shipment #{shipment.id} was reported shipped after it was cancelled.")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if _seen(event["event_id"]):  # the same event, committed by a concurrent delivery
            return "duplicate"
        raise  # any other violation is a bug to see, not a duplicate to hide
    return verdict.value


def _seen(event_id: str) -> bool:
    return db.session.scalar(select(ShipmentEvent.id).where(ShipmentEvent.pharmacy_event_id == event_id)) is not None


def _occurred_at(event: dict) -> datetime:
    value = event.get("occurred_at")
    if isinstance(value, int):
        return timestamp(value) or now()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None and 2000 <= parsed.year <= 2100:
                return parsed
        except ValueError:
            pass
    return now()
