"""A staff member's second factor (TOTP, RFC 6238, with one-time recovery codes), and its check
before a controlled-substance prescription is signed or superseded (the DEA's rule for electronic
prescribing of controlled substances, 21 CFR 1311: two factors at signing).

Enrolment: `begin_enrolment` makes a secret and its otpauth:// URI (an unconfirmed one is replaced),
`confirm_enrolment` takes the first code from the app and returns the ten recovery codes, shown once.
`verify(user, code)` accepts a code of the current 30-second step or one either side (clock drift),
never a step already used (one conditional UPDATE, so two requests with one code cannot both pass),
or an unused recovery code (marked used by one conditional UPDATE). Wrong codes are counted: five
within 15 minutes lock the factor for 15 minutes. Enrolment, recovery-code use, failures and
lockouts are audited. Physicians and admins must enrol (`required_for`); other staff may.

A refused code rolls back the caller's uncommitted work and commits only its own count and audit
row (as `authz.deny` does) before the refusal is raised: call `verify` before writing anything. An accepted code is not committed here: the caller's
transaction commits it with what it protects (if that is refused and rolled back, the code was not
spent on anything and may be used again).
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import delete, func, select, update

from telehealth.clock import now
from telehealth.errors import Conflict, Forbidden, ServiceError
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.two_factor import StaffRecoveryCode, StaffTwoFactor
from telehealth.services.platform import audit
from telehealth.tokens import token_hash

FIELD = "second_factor_code"
STEP_SECONDS = 30
DRIFT_STEPS = 1  # a code of the step before or after the current one is accepted too
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
RECOVERY_CODES = 10
# Recovery codes: 10 characters of 31 that cannot be mistaken for each other (no 0/o, 1/l/i): 49 bits.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
REQUIRED_ROLES = frozenset({Role.PHYSICIAN, Role.ADMIN})

ENTER_CODE = "Enter the 6-digit code from your authenticator app."
SET_UP_FIRST = "Set up two-step verification first (Account, Two-step verification)."
WRONG_CODE = "That code is not right. Enter the code your authenticator app shows now."
USED_CODE = "That code was already used; wait for the next one."
WRONG_RECOVERY = "That recovery code is not right, or it was already used."


class SecondFactorRequired(ServiceError):
    """No code given, or no confirmed second factor to check one against."""
    status = 403
    code = "second_factor_required"


class SecondFactorRefused(ServiceError):
    """A wrong or replayed code."""
    status = 403
    code = "second_factor_refused"


class SecondFactorLocked(SecondFactorRefused):
    """Too many wrong codes: no code is accepted for a while."""
    status = 423
    code = "second_factor_locked"


def _refusal(cls: type[ServiceError], message: str) -> ServiceError:
    return cls(message, fields={FIELD: [message]})


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str

    @property
    def secret_groups(self) -> list[str]:
        """The secret in groups of four, for typing it into an app by hand."""
        return [self.secret[i:i + 4] for i in range(0, len(self.secret), 4)]


@dataclass(frozen=True)
class Status:
    required: bool
    enrolled: bool
    pending: bool  # enrolment begun, not yet confirmed
    confirmed_at: datetime | None
    recovery_codes_left: int
    locked_until: datetime | None


def required_for(user: User) -> bool:
    """Physicians and admins must have a second factor; other staff may enrol."""
    return user.role in REQUIRED_ROLES


def _factor(user: User) -> StaffTwoFactor | None:
    return db.session.get(StaffTwoFactor, user.id)


def is_enrolled(user: User) -> bool:
    return db.session.scalar(select(StaffTwoFactor.user_id).where(
        StaffTwoFactor.user_id == user.id, StaffTwoFactor.confirmed_at.is_not(None))) is not None


def needs_enrolment(user: User) -> bool:
    """A physician or admin without a confirmed second factor (sent to enrol by the portal)."""
    return bool(getattr(user, "is_staff", False)) and required_for(user) and not is_enrolled(user)


def _staff_only(user: User) -> None:
    if not user.is_staff:
        raise Forbidden("Two-step verification is for staff accounts.")


def status(user: User) -> Status:
    _staff_only(user)
    factor = _factor(user)
    left = 0
    if factor is not None and factor.is_confirmed:
        left = db.session.scalar(select(func.count()).select_from(StaffRecoveryCode).where(
            StaffRecoveryCode.user_id == user.id, StaffRecoveryCode.used_at.is_(None))) or 0
    at = now()
    return Status(required=required_for(user), enrolled=factor is not None and factor.is_confirmed,
                  pending=factor is not None and not factor.is_confirmed,
                  confirmed_at=factor.confirmed_at if factor else None, recovery_codes_left=left,
                  locked_until=factor.locked_until if factor is not None and factor.is_locked(at) else None)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["CLINIC_NAME"])


def begin_enrolment(user: User) -> Enrolment:
    """A new secret for the authenticator app; an unconfirmed one is replaced. Refused (409) once
    enrolled: a confirmed factor is not replaced by whoever holds the session."""
    _staff_only(user)
    factor = _factor(user)
    if factor is not None and factor.is_confirmed:
        raise Conflict("Two-step verification is already set up for this account.",
                       code="second_factor_enrolled")
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    if factor is None:
        factor = StaffTwoFactor(user_id=user.id, secret=secret, failed_attempts=0)
        db.session.add(factor)
    else:
        factor.secret, factor.created_at = secret, now()
    audit.record(user, "begin", "second_factor", user.id)
    db.session.commit()
    return Enrolment(secret=secret, uri=provisioning_uri(user, secret))


def pending_enrolment(user: User) -> Enrolment | None:
    """The enrolment begun and not yet confirmed (its secret and URI), to show it again."""
    _staff_only(user)
    factor = _factor(user)
    if factor is None or factor.is_confirmed:
        return None
    return Enrolment(secret=factor.secret, uri=provisioning_uri(user, factor.secret))


def _current_step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The step (current, or one either side) whose code this is."""
    totp = pyotp.TOTP(secret)
    current = _current_step(at)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _normalized(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def confirm_enrolment(user: User, code: str | None) -> list[str]:
    """The first code from the app confirms the enrolment; the ten recovery codes, shown once."""
    _staff_only(user)
    factor = _factor(user)
    if factor is None:
        raise Conflict("Begin setting up two-step verification first.", code="second_factor_not_begun")
    if factor.is_confirmed:
        raise Conflict("Two-step verification is already set up for this account.",
                       code="second_factor_enrolled")
    normalized = _normalized(code)
    if not _is_totp(normalized):
        raise _refusal(SecondFactorRequired, ENTER_CODE)
    at = now()
    step = _matching_step(factor.secret, normalized, at)
    if step is None:
        raise _refusal(SecondFactorRefused, WRONG_CODE + " If it keeps failing, check that your phone's time "
                                                          "is set automatically.")
    factor.confirmed_at, factor.last_used_step = at, step  # the confirming code cannot sign anything
    factor.failed_attempts, factor.failures_since, factor.locked_until = 0, None, None
    codes = _new_recovery_codes(user)
    audit.record(user, "enrol", "second_factor", user.id)
    db.session.commit()
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all([StaffRecoveryCode(user_id=user.id, code_hash=token_hash(c)) for c in codes])
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def regenerate_recovery_codes(user: User, code: str | None) -> list[str]:
    """New recovery codes (the old ones stop working), after a valid code."""
    _staff_only(user)
    verify(user, code)
    codes = _new_recovery_codes(user)
    audit.record(user, "regenerate_recovery_codes", "second_factor", user.id)
    db.session.commit()
    return codes


def verify(user: User, code: str | None) -> str:
    """Check a second-factor code for `user`: "totp" or "recovery" when accepted (not committed:
    the caller's transaction spends it); refused in words, on the `second_factor_code` field:
    SecondFactorRequired (none enrolled, no code), SecondFactorRefused (wrong, already used),
    SecondFactorLocked (too many wrong codes)."""
    factor = db.session.scalar(select(StaffTwoFactor).where(
        StaffTwoFactor.user_id == user.id, StaffTwoFactor.confirmed_at.is_not(None)))
    if factor is None:
        raise _refusal(SecondFactorRequired, SET_UP_FIRST)
    at = now()
    if factor.is_locked(at):
        raise _locked(factor, at)
    normalized = _normalized(code)
    if not normalized:
        raise _refusal(SecondFactorRequired, ENTER_CODE)
    if _is_totp(normalized):
        step = _matching_step(factor.secret, normalized, at)
        if step is None:
            _fail(user, factor, at, WRONG_CODE)
        # Spent atomically: of two requests with one code, the second finds the step used (PostgreSQL
        # waits for the first's row lock, then re-reads the condition; SQLite writes one at a time).
        spent = db.session.execute(
            update(StaffTwoFactor)
            .where(StaffTwoFactor.user_id == user.id,
                   (StaffTwoFactor.last_used_step.is_(None)) | (StaffTwoFactor.last_used_step < step))
            .values(last_used_step=step, failed_attempts=0, failures_since=None)
            .execution_options(synchronize_session=False)).rowcount
        if spent != 1:
            _fail(user, factor, at, USED_CODE)
        return "totp"
    used = db.session.execute(
        update(StaffRecoveryCode)
        .where(StaffRecoveryCode.user_id == user.id, StaffRecoveryCode.code_hash == token_hash(normalized),
               StaffRecoveryCode.used_at.is_(None))
        .values(used_at=at).execution_options(synchronize_session=False)).rowcount
    if used != 1:
        _fail(user, factor, at, WRONG_RECOVERY if len(normalized) == 10 else ENTER_CODE)
    db.session.execute(update(StaffTwoFactor).where(StaffTwoFactor.user_id == user.id)
                       .values(failed_attempts=0, failures_since=None).execution_options(synchronize_session=False))
    audit.record(user, "use_recovery_code", "second_factor", user.id)
    return "recovery"


def _locked(factor: StaffTwoFactor, at: datetime) -> ServiceError:
    minutes = max(1, -(-int((factor.locked_until - at).total_seconds()) // 60))
    return _refusal(SecondFactorLocked, f"Too many wrong codes. Two-step verification is locked for "
                                        f"{minutes} more minute{'s' if minutes != 1 else ''}; try again then.")


def _fail(user: User, factor: StaffTwoFactor, at: datetime, message: str):
    """Count and audit a wrong code, commit that, and refuse. As `authz.deny`: the caller's
    uncommitted work is rolled back first, so a refusal writes only its own record."""
    db.session.rollback()
    factor = db.session.get(StaffTwoFactor, user.id)
    locked = factor.record_failure(at, MAX_FAILURES, FAILURE_WINDOW, LOCKOUT)
    audit.record(user, "second_factor_failed", "second_factor", user.id)
    if locked:
        audit.record(user, "second_factor_locked", "second_factor", user.id)
    db.session.commit()
    if locked:
        raise _locked(factor, at)
    raise _refusal(SecondFactorRefused, message)
