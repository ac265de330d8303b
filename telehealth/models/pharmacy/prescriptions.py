"""Prescriptions of a Schedule III medication: signed once, never edited, only superseded by a
new version (PRODUCT.md). The prescriber's license and DEA registration, and the video encounter
that made prescribing lawful, are recorded on the prescription itself."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, event, func, inspect
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedText, UTCDateTime


class DosageForm(StrEnum):
    SUBLINGUAL_TABLET = "sublingual_tablet"
    TROCHE = "troche"


class PrescriptionStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"


class Prescription(db.Model):
    __tablename__ = "prescriptions"
    __table_args__ = (
        CheckConstraint("refills BETWEEN 0 AND 5", name="refills_limit"),
        CheckConstraint("strength_mg > 0 AND dose_per_session_mg > 0 AND sessions > 0", name="positive_amounts"),
        Index("ix_prescriptions_patient_signed", "patient_id", "signed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    physician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The first version's id on every later version; none on a first version (see `lineage`).
    lineage_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("prescriptions.id", ondelete="RESTRICT"))
    status: Mapped[PrescriptionStatus] = mapped_column(enum_column(PrescriptionStatus, "prescription_status"),
                                                       default=PrescriptionStatus.ACTIVE)
    medication: Mapped[str] = mapped_column(String(60))
    form: Mapped[DosageForm] = mapped_column(enum_column(DosageForm, "dosage_form"))
    strength_mg: Mapped[int] = mapped_column(Integer)
    dose_per_session_mg: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer)
    refills: Mapped[int] = mapped_column(Integer)
    directions: Mapped[str] = mapped_column(EncryptedText)
    diagnosis_code: Mapped[str] = mapped_column(String(10))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    refills_until: Mapped[date] = mapped_column(Date)  # refills only within 6 months of signing
    encounter_appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="RESTRICT"))
    license_state: Mapped[str] = mapped_column(String(2))
    license_number: Mapped[str] = mapped_column(String(40))
    dea_number: Mapped[str] = mapped_column(String(9))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def total_sessions(self) -> int:
        """The sessions it covers: the first fill, then up to `refills` more, each of `sessions`."""
        return self.sessions * (1 + self.refills)

    @hybrid_property
    def lineage(self) -> int:
        """The id shared by every version of this prescription: the first version's."""
        return self.lineage_id if self.lineage_id is not None else self.id

    @lineage.inplace.expression
    @classmethod
    def _lineage_expression(cls):
        return func.coalesce(cls.lineage_id, cls.id)


# Once signed, only these may change (to mark it superseded): everything else is the record.
_MUTABLE = {"status", "superseded_at"}


@event.listens_for(Prescription, "before_update")
def _signed_prescriptions_are_immutable(mapper, connection, target: Prescription) -> None:
    changed = {attr.key for attr in inspect(target).attrs if attr.history.has_changes()}
    if changed - _MUTABLE:
        raise ValueError(f"a signed prescription is never edited (tried: {', '.join(sorted(changed - _MUTABLE))}); "
                         "sign a new version that supersedes it")
