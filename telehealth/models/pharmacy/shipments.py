"""Medication shipments from the partner pharmacy, as an explicit state machine with a history.

The happy path is ordered (created, sent to pharmacy, received, filled, shipped, out for delivery,
delivered); the pharmacy's events may arrive late or out of order, so an event behind the current
state is kept in the history and moves nothing (a late "shipped" after "delivered"). Exception,
returned and cancelled leave the path by the moves in `SIDE_MOVES`.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedJSON, UTCDateTime


class ShipmentStatus(StrEnum):
    CREATED = "created"
    SENT_TO_PHARMACY = "sent_to_pharmacy"
    RECEIVED = "received"
    FILLED = "filled"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"
    CANCELLED = "cancelled"


PATH = (ShipmentStatus.CREATED, ShipmentStatus.SENT_TO_PHARMACY, ShipmentStatus.RECEIVED, ShipmentStatus.FILLED,
        ShipmentStatus.SHIPPED, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED)
RANK = {status: i for i, status in enumerate(PATH)}
FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED})
# Moves off the ordered path, from which states.
SIDE_MOVES: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    ShipmentStatus.EXCEPTION: frozenset(set(PATH) - {ShipmentStatus.DELIVERED}),
    ShipmentStatus.RETURNED: frozenset({ShipmentStatus.SHIPPED, ShipmentStatus.OUT_FOR_DELIVERY,
                                        ShipmentStatus.EXCEPTION}),
    ShipmentStatus.CANCELLED: frozenset({ShipmentStatus.CREATED, ShipmentStatus.SENT_TO_PHARMACY,
                                         ShipmentStatus.RECEIVED, ShipmentStatus.EXCEPTION}),
}


class Move(StrEnum):
    APPLIED = "applied"
    STALE = "stale"        # behind the current state: kept in the history only


def judge(current: ShipmentStatus, target: ShipmentStatus, reached: int = 0) -> Move | None:
    """Whether `target` moves a shipment in `current` (None: a move that is never allowed).
    `reached`: the furthest step of the path it ever got to (an exception does not forget it)."""
    if current in FINAL:
        return Move.STALE if target in PATH else None  # a late event about the way here
    if target in SIDE_MOVES:
        return Move.APPLIED if current in SIDE_MOVES[target] else None
    if current is ShipmentStatus.EXCEPTION:
        # back on the path where the pharmacy says it is now, never behind where it had got to
        return Move.APPLIED if RANK[target] >= reached else Move.STALE
    if RANK[target] > RANK[current]:
        return Move.APPLIED  # forward, possibly past a step whose event is late
    return Move.STALE


def by_hand(current: ShipmentStatus, target: ShipmentStatus, reached: int = 0) -> bool:
    """Whether a person (ops) may move a shipment from `current` to `target`: stricter than `judge`,
    which also takes the pharmacy's reports that may skip a step whose event is late. By hand: one
    step along the path at a time (from an exception, back to where it had got to or the step after),
    or off the path by `SIDE_MOVES`; a stage never sent (`created`, or an exception that never got
    further) only to cancelled, because sending it to the pharmacy is the system's job (a stage
    moved on by hand would have no pharmacy order: the reconciler would skip it, every webhook 404)."""
    if judge(current, target, reached) is not Move.APPLIED:
        return False
    where = reached if current is ShipmentStatus.EXCEPTION else RANK[current]
    if where == RANK[ShipmentStatus.CREATED]:
        return target is ShipmentStatus.CANCELLED
    return target in SIDE_MOVES or RANK[target] <= where + 1


AWAITING_RELEASE = "sessions_completed_at IS NOT NULL AND next_stage_released_at IS NULL"


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint("sessions BETWEEN 1 AND 3", name="sessions_per_shipment"),
        Index("ix_shipments_status_created", "status", "created_at"),
        Index("ix_shipments_status_ship_by", "status", "ship_by"),
        Index("ix_shipments_status_deliver_by", "status", "deliver_by"),
        Index("ix_shipments_tracking", "tracking_number"),
        Index("ix_shipments_status_id", "status", "id"),
        # the physician's work list: stages whose sessions are done, waiting for the next one's release
        Index("ix_shipments_awaiting_release", "patient_id",
              postgresql_where=text(AWAITING_RELEASE), sqlite_where=text(AWAITING_RELEASE)),
        UniqueConstraint("pharmacy_reference", name="uq_shipments_pharmacy_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id", ondelete="RESTRICT"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer)
    status: Mapped[ShipmentStatus] = mapped_column(enum_column(ShipmentStatus, "shipment_status"),
                                                   default=ShipmentStatus.CREATED)
    pharmacy_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    shipping_address: Mapped[dict] = mapped_column(EncryptedJSON)
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    signature_name: Mapped[str | None] = mapped_column(String(100))
    exception_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # SLA deadlines (business days), fixed when the stage is created so the board can query them.
    ship_by: Mapped[datetime] = mapped_column(UTCDateTime)
    deliver_by: Mapped[datetime] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The physician's review of this stage's sessions, which releases the next stage.
    next_stage_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_stage_released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Every session this stage supplied is completed (or ended early) and its post check-in answered:
    # the flag that tells the physician the stage is ready for review (services/home_care/home_sessions).
    sessions_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outbox-style delivery to the pharmacy: a stage is committed as `created` before it is sent,
    # a cancellation is committed as asked before the pharmacy hears of it; the reconciler retries
    # both until the pharmacy has answered.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the pharmacy's idempotency key for this stage: one order however often it is sent
    pharmacy_reference: Mapped[str] = mapped_column(String(64), default=lambda: f"stage-{uuid.uuid4().hex}")
    send_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_send_error: Mapped[str | None] = mapped_column(String(200))
    # Sending was given up (rejected by the pharmacy, or no answer after PHARMACY_MAX_SEND_ATTEMPTS):
    # the reconciler leaves it alone and ops, alerted, cancel it.
    send_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    history: Mapped[list[ShipmentEvent]] = relationship(back_populates="shipment", order_by="ShipmentEvent.id",
                                                        cascade="all, delete-orphan")
    notices: Mapped[list[ShipmentNotice]] = relationship(order_by="ShipmentNotice.id", cascade="all, delete-orphan")

    @property
    def tracking_url(self) -> str | None:
        template = TRACKING_URLS.get((self.carrier or "").upper())
        return template.format(number=self.tracking_number) if template and self.tracking_number else None

    def reached(self) -> int:
        """The furthest step of the path it ever got to (an exception does not forget it)."""
        return max((RANK[e.status] for e in self.history if e.applied and e.status in RANK), default=0)

    def apply(self, target: ShipmentStatus, at: datetime, *, source: str, event_id: str | None = None,
              details: dict | None = None, strict: bool = True) -> Move:
        """Move to `target` if that means something from here, and keep the event in the history.
        `strict` (a person's request): anything but a real move is a 409. Not strict (the pharmacy's
        report, which may be late): a move that means nothing is kept as history only."""
        verdict = judge(self.status, target, self.reached())
        if strict and verdict is not Move.APPLIED:
            raise Conflict(f"A shipment that is {self.status} cannot become {target}.")
        verdict = verdict or Move.STALE
        details = details or {}
        if verdict is Move.APPLIED:
            self.status = target
            if target in (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED):
                # the patient is told by SMS (the messaging outbox delivers these rows)
                self.notices.append(ShipmentNotice(kind=target.value))
            if target is ShipmentStatus.SHIPPED:
                self.shipped_at = at
            if target is ShipmentStatus.DELIVERED:
                self.delivered_at, self.signature_name = at, details.get("signature_name") or self.signature_name
            if target is ShipmentStatus.EXCEPTION:
                self.exception_reason = details.get("reason") or "Unspecified"
        # carrier data may come with any event, even a late one
        self.carrier = details.get("carrier") or self.carrier
        self.tracking_number = details.get("tracking_number") or self.tracking_number
        self.history.append(ShipmentEvent(status=target, at=at, source=source, pharmacy_event_id=event_id,
                                          applied=verdict is Move.APPLIED))
        return verdict


TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FEDEX": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
}


class ShipmentNotice(db.Model):
    """A text the patient is owed about a shipment (shipped, delivered); pending until the SMS
    outbox sends it. The message says nothing clinical: only that a package moved, and its link."""

    __tablename__ = "shipment_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ShipmentEvent(db.Model):
    """The shipment's history: every transition and every event received, applied or not."""

    __tablename__ = "shipment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    status: Mapped[ShipmentStatus] = mapped_column(enum_column(ShipmentStatus, "shipment_event_status"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    source: Mapped[str] = mapped_column(String(20))  # pharmacy | ops | system
    pharmacy_event_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    applied: Mapped[bool] = mapped_column(default=True)

    shipment: Mapped[Shipment] = relationship(back_populates="history")
