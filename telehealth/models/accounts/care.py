"""Who on the care team looks after which patient: the basis of minimum-necessary access."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import UTCDateTime


class CareRole(StrEnum):
    PHYSICIAN = "physician"
    COACH = "coach"


class CareAssignment(db.Model):
    __tablename__ = "care_assignments"
    __table_args__ = (Index("ix_care_assignments_staff_patient", "staff_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    care_role: Mapped[CareRole] = mapped_column(enum_column(CareRole, "care_role"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Made because the patient booked an appointment with this provider (not by admin or ops): it
    # lasts only while such an appointment is upcoming or recent (care_team); a physician who holds
    # a consult or follow-up makes it a standing one (False).
    via_booking: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @property
    def is_current(self) -> bool:
        return self.ended_at is None

    def end(self, at: datetime) -> None:
        self.ended_at = at
