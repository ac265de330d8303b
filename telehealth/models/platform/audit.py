"""The audit trail: who read or changed which patient record, and when. Append-only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.types import UTCDateTime


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_time", "patient_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Plain ids, no foreign keys: the trail must keep who and whom even after an account is gone,
    # and must record attempts on records that do not exist.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))  # read, create, update, delete, login, ...
    resource_type: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Names of fields that changed, never their values: the trail itself must hold no PHI.
    fields: Mapped[str | None] = mapped_column(String(500))
