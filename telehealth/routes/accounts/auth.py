"""Sign-up, login, logout and password reset."""
from flask import Blueprint, current_app
from flask_login import current_user

from telehealth.api import PUBLIC, Empty, MessageOut, endpoint
from telehealth.extensions import limiter
from telehealth.schemas.accounts.accounts import (
    LoginIn, PasswordResetConfirmIn, PasswordResetRequestIn, PatientSignupIn, UserOut, user_out,
)
from telehealth.services.accounts import accounts
from telehealth.sessions import end_session, start_session

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.post("/signup")
@limiter.limit(_login_limit)
@endpoint("Create a patient account (and log in)", tags=["auth"], auth=PUBLIC, body=PatientSignupIn,
          response=UserOut, status=201, errors=(409, 429))
def signup(body: PatientSignupIn):
    user = accounts.sign_up_patient(body)
    start_session(user)
    return user_out(user)


@bp.post("/login")
@limiter.limit(_login_limit)
@endpoint("Log in with email and password", tags=["auth"], auth=PUBLIC, body=LoginIn, response=UserOut,
          errors=(401, 423, 429))
def login(body: LoginIn):
    """Repeated failures lock the account for LOGIN_LOCKOUT_MINUTES; requests are rate limited per address."""
    user = accounts.authenticate(body.email, body.password)
    start_session(user)
    return user_out(user)


@bp.post("/logout")
@endpoint("Log out", tags=["auth"], auth=PUBLIC, body=Empty, status=204)
def logout(body: Empty):
    if current_user.is_authenticated:
        end_session()


@bp.post("/password-reset")
@limiter.limit(_login_limit)
@endpoint("Ask for a password reset link by email", tags=["auth"], auth=PUBLIC, body=PasswordResetRequestIn,
          response=MessageOut, status=202, errors=(429,))
def request_reset(body: PasswordResetRequestIn):
    """Always 202, whether or not the email has an account."""
    accounts.request_password_reset(body.email)
    return MessageOut(message=accounts.RESET_REQUESTED)


@bp.post("/password-reset/confirm")
@limiter.limit(_login_limit)
@endpoint("Set a new password with a reset or invitation token", tags=["auth"], auth=PUBLIC,
          body=PasswordResetConfirmIn, status=204, errors=(429,))
def confirm_reset(body: PasswordResetConfirmIn):
    accounts.reset_password(body.token, body.new_password)
