"""The care team's records of a follow-up: the physician's decisions (append-only), the patient's
treatment phase, the PHQ-9 / GAD-7 retake asked before each follow-up, and the coaches' notes.

Treatment phase: `treatment_phases` holds one row per patient whose phase a physician changed (no
row: active). Only active, maintenance and discharged are stored; "paused" is not a phase but the
open `treatment_pauses` rows (a physician's pause and the automatic pause after a serious side
effect alike), so there is one source of truth for a pause. `follow_ups.treatment_status` folds the
two into what the care team reads: active, paused, maintenance or discharged.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, event
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedText, UTCDateTime


class DecisionKind(StrEnum):
    CONTINUE = "continue"        # the plan stands
    ADJUST = "adjust"            # a new prescription version
    PAUSE = "pause"              # no session starts until resumed
    RESUME = "resume"            # lift pauses; back to active from maintenance or discharge
    DISCHARGE = "discharge"      # treatment ends: no new sessions
    MAINTENANCE = "maintenance"  # monthly maintenance


class FollowUpDecision(db.Model):
    """What the physician decided at a follow-up (or outside a visit): never edited or deleted."""

    __tablename__ = "follow_up_decisions"
    __table_args__ = (Index("ix_follow_up_decisions_patient_decided", "patient_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    physician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # the follow_up appointment whose encounter was recorded; none for a decision outside a visit
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="RESTRICT"),
                                                       index=True)
    decision: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind, "follow_up_decision"))
    note: Mapped[str] = mapped_column(EncryptedText)
    # the new version an adjustment signed
    prescription_id: Mapped[int | None] = mapped_column(ForeignKey("prescriptions.id", ondelete="RESTRICT"))
    # the stage whose next stage was released in the same decision
    released_shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


@event.listens_for(FollowUpDecision, "before_update")
def _decisions_are_never_edited(mapper, connection, target) -> None:
    raise ValueError("a follow-up decision is never edited: record a new decision")


@event.listens_for(FollowUpDecision, "before_delete")
def _decisions_are_never_deleted(mapper, connection, target) -> None:
    raise ValueError("a follow-up decision is never deleted")


class TreatmentPhase(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    DISCHARGED = "discharged"


PHASE_TRANSITIONS: dict[TreatmentPhase, frozenset[TreatmentPhase]] = {
    TreatmentPhase.ACTIVE: frozenset({TreatmentPhase.MAINTENANCE, TreatmentPhase.DISCHARGED}),
    TreatmentPhase.MAINTENANCE: frozenset({TreatmentPhase.ACTIVE, TreatmentPhase.DISCHARGED}),
    TreatmentPhase.DISCHARGED: frozenset({TreatmentPhase.ACTIVE}),
}


class PatientTreatmentPhase(db.Model):
    """The patient's phase when a physician changed it (no row: active)."""

    __tablename__ = "treatment_phases"

    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[TreatmentPhase] = mapped_column(enum_column(TreatmentPhase, "treatment_phase"),
                                                  default=TreatmentPhase.ACTIVE)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @classmethod
    def phase_of(cls, patient_id: int) -> TreatmentPhase:
        row = db.session.get(cls, patient_id)
        return row.phase if row is not None else TreatmentPhase.ACTIVE

    def move_to(self, phase: TreatmentPhase, physician_id: int, at: datetime) -> None:
        if phase not in PHASE_TRANSITIONS[self.phase]:
            raise Conflict(f"Treatment that is {self.phase.value} cannot become {phase.value}.", code="phase_change")
        self.phase, self.changed_by, self.changed_at = phase, physician_id, at


class RetakeRequest(db.Model):
    """The patient was asked (by text) to retake PHQ-9 and GAD-7 before this follow-up: once."""

    __tablename__ = "follow_up_retake_requests"

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # the text (none when the patient has no phone on file)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id", ondelete="SET NULL"))


class CoachingNote(db.Model):
    """A coach's notes of one integration session: a private note (the coach who wrote it and the
    patient's care-team physicians) and a short summary the patient reads. The coach edits their
    own note until `coaching_note_edit_days` after the session; each edit counts a revision."""

    __tablename__ = "coaching_notes"
    __table_args__ = (Index("ix_coaching_notes_patient_created", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="RESTRICT"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    coach_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    private_note: Mapped[str] = mapped_column(EncryptedText)
    patient_summary: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    def revise(self, at: datetime, *, private_note: str | None = None, patient_summary: str | None = None) -> list[str]:
        """Change what is given; returns the names of the fields changed."""
        changed = []
        if private_note is not None:
            self.private_note = private_note
            changed.append("private_note")
        if patient_summary is not None:
            self.patient_summary = patient_summary
            changed.append("patient_summary")
        if changed:
            self.updated_at, self.revision = at, self.revision + 1
        return changed
