"""Screening assessments, their clinical review, and the repeated symptom measures of a patient."""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedJSON, EncryptedText, UTCDateTime


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    DECLINED = "declined"


class Decision(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REQUEST_INFO = "request_info"
    PATIENT_REPLY = "patient_reply"


# The review's state machine: which decision moves which state where. Anything else is a 409.
REVIEW_TRANSITIONS: dict[tuple[ReviewStatus, Decision], ReviewStatus] = {
    (ReviewStatus.PENDING, Decision.APPROVE): ReviewStatus.APPROVED,
    (ReviewStatus.PENDING, Decision.DECLINE): ReviewStatus.DECLINED,
    (ReviewStatus.PENDING, Decision.REQUEST_INFO): ReviewStatus.INFO_REQUESTED,
    (ReviewStatus.INFO_REQUESTED, Decision.PATIENT_REPLY): ReviewStatus.PENDING,
    (ReviewStatus.INFO_REQUESTED, Decision.APPROVE): ReviewStatus.APPROVED,
    (ReviewStatus.INFO_REQUESTED, Decision.DECLINE): ReviewStatus.DECLINED,
}
OPEN_REVIEW = (ReviewStatus.PENDING, ReviewStatus.INFO_REQUESTED)


class Assessment(db.Model):
    __tablename__ = "assessments"
    __table_args__ = (
        # the review queue: open items, urgent first, then oldest
        Index("ix_assessments_review_queue", "review_status", "urgent", "submitted_at"),
        Index("ix_assessments_submitted_at", "submitted_at"),
        Index("ix_assessments_review_due", "first_reviewed_at", "review_due_at"),  # the SLA watch
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[AssessmentStatus] = mapped_column(enum_column(AssessmentStatus, "assessment_status"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # SHA-256 of the token that resumes a draft or claims a submission; cleared once claimed.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    answers: Mapped[dict] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    state_of_residence: Mapped[str | None] = mapped_column(String(2))
    outcome: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list | None] = mapped_column(EncryptedJSON)
    phq9_total: Mapped[int | None] = mapped_column(Integer)
    phq9_band: Mapped[str | None] = mapped_column(String(20))
    gad7_total: Mapped[int | None] = mapped_column(Integer)
    gad7_band: Mapped[str | None] = mapped_column(String(20))
    cssrs_risk: Mapped[str | None] = mapped_column(String(10))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)

    review_status: Mapped[ReviewStatus | None] = mapped_column(enum_column(ReviewStatus, "review_status"))
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    decisions: Mapped[list[ReviewDecision]] = relationship(
        back_populates="assessment", order_by="ReviewDecision.id", cascade="all, delete-orphan")

    @property
    def is_open_for_review(self) -> bool:
        return self.review_status in OPEN_REVIEW

    def submit(self, at: datetime, review_within: timedelta) -> None:
        if self.status is AssessmentStatus.SUBMITTED:
            raise Conflict("This assessment was already submitted.")
        self.status = AssessmentStatus.SUBMITTED
        self.submitted_at = self.updated_at = at
        self.review_status = ReviewStatus.PENDING
        self.review_due_at = at + review_within

    def claim(self, patient_id: int, at: datetime) -> None:
        self.patient_id = patient_id
        self.claimed_at = at
        self.token_hash = None  # a claim token works once

    def decide(self, decision: Decision, actor_id: int, at: datetime, *, message: str | None = None,
               note: str | None = None) -> ReviewDecision:
        target = REVIEW_TRANSITIONS.get((self.review_status, decision))  # type: ignore[arg-type]
        if target is None:
            raise Conflict(f"A review that is {self.review_status} cannot take '{decision}'.")
        self.review_status = target
        if decision is not Decision.PATIENT_REPLY:
            self.reviewer_id = actor_id
            self.first_reviewed_at = self.first_reviewed_at or at
        row = ReviewDecision(decision=decision, actor_id=actor_id, at=at, message_to_patient=message,
                             private_note=note)
        self.decisions.append(row)
        return row

    def time_left(self, at: datetime) -> timedelta | None:
        return None if self.review_due_at is None else self.review_due_at - at


class ReviewDecision(db.Model):
    """Append-only history of a review: each decision, who took it and what the patient was told."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision, "review_decision"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    message_to_patient: Mapped[str | None] = mapped_column(EncryptedText)
    private_note: Mapped[str | None] = mapped_column(EncryptedText)

    assessment: Mapped[Assessment] = relationship(back_populates="decisions")


class Measure(db.Model):
    """One administration of a symptom scale (PHQ-9, GAD-7): at screening, retaken, or at follow-up."""

    __tablename__ = "measures"
    __table_args__ = (Index("ix_measures_patient_instrument_time", "patient_id", "instrument", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(20))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(EncryptedJSON)
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    source: Mapped[str] = mapped_column(String(20))  # screening | retake
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id", ondelete="SET NULL"))
