"""Clinical alerts: durable rows for what must reach a physician at any hour (crisis first).

A row is written in the same transaction as the event that raises it; the messaging outbox (SMS
issue) delivers it to the on-call physician and marks it delivered. Physicians acknowledge it.

The on-call rota lives here too: `OnCallShift` says who is on call from when to when (half-open)
and at which phone; `AlertPage` records each page of an urgent alert (who, which phone, when, in
which round of the escalation ladder of services/messaging/notifications.py).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User, enum_column
from telehealth.models.types import EncryptedText, UTCDateTime


class AlertStatus(StrEnum):
    PENDING = "pending"        # written, not yet delivered
    DELIVERED = "delivered"    # sent to the on-call physician
    ACKNOWLEDGED = "acknowledged"


# Who an alert is for. Ops alerts are logistics (a shipment late), never clinical, and are not
# shown to physicians as clinical alerts nor texted to the on-call physician.
PHYSICIAN_RECIPIENTS = ("on_call_physician", "care_team", "clinical_team")
OPS = "ops"


class ClinicalAlert(db.Model):
    __tablename__ = "clinical_alerts"
    __table_args__ = (Index("ix_clinical_alerts_status_created", "status", "created_at"),
                      Index("ix_clinical_alerts_recipient_status", "recipient", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))            # crisis, ...
    urgency: Mapped[str] = mapped_column(String(10))         # urgent | routine
    recipient: Mapped[str] = mapped_column(String(30), default="on_call_physician")
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus, "alert_status"), default=AlertStatus.PENDING)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id", ondelete="SET NULL"))
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measures.id", ondelete="SET NULL"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id", ondelete="SET NULL"))
    # set by sweeps that raise an alert about a thing once, however many scheduler processes run
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    summary: Mapped[str] = mapped_column(EncryptedText)      # clinical words: never put in an SMS body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # rounds of paging done (0: never paged) and when the last one went: the re-page sweep claims
    # round n with a conditional UPDATE on `page_rounds = n`, so two scheduler processes page once
    page_rounds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_paged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def acknowledge(self, actor_id: int, at: datetime) -> None:
        if self.status is AlertStatus.ACKNOWLEDGED:
            raise Conflict("This alert was already acknowledged.")
        self.status = AlertStatus.ACKNOWLEDGED
        self.acknowledged_at, self.acknowledged_by = at, actor_id


class AlertPage(db.Model):
    """One phone paged for an alert in one round: who (a physician, or none for the fallback
    number), why (their rung of the ladder) and when."""
    __tablename__ = "alert_pages"
    __table_args__ = (UniqueConstraint("alert_id", "round", "phone_e164", name="uq_alert_pages_alert_round_phone"),
                      Index("ix_alert_pages_user_alert", "user_id", "alert_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("clinical_alerts.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    phone_e164: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(20))   # on_call | everyone | fallback | care_team | next_shift
    paged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class OnCallShift(db.Model):
    """A physician on call over [starts_at, ends_at), reached at `phone_e164`. Shifts never
    overlap (PostgreSQL holds this with an exclusion constraint; on SQLite the service checks)."""
    __tablename__ = "on_call_shifts"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="time_order"),
                      Index("ix_on_call_shifts_starts_ends", "starts_at", "ends_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phone_e164: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    physician: Mapped[User] = relationship(foreign_keys=[physician_id], lazy="joined")

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def end(self, at: datetime) -> None:
        """End a shift under way now (a shift not started yet is deleted instead)."""
        self.ends_at = at
