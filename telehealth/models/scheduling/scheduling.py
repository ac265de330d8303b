"""Scheduling: providers' weekly availability (in their own time zone), dated exceptions, and
appointments, which can never overlap for one provider.

An appointment blocks its provider from `blocks_from` to `blocks_until` (its time plus buffers).
PostgreSQL enforces "no two booked appointments of one provider overlap" with an exclusion
constraint (migration 0004); SQLite runs write transactions one at a time, and the booking service
checks for overlap inside that transaction.
"""
from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedText, UTCDateTime


class AvailabilityWindow(db.Model):
    """A weekly recurring window, wall-clock time in the provider's zone (weekday: 0 is Monday)."""

    __tablename__ = "availability_windows"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
                      CheckConstraint("start_time < end_time", name="window_order"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class ExceptionKind(StrEnum):
    OFF = "off"        # not available (the whole day when no times are given)
    EXTRA = "extra"    # extra hours on that day


class AvailabilityException(db.Model):
    __tablename__ = "availability_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind, "availability_exception_kind"))
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED,
                                         AppointmentStatus.NO_SHOW}),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.COMPLETED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
}


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="time_order"),
        CheckConstraint("blocks_from <= starts_at AND ends_at <= blocks_until", name="blocks_cover_time"),
        Index("ix_appointments_provider_blocks", "provider_id", "blocks_from"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        # sweeps by type and time (the PHQ-9 / GAD-7 retake asked before each follow-up)
        Index("ix_appointments_type_start", "appointment_type", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    appointment_type: Mapped[str] = mapped_column(String(30))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocks_from: Mapped[datetime] = mapped_column(UTCDateTime)
    blocks_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = mapped_column(enum_column(AppointmentStatus, "appointment_status"),
                                                      default=AppointmentStatus.BOOKED)
    credit_kind: Mapped[str] = mapped_column(String(30))
    video_room: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    late_cancellation: Mapped[bool] = mapped_column(default=False)
    # The telemedicine encounter, recorded by the physician when the consult is completed.
    encounter_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    encounter_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    encounter_modality: Mapped[str | None] = mapped_column(String(20))
    encounter_notes: Mapped[str | None] = mapped_column(EncryptedText)

    def move_to(self, status: AppointmentStatus) -> None:
        if status not in APPOINTMENT_TRANSITIONS[self.status]:
            if status == self.status:  # sent twice (a resubmitted form, a retry): say so plainly
                raise Conflict(f"This appointment is already {status}.")
            raise Conflict(f"An appointment that is {self.status} cannot become {status}.")
        self.status = status

    def cancel(self, actor_id: int, at: datetime, *, late: bool) -> None:
        self.move_to(AppointmentStatus.CANCELLED)
        self.cancelled_at, self.cancelled_by, self.late_cancellation = at, actor_id, late


class CalendarFeed(db.Model):
    """A provider's private iCalendar feed: the URL carries a token whose hash is kept; revoking
    it makes a new one."""

    __tablename__ = "calendar_feeds"

    provider_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Reminder(db.Model):
    """A reminder due before an appointment; the SMS outbox (issue 7) sends the due ones."""

    __tablename__ = "appointment_reminders"
    __table_args__ = (Index("ix_appointment_reminders_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    lead: Mapped[str] = mapped_column(String(10))  # "24h", "1h"
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | cancelled
