"""Accounts: users with exactly one role, and the profile each role needs."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.types import EncryptedDate, EncryptedJSON, UTCDateTime


class Role(StrEnum):
    PATIENT = "patient"
    PHYSICIAN = "physician"
    COACH = "coach"
    OPS = "ops"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.PATIENT


def enum_column(enum_cls: type[StrEnum], name: str):
    """A portable enum: VARCHAR plus a CHECK constraint (no PostgreSQL enum types to migrate)."""
    return Enum(enum_cls, native_enum=False, create_constraint=True, length=20, name=name,
                values_callable=lambda e: [m.value for m in e])


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient_profile: Mapped[PatientProfile | None] = relationship(back_populates="user", uselist=False)
    physician_profile: Mapped[PhysicianProfile | None] = relationship(back_populates="user", uselist=False)
    coach_profile: Mapped[CoachProfile | None] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > at

    def record_failed_login(self, at: datetime, max_failures: int, lockout: timedelta) -> None:
        self.failed_login_count += 1
        if self.failed_login_count >= max_failures:
            self.locked_until = at + lockout
            self.failed_login_count = 0

    def unlock(self) -> None:
        self.failed_login_count = 0
        self.locked_until = None

    def record_login(self, at: datetime) -> None:
        self.unlock()
        self.last_login_at = at

    def deactivate(self) -> None:
        self.active = False


class LoginSession(db.Model):
    """One login on one device. The cookie carries a random token; only its SHA-256 is stored, so
    a copy of the database cannot be turned into live sessions. Ending the row ends the session,
    whatever copies of the cookie exist."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(30))

    user: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def is_idle(self, at: datetime, limit: timedelta) -> bool:
        return at - self.last_seen_at > limit

    def end(self, at: datetime, reason: str) -> None:
        if self.ended_at is None:
            self.ended_at, self.ended_reason = at, reason


class PatientProfile(db.Model):
    __tablename__ = "patient_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    legal_first_name: Mapped[str] = mapped_column(String(100))
    legal_last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(EncryptedDate)
    state_of_residence: Mapped[str] = mapped_column(String(2), index=True)
    phone_e164: Mapped[str] = mapped_column(String(16), index=True)
    shipping_address: Mapped[dict] = mapped_column(EncryptedJSON)
    emergency_contact: Mapped[dict] = mapped_column(EncryptedJSON)
    mental_health_provider: Mapped[dict | None] = mapped_column(EncryptedJSON)

    user: Mapped[User] = relationship(back_populates="patient_profile")


class PhysicianProfile(db.Model):
    __tablename__ = "physician_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    dea_number: Mapped[str | None] = mapped_column(String(9))
    dea_expires_on: Mapped[date | None] = mapped_column(Date)
    # reached here when paged (on call, or everyone when nobody is); the rota's default phone
    phone_e164: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="physician_profile")
    licenses: Mapped[list[PhysicianLicense]] = relationship(
        back_populates="physician", cascade="all, delete-orphan", order_by="PhysicianLicense.state")

    def license_for(self, state: str, on: date) -> PhysicianLicense | None:
        """The license that lets this physician treat a resident of `state` on day `on`."""
        for lic in self.licenses:
            if lic.state == state and lic.is_valid_on(on):
                return lic
        return None


class PhysicianLicense(db.Model):
    __tablename__ = "physician_licenses"
    __table_args__ = (UniqueConstraint("physician_id", "state", name="uq_physician_licenses_physician_state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician_profiles.user_id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(2), index=True)
    license_number: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date] = mapped_column(Date)

    physician: Mapped[PhysicianProfile] = relationship(back_populates="licenses")

    def is_valid_on(self, day: date) -> bool:
        return day <= self.expires_on


class CoachProfile(db.Model):
    __tablename__ = "coach_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(back_populates="coach_profile")
