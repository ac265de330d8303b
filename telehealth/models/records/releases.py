"""Releases of information: a patient's recorded consent to share their progress with their own,
existing mental-health provider (PRODUCT.md: "consented progress reports").

A release names one recipient, says what may be shared (`scope`: one scope per release; a patient
who shares both the progress report and the FHIR record grants two releases, each with its own words), keeps the exact words the patient
agreed to, and lasts until it expires or the patient revokes it. Its state follows from its dates;
the only move a person makes is `revoke`, allowed from `active` alone (`RELEASE_TRANSITIONS`).
The recipient's details say the patient has a mental-health provider: they are encrypted at rest.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.types import EncryptedJSON, EncryptedText, UTCDateTime


class ReleaseScope(StrEnum):
    PROGRESS_REPORT = "progress_report"   # the progress report of services/records/progress_report.py
    FHIR_RECORD = "fhir_record"           # the FHIR R4 export of services/records/fhir_export.py, by a physician


class ReleaseStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


RELEASE_TRANSITIONS: dict[ReleaseStatus, frozenset[ReleaseStatus]] = {
    ReleaseStatus.ACTIVE: frozenset({ReleaseStatus.REVOKED}),
    ReleaseStatus.EXPIRED: frozenset(),   # nothing left to revoke: it no longer allows anything
    ReleaseStatus.REVOKED: frozenset(),
}


class RecordRelease(db.Model):
    __tablename__ = "record_releases"
    __table_args__ = (Index("ix_record_releases_patient_granted", "patient_id", "granted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a consent is part of the record of what was shared, and with whom.
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recipient_name: Mapped[str] = mapped_column(EncryptedText)
    recipient_organization: Mapped[str] = mapped_column(EncryptedText)         # "" when none
    recipient_contact: Mapped[dict | None] = mapped_column(EncryptedJSON)      # {"phone", "email"}
    scope: Mapped[str] = mapped_column(String(30))
    wording: Mapped[str] = mapped_column(EncryptedText)          # the exact text agreed to (names the recipient)
    wording_version: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def recipient_label(self) -> str:
        """The recipient as the release's words and the report name them: "name, organisation"."""
        return f"{self.recipient_name}, {self.recipient_organization}" if self.recipient_organization \
            else self.recipient_name

    def status(self, at: datetime) -> ReleaseStatus:
        if self.revoked_at is not None:
            return ReleaseStatus.REVOKED
        if at >= self.expires_at:
            return ReleaseStatus.EXPIRED
        return ReleaseStatus.ACTIVE

    def allows(self, scope: str, at: datetime) -> bool:
        return self.scope == scope and self.status(at) is ReleaseStatus.ACTIVE

    def revoke(self, at: datetime) -> None:
        current = self.status(at)
        if ReleaseStatus.REVOKED not in RELEASE_TRANSITIONS[current]:
            words = ("This release is already revoked: nothing more is shared under it."
                     if current is ReleaseStatus.REVOKED else f"A release that is {current} cannot be revoked.")
            raise Conflict(words, code=f"release_{current.value}")
        self.revoked_at = at
