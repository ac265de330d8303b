"""Shipments as their patient and ops see them, and ops moving one by hand (audited).

Ops see names, addresses and shipment data only: nothing here returns prescription fields."""
from __future__ import annotations

from sqlalchemy import select

from telehealth.clock import now
from telehealth.errors import NotFound
from telehealth.extensions import db
from telehealth.models.accounts import User
from telehealth.models.shipments import Shipment, ShipmentStatus
from telehealth.services import audit


def for_patient(patient: User) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.patient_id == patient.id)
                                   .order_by(Shipment.created_at.desc())))


def move(actor: User, shipment_id: int, target: str, details: dict) -> Shipment:
    """A person's transition: only moves the state machine allows (else 409), kept in the history."""
    shipment = db.session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise NotFound("No such shipment.")
    shipment.apply(ShipmentStatus(target), now(), source="ops", details=details)
    audit.record(actor, "update", "shipment", shipment.id, patient_id=shipment.patient_id, fields=["status"])
    db.session.commit()
    return shipment
