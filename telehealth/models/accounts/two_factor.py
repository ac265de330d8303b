"""A staff member's second factor: a TOTP authenticator and one-time recovery codes.

The TOTP secret is encrypted at rest; `last_used_step` is the newest 30-second step whose code was
accepted, so a code (or an earlier one) is never accepted twice (RFC 6238, section 5.2). Failed codes
are counted in a 15-minute window and lock the factor for a while (services/accounts/two_factor.py).
Recovery codes are stored as SHA-256 hashes only (they are random, 49 bits each: no salt or slow
hash needed, as with login session tokens), each used once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.types import EncryptedText, UTCDateTime


class StaffTwoFactor(db.Model):
    __tablename__ = "staff_two_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(EncryptedText)  # base32, as authenticator apps take it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # None until the first code from the app confirms the enrolment
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > at

    def record_failure(self, at: datetime, max_failures: int, window: timedelta, lockout: timedelta) -> bool:
        """Count a wrong code; True when this one locks the factor."""
        if self.failures_since is None or at - self.failures_since > window:
            self.failures_since, self.failed_attempts = at, 0
        self.failed_attempts += 1
        if self.failed_attempts >= max_failures:
            self.locked_until = at + lockout
            self.failed_attempts, self.failures_since = 0, None
            return True
        return False


class StaffRecoveryCode(db.Model):
    __tablename__ = "staff_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_staff_recovery_codes_user_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
