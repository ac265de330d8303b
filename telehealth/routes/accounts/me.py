"""The logged-in user's own account and profile."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.schemas.accounts.accounts import PasswordChangeIn, ProfileUpdateIn, UserOut, user_out
from telehealth.services.accounts import accounts
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
