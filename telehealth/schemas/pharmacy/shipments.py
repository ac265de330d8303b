"""Request and response bodies for shipments."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import Address, DbId, text

StatusName = Literal["created", "sent_to_pharmacy", "received", "filled", "shipped", "out_for_delivery",
                     "delivered", "exception", "returned", "cancelled"]
Short = text(100)


class ShipmentMoveIn(Schema):
    status: StatusName
    carrier: Short | None = None
    tracking_number: Short | None = None
    signature_name: Short | None = None
    reason: text(300) | None = None


class StageIn(Schema):
    sessions: int = Field(ge=1, le=3)


class BoardQuery(Schema):
    status: StatusName | None = None
    q: Annotated[str, StringConstraints(max_length=64)] | None = None
    breach: Literal["ship", "deliver"] | None = None
    before_id: DbId | None = None
    limit: int = Field(default=50, ge=1, le=500)
    format: Literal["json", "csv"] = "json"


class AddressIn(Schema):
    address: Address


class BoardItemOut(Schema):
    id: int
    pharmacy_order_id: str | None
    status: str
    stage: int
    sessions: int
    patient_id: int
    patient_name: str
    address: Address
    ship_by: Timestamp
    deliver_by: Timestamp
    shipped_at: Timestamp | None
    delivered_at: Timestamp | None
    carrier: str | None
    tracking_number: str | None
    breaches: list[str]
    # the pharmacy has not confirmed a cancellation yet; a send given up after failures (alerted)
    cancel_requested_at: Timestamp | None
    send_failed_at: Timestamp | None


class BoardOut(Schema):
    items: list[BoardItemOut]
    next_before_id: int | None


class ShipmentEventOut(Schema):
    status: str
    at: Timestamp
    source: str
    applied: bool


class ShipmentOut(Schema):
    id: int
    stage: int
    sessions: int
    status: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    delivered_at: Timestamp | None
    # a cancellation asked of the pharmacy and not yet confirmed (the reconciler finishes it)
    cancel_requested_at: Timestamp | None
    history: list[ShipmentEventOut]


class ShipmentListOut(Schema):
    items: list[ShipmentOut]


def shipment_out(s) -> ShipmentOut:
    return ShipmentOut(id=s.id, stage=s.stage, sessions=s.sessions, status=s.status.value, carrier=s.carrier,
                       tracking_number=s.tracking_number, tracking_url=s.tracking_url, delivered_at=s.delivered_at,
                       cancel_requested_at=s.cancel_requested_at, history=[ShipmentEventOut(status=e.status.value, at=e.at, source=e.source, applied=e.applied)
                                for e in s.history])


def board_item_out(shipment, patient, breaches: list[str]) -> BoardItemOut:
    profile = patient.patient_profile
    return BoardItemOut(
        id=shipment.id, pharmacy_order_id=shipment.pharmacy_order_id, status=shipment.status.value,
        stage=shipment.stage, sessions=shipment.sessions, patient_id=patient.id,
        patient_name=f"{profile.legal_first_name} {profile.legal_last_name}", address=shipment.shipping_address,
        ship_by=shipment.ship_by, deliver_by=shipment.deliver_by, shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at, carrier=shipment.carrier, tracking_number=shipment.tracking_number,
        breaches=breaches, cancel_requested_at=shipment.cancel_requested_at, send_failed_at=shipment.send_failed_at)
