"""Request and response bodies for shipments."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from telehealth.api import Schema, Timestamp

StatusName = Literal["created", "sent_to_pharmacy", "received", "filled", "shipped", "out_for_delivery",
                     "delivered", "exception", "returned", "cancelled"]
Short = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ShipmentMoveIn(Schema):
    status: StatusName
    carrier: Short | None = None
    tracking_number: Short | None = None
    signature_name: Short | None = None
    reason: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None


class StageIn(Schema):
    sessions: int = Field(ge=1, le=3)


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
    delivered_at: Timestamp | None
    history: list[ShipmentEventOut]


class ShipmentListOut(Schema):
    items: list[ShipmentOut]


def shipment_out(s) -> ShipmentOut:
    return ShipmentOut(id=s.id, stage=s.stage, sessions=s.sessions, status=s.status.value, carrier=s.carrier,
                       tracking_number=s.tracking_number, delivered_at=s.delivered_at,
                       history=[ShipmentEventOut(status=e.status.value, at=e.at, source=e.source, applied=e.applied)
                                for e in s.history])
