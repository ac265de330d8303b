"""Request and response bodies for a staff member's second factor (two-step verification)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from telehealth.api import Schema, Timestamp


class TwoFactorStatusOut(Schema):
    required: bool = Field(description="Physicians and admins must enrol; other staff may")
    enrolled: bool
    pending: bool = Field(description="Enrolment begun and not yet confirmed with a first code")
    confirmed_at: Timestamp | None
    recovery_codes_left: int
    locked_until: Timestamp | None = Field(description="Set while too many wrong codes lock the factor")


class TwoFactorEnrolmentOut(Schema):
    secret: str = Field(description="Base32 secret for the authenticator app (typed by hand, or read from the URI)")
    otpauth_uri: str = Field(description="otpauth://totp/... URI (the QR code's content)")


class TwoFactorCodeIn(Schema):
    code: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        description="A 6-digit code from the authenticator app (or, to regenerate recovery codes, a recovery code)")


class RecoveryCodesOut(Schema):
    recovery_codes: list[str] = Field(description="Ten one-time codes, shown this once; store them safely")


def status_out(status) -> TwoFactorStatusOut:
    return TwoFactorStatusOut(required=status.required, enrolled=status.enrolled, pending=status.pending,
                              confirmed_at=status.confirmed_at, recovery_codes_left=status.recovery_codes_left,
                              locked_until=status.locked_until)
