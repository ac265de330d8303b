"""Clinical alerts: durable rows for what must reach a physician at any hour (crisis first).

A row is written in the same transaction as the event that raises it; the messaging outbox (SMS
issue) delivers it to the on-call physician and marks it delivered. Physicians acknowledge it.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts import enum_column
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

    def acknowledge(self, actor_id: int, at: datetime) -> None:
        if self.status is AlertStatus.ACKNOWLEDGED:
            raise Conflict("This alert was already acknowledged.")
        self.status = AlertStatus.ACKNOWLEDGED
        self.acknowledged_at, self.acknowledged_by = at, actor_id
