"""The patient's medication page: their current prescription (what to take, as the API's
GET /patients/<id>/prescriptions gives it) and each shipment of it, where it is on its way, its
tracking and the dates to expect, from the service GET /api/v1/me/shipments reads
(`shipments.for_patient`). The API gives the patient no delivery confirmation of their own: the
pharmacy's carrier reports the delivery, so the page only shows it."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from telehealth.models.accounts.accounts import Role
from telehealth.models.pharmacy.prescriptions import DosageForm, PrescriptionStatus
from telehealth.models.pharmacy.shipments import PATH, RANK, ShipmentStatus
from telehealth.pages import page
from telehealth.services.pharmacy import prescriptions, shipments

bp = Blueprint("pharmacy_pages", __name__)

S = ShipmentStatus
# Each status as the patient reads it: (short name, what it means and what happens next).
STATUS_WORDS: dict[ShipmentStatus, tuple[str, str]] = {
    S.CREATED: ("Being prepared", "Your prescription is being sent to our partner pharmacy."),
    S.SENT_TO_PHARMACY: ("Sent to the pharmacy", "The pharmacy has your prescription and will prepare it."),
    S.RECEIVED: ("At the pharmacy", "The pharmacy has received your prescription and is preparing it."),
    S.FILLED: ("Filled", "The pharmacy has prepared your medication; it ships next."),
    S.SHIPPED: ("On its way", "Your medication has left the pharmacy with the carrier."),
    S.OUT_FOR_DELIVERY: ("Out for delivery", "The carrier expects to deliver it today. Someone may need to sign "
                                             "for it."),
    S.DELIVERED: ("Delivered", "Your medication has arrived. Keep it somewhere safe and out of reach until "
                               "your session."),
    S.EXCEPTION: ("Delayed", "Something held up this shipment. Our team is on it and will contact you; you do "
                             "not need to do anything."),
    S.RETURNED: ("Returned to the pharmacy", "The carrier could not deliver it and sent it back. Our team will "
                                             "contact you to send it again."),
    S.CANCELLED: ("Cancelled", "This shipment was cancelled; nothing will arrive for it."),
}
# The steps shown as a progress list (created is folded into "sent to the pharmacy").
STEPS = (S.SENT_TO_PHARMACY, S.FILLED, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED)
UNITS = {DosageForm.SUBLINGUAL_TABLET: ("tablet", "tablets", "tablets to dissolve under the tongue"),
         DosageForm.TROCHE: ("troche", "troches", "troches (lozenges)")}
STEP_NAMES = {S.SENT_TO_PHARMACY: "Sent to the pharmacy", S.FILLED: "Filled", S.SHIPPED: "Shipped",
              S.OUT_FOR_DELIVERY: "Out for delivery", S.DELIVERED: "Delivered"}


def _view(shipment) -> dict:
    """What the template shows of one shipment: its words, where it is on the path, its events."""
    reached = shipment.reached() if shipment.status is S.EXCEPTION else RANK.get(shipment.status, 0)
    on_path = shipment.status in PATH or shipment.status is S.EXCEPTION
    name, meaning = STATUS_WORDS[shipment.status]
    if shipment.cancel_requested_at and shipment.status is not S.CANCELLED:
        name, meaning = "Being cancelled", "This shipment is being cancelled with the pharmacy."
    steps = [{"name": STEP_NAMES[step], "done": reached >= RANK[step],
              "current": reached >= RANK[step] and (i + 1 == len(STEPS) or reached < RANK[STEPS[i + 1]])}
             for i, step in enumerate(STEPS)] if on_path else []
    events = [{"name": STATUS_WORDS[e.status][0], "at": e.at} for e in shipment.history if e.applied]
    return {"id": shipment.id, "stage": shipment.stage, "sessions": shipment.sessions, "status": shipment.status.value,
            "name": name, "meaning": meaning, "steps": steps, "events": list(reversed(events)),
            "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url, "ship_by": shipment.ship_by, "deliver_by": shipment.deliver_by,
            "shipped_at": shipment.shipped_at, "delivered_at": shipment.delivered_at,
            "delivered": shipment.status is S.DELIVERED,
            "open": shipment.status not in (S.DELIVERED, S.CANCELLED, S.RETURNED),
            "address": shipment.shipping_address or {}}


@bp.get("/medication")
@page(roles=(Role.PATIENT,))
def medication():
    current = next((rx for rx in prescriptions.for_patient(current_user, current_user.id)
                    if rx.status is PrescriptionStatus.ACTIVE), None)
    rows = [_view(s) for s in shipments.for_patient(current_user)]
    on_the_way = [r for r in rows if r["open"]]
    done = [r for r in rows if not r["open"]]
    return render_template("pharmacy/medication.html", on_the_way=on_the_way, done=done, rx=current,
                           units=UNITS[current.form] if current else None)
