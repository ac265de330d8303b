"""The logged-in user's own account and profile."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.accounts.accounts import PasswordChangeIn, ProfileUpdateIn, UserOut, user_out
from telehealth.schemas.accounts.two_factor import (
    RecoveryCodesOut, TwoFactorCodeIn, TwoFactorEnrolmentOut, TwoFactorStatusOut, status_out,
)
from telehealth.services.accounts import accounts, two_factor
from telehealth.sessions import start_session

bp = Blueprint("me", __name__, url_prefix="/api/v1/me")


@bp.get("")
@endpoint("My account and profile", tags=["me"], response=UserOut)
def get_me():
    return user_out(current_user)


@bp.patch("")
@endpoint("Change my profile", tags=["me"], body=ProfileUpdateIn, response=UserOut)
def update_me(body: ProfileUpdateIn):
    return user_out(accounts.update_own_profile(current_user, body.model_dump(exclude_unset=True)))


@bp.post("/password")
@endpoint("Change my password (ends my other sessions)", tags=["me"], body=PasswordChangeIn, status=204)
def change_password(body: PasswordChangeIn):
    accounts.change_password(current_user, body.current_password, body.new_password)
    start_session(current_user)  # this session continues under the new generation


# ------------------------------------------------------------------ two-step verification (staff)

STAFF = (Role.PHYSICIAN, Role.COACH, Role.OPS, Role.ADMIN)


@bp.get("/two-factor")
@endpoint("My two-step verification: whether I must and did enrol, recovery codes left (staff)", tags=["me"],
          auth=STAFF, response=TwoFactorStatusOut)
def two_factor_status():
    return status_out(two_factor.status(current_user))


@bp.post("/two-factor")
@endpoint("Begin enrolling an authenticator app: a new secret and its otpauth URI (replaces one not yet "
          "confirmed; refused once enrolled)", tags=["me"], auth=STAFF, response=TwoFactorEnrolmentOut,
          status=201, errors=(409,))
def begin_two_factor():
    enrolment = two_factor.begin_enrolment(current_user)
    return TwoFactorEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@bp.post("/two-factor/confirm")
@endpoint("Confirm the enrolment with a first code from the app: the ten recovery codes, shown once",
          tags=["me"], auth=STAFF, body=TwoFactorCodeIn, response=RecoveryCodesOut, errors=(409,))
def confirm_two_factor(body: TwoFactorCodeIn):
    return RecoveryCodesOut(recovery_codes=two_factor.confirm_enrolment(current_user, body.code))


@bp.post("/two-factor/recovery-codes")
@endpoint("New recovery codes (the old ones stop working), with a code from the app", tags=["me"], auth=STAFF,
          body=TwoFactorCodeIn, response=RecoveryCodesOut, errors=(423,))
def regenerate_recovery_codes(body: TwoFactorCodeIn):
    return RecoveryCodesOut(recovery_codes=two_factor.regenerate_recovery_codes(current_user, body.code))
