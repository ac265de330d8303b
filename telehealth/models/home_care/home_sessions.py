"""At-home sessions, the blood-pressure readings and check-ins around them, adverse events and
physician pauses (PRODUCT.md "At-home session gates").

Sessions and check-ins are state machines with explicit allowed-transitions tables; a move that is
not in the table is a 409, never a silent change.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedJSON, EncryptedText, UTCDateTime


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"
    ENDED_EARLY = "ended_early"   # stopped for safety (a serious side effect)


SESSION_TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.SCHEDULED: frozenset({SessionStatus.STARTED, SessionStatus.CANCELLED, SessionStatus.MISSED}),
    SessionStatus.STARTED: frozenset({SessionStatus.COMPLETED, SessionStatus.ENDED_EARLY}),
    SessionStatus.COMPLETED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
    SessionStatus.MISSED: frozenset(),
    SessionStatus.ENDED_EARLY: frozenset(),
}
# Sessions that took (or will take) medication: they count against the prescription.
LIVE = (SessionStatus.SCHEDULED, SessionStatus.STARTED, SessionStatus.COMPLETED, SessionStatus.ENDED_EARLY)
TAKEN = (SessionStatus.STARTED, SessionStatus.COMPLETED, SessionStatus.ENDED_EARLY)


class HomeSession(db.Model):
    __tablename__ = "home_sessions"
    __table_args__ = (Index("ix_home_sessions_patient_scheduled", "patient_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescriptions.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, "home_session_status"),
                                                  default=SessionStatus.SCHEDULED)
    sitter_name: Mapped[str] = mapped_column(EncryptedText)
    sitter_phone: Mapped[str] = mapped_column(EncryptedText)   # E.164
    sitter_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # cancelled, missed or ended early
    gate_results: Mapped[list | None] = mapped_column(EncryptedJSON)   # the gates as they stood at the start
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    check_ins: Mapped[list[CheckIn]] = relationship(back_populates="session", order_by="CheckIn.due_at",
                                                    cascade="all, delete-orphan")

    def move_to(self, status: SessionStatus) -> None:
        if status not in SESSION_TRANSITIONS[self.status]:
            raise Conflict(f"A session that is {self.status} cannot become {status}.", code="session_state")
        self.status = status

    def start(self, at: datetime, gates: list[dict]) -> None:
        self.move_to(SessionStatus.STARTED)
        self.started_at, self.gate_results = at, gates

    def complete(self, at: datetime) -> None:
        self.move_to(SessionStatus.COMPLETED)
        self.completed_at = at

    def end_early(self, at: datetime) -> None:
        self.move_to(SessionStatus.ENDED_EARLY)
        self.ended_at = at

    def cancel(self, at: datetime) -> None:
        self.move_to(SessionStatus.CANCELLED)
        self.ended_at = at

    def miss(self, at: datetime) -> None:
        self.move_to(SessionStatus.MISSED)
        self.ended_at = at

    def check_in(self, kind: CheckInKind) -> CheckIn | None:
        return next((c for c in self.check_ins if c.kind is kind), None)


class BpSource(StrEnum):
    APP = "app"
    SMS = "sms"


class BpBand(StrEnum):
    GO = "go"
    NO_GO = "no_go"      # not today; the physician is told
    URGENT = "urgent"    # not today; seek urgent care


class BloodPressureReading(db.Model):
    __tablename__ = "blood_pressure_readings"
    __table_args__ = (Index("ix_blood_pressure_readings_patient_taken", "patient_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("home_sessions.id", ondelete="SET NULL"), index=True)
    systolic: Mapped[int] = mapped_column(Integer)
    diastolic: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[BpSource] = mapped_column(enum_column(BpSource, "bp_source"))
    band: Mapped[BpBand] = mapped_column(enum_column(BpBand, "bp_band"))


class CheckInKind(StrEnum):
    PRE = "pre"              # an hour before the session
    POST = "post"            # two hours after it started
    NEXT_DAY = "next_day"


class CheckInStatus(StrEnum):
    PENDING = "pending"      # not due yet, or due and not sent
    PROMPTED = "prompted"    # the first text went out
    REMINDED = "reminded"    # re-prompted after no answer
    ESCALATED = "escalated"  # still no answer: the physician was told
    ANSWERED = "answered"
    EXPIRED = "expired"      # no longer asked (session cancelled, missed, or started before a pre check-in)


OPEN_CHECK_IN = (CheckInStatus.PENDING, CheckInStatus.PROMPTED, CheckInStatus.REMINDED, CheckInStatus.ESCALATED)
CHECK_IN_TRANSITIONS: dict[CheckInStatus, frozenset[CheckInStatus]] = {
    CheckInStatus.PENDING: frozenset({CheckInStatus.PROMPTED, CheckInStatus.ANSWERED, CheckInStatus.EXPIRED}),
    CheckInStatus.PROMPTED: frozenset({CheckInStatus.REMINDED, CheckInStatus.ESCALATED, CheckInStatus.ANSWERED,
                                       CheckInStatus.EXPIRED}),
    CheckInStatus.REMINDED: frozenset({CheckInStatus.ESCALATED, CheckInStatus.ANSWERED, CheckInStatus.EXPIRED}),
    CheckInStatus.ESCALATED: frozenset({CheckInStatus.ANSWERED, CheckInStatus.EXPIRED}),
    CheckInStatus.ANSWERED: frozenset(),
    CheckInStatus.EXPIRED: frozenset(),
}


class CheckIn(db.Model):
    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("session_id", "kind", name="uq_check_ins_session_id_kind"),
                      Index("ix_check_ins_status_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("home_sessions.id", ondelete="CASCADE"))
    kind: Mapped[CheckInKind] = mapped_column(enum_column(CheckInKind, "check_in_kind"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[CheckInStatus] = mapped_column(enum_column(CheckInStatus, "check_in_status"),
                                                  default=CheckInStatus.PENDING)
    prompted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answers: Mapped[dict | None] = mapped_column(EncryptedJSON)

    session: Mapped[HomeSession] = relationship(back_populates="check_ins")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CHECK_IN

    def move_to(self, status: CheckInStatus) -> None:
        if status not in CHECK_IN_TRANSITIONS[self.status]:
            raise Conflict(f"A check-in that is {self.status} cannot become {status}.", code="check_in_state")
        self.status = status

    def prompt(self, at: datetime) -> None:
        self.move_to(CheckInStatus.PROMPTED)
        self.prompted_at = at

    def remind(self, at: datetime) -> None:
        self.move_to(CheckInStatus.REMINDED)
        self.reminded_at = at

    def escalate(self, at: datetime) -> None:
        self.move_to(CheckInStatus.ESCALATED)
        self.escalated_at = at

    def answer(self, answers: dict, at: datetime) -> None:
        self.move_to(CheckInStatus.ANSWERED)
        self.answers, self.answered_at = answers, at

    def expire(self) -> None:
        self.move_to(CheckInStatus.EXPIRED)


class AdverseGrade(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SERIOUS = "serious"


class AdverseEvent(db.Model):
    __tablename__ = "adverse_events"
    __table_args__ = (Index("ix_adverse_events_patient_cleared", "patient_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("home_sessions.id", ondelete="SET NULL"))
    grade: Mapped[AdverseGrade] = mapped_column(enum_column(AdverseGrade, "adverse_grade"))
    description: Mapped[str] = mapped_column(EncryptedText)
    source: Mapped[str] = mapped_column(String(20))   # check_in, app, sms, physician
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    clearance_note: Mapped[str | None] = mapped_column(EncryptedText)

    def clear(self, physician_id: int, at: datetime, note: str) -> None:
        if self.cleared_at is not None:
            raise Conflict("This adverse event was already cleared.", code="already_cleared")
        self.cleared_at, self.cleared_by, self.clearance_note = at, physician_id, note


class TreatmentPause(db.Model):
    __tablename__ = "treatment_pauses"
    __table_args__ = (Index("ix_treatment_pauses_patient_cleared", "patient_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(EncryptedText)
    adverse_event_id: Mapped[int | None] = mapped_column(ForeignKey("adverse_events.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # None: the system
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    clearance_note: Mapped[str | None] = mapped_column(EncryptedText)

    @classmethod
    def has_open_pause(cls, patient_id: int) -> bool:
        """Whether a pause of the patient (a physician's or the system's) is still open."""
        return db.session.scalar(select(cls.id).where(cls.patient_id == patient_id, cls.cleared_at.is_(None))
                                 .limit(1)) is not None

    def clear(self, physician_id: int, at: datetime, note: str) -> None:
        if self.cleared_at is not None:
            raise Conflict("This pause was already lifted.")
        self.cleared_at, self.cleared_by, self.clearance_note = at, physician_id, note
