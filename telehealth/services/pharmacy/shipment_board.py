"""The ops board: shipments newest first with their patient (names and addresses only, nothing
clinical), filtered by status, a search or a missed deadline, and the same rows as CSV. Reading it is
audited; moving a shipment is `shipments.py`."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.services.pharmacy.shipments import NOT_YET_DELIVERED, NOT_YET_SHIPPED
from telehealth.services.platform import audit


def board(actor: User, *, status: str | None = None, search: str | None = None, breach: str | None = None,
          before_id: int | None = None, limit: int = 50) -> list[tuple[Shipment, User]]:
    """Shipments for ops, newest first, with their patient (names and addresses only: nothing
    clinical). `breach`: "ship" (not shipped by its deadline) or "deliver" (not delivered by it)."""
    moment = now()
    query = (select(Shipment, User).join(User, User.id == Shipment.patient_id)
             .options(selectinload(User.patient_profile)).order_by(Shipment.id.desc()).limit(limit))
    if status:
        query = query.where(Shipment.status == ShipmentStatus(status))
    if search:
        term = search.strip()
        conditions = [Shipment.tracking_number == term, Shipment.pharmacy_order_id == term]
        if term.isascii() and term.isdigit() and int(term) < 2**31:
            conditions.append(Shipment.id == int(term))
        query = query.where(or_(*conditions))
    if breach == "ship":
        query = query.where(Shipment.status.in_(NOT_YET_SHIPPED), Shipment.ship_by < moment)
    elif breach == "deliver":
        query = query.where(Shipment.status.in_(NOT_YET_DELIVERED), Shipment.deliver_by < moment)
    if before_id is not None:
        query = query.where(Shipment.id < before_id)
    rows = [(s, u) for s, u in db.session.execute(query).all()]
    audit.record(actor, "read", "shipment_board", None)
    db.session.commit()
    return rows


def breaches(shipment: Shipment) -> list[str]:
    moment = now()
    found = []
    shipped = shipment.shipped_at
    if (shipped or moment) > shipment.ship_by and (shipped is not None or shipment.status in NOT_YET_SHIPPED):
        found.append("ship")
    delivered = shipment.delivered_at
    if (delivered or moment) > shipment.deliver_by and (
            delivered is not None or shipment.status in NOT_YET_DELIVERED):
        found.append("deliver")
    return found


def export_csv(rows: list[tuple[Shipment, User]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["shipment_id", "pharmacy_order_id", "status", "stage", "sessions", "patient", "city", "state",
                     "ship_by", "deliver_by", "shipped_at", "delivered_at", "carrier", "tracking_number", "breaches"])
    for shipment, patient in rows:
        address = shipment.shipping_address
        writer.writerow([shipment.id, shipment.pharmacy_order_id or "", shipment.status.value, shipment.stage,
                         shipment.sessions, f"{patient.patient_profile.legal_first_name} "
                         f"{patient.patient_profile.legal_last_name}", address.get("city", ""),
                         address.get("state", ""), shipment.ship_by.isoformat(), shipment.deliver_by.isoformat(),
                         shipment.shipped_at.isoformat() if shipment.shipped_at else "",
                         shipment.delivered_at.isoformat() if shipment.delivered_at else "",
                         shipment.carrier or "", shipment.tracking_number or "", " ".join(breaches(shipment))])
    return out.getvalue()
