"""The portal's account pages: sign in and out, the idle-logoff keep-alive, sign-up (claiming the
anonymous screening), password reset (the emailed link's page), and the patient's account and profile.

Each translates a form to the service the API calls (routes/accounts/auth.py and me.py) and shows
the same refusals: sign-up `accounts.sign_up_patient` (PatientSignupIn), the reset
`accounts.request_password_reset` / `accounts.reset_password`, the profile
`accounts.update_own_profile` (ProfileUpdateIn) and `accounts.change_password`.

Nested parts of a schema (an address, an emergency contact) are posted as `part.field` inputs.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for,
)
from flask_login import current_user
from pydantic import BaseModel

from telehealth.errors import Forbidden, ServiceError
from telehealth.extensions import limiter
from telehealth.pages import done, form_body, form_values, page, refusal, safe_next
from telehealth.schemas.accounts.accounts import (
    LoginIn, PasswordChangeIn, PasswordResetConfirmIn, PasswordResetRequestIn, PatientSignupIn, ProfileUpdateIn,
)
from telehealth.schemas.common import US_STATE_NAMES as STATE_NAMES
from telehealth.schemas.common import Address, EmergencyContact, MentalHealthProvider
from telehealth.services.accounts import accounts, passwords
from telehealth.services.screening import assessments
from telehealth.sessions import end_session, start_session

bp = Blueprint("accounts_pages", __name__)

# The session key the screening pages keep an anonymous screening's claim token under.
SCREENING_CLAIM = "screening_claim"
IDLE_MESSAGE = "You were signed out after a period of inactivity, to keep your information private."
# The parts of the profile a patient fills in as groups of fields.
PARTS: dict[str, type[BaseModel]] = {"shipping_address": Address, "emergency_contact": EmergencyContact,
                                     "mental_health_provider": MentalHealthProvider}
OPTIONAL_PARTS = ("mental_health_provider",)

# The US zones offered (the schema takes any IANA zone: a zone already on file stays offered).
TIME_ZONES = (
    ("America/New_York", "Eastern time (New York)"), ("America/Chicago", "Central time (Chicago)"),
    ("America/Denver", "Mountain time (Denver)"), ("America/Phoenix", "Arizona time (Phoenix, no daylight saving)"),
    ("America/Los_Angeles", "Pacific time (Los Angeles)"), ("America/Anchorage", "Alaska time (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii time (Honolulu)"),
)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def home_url() -> str:
    """Where a signed-in person starts: their role's own first page once it exists, else the start page."""
    from telehealth.pages import home_endpoint

    endpoint = home_endpoint(current_user)
    return url_for(endpoint) if endpoint else "/"


def field_refusal(exc: ServiceError) -> dict[str, Any]:
    """Like pages.refusal, but a nested field keeps its full name (`shipping_address.postal_code`),
    so the message sits beside that one input."""
    return {"message": exc.message, "fields": dict(exc.fields), "code": exc.code}


def part_values(form=None, parts: dict[str, type[BaseModel]] = PARTS) -> dict[str, Any]:
    """The nested parts of a form (`shipping_address.line1`...) as the schema's objects: empty inputs
    count as not given (so a required one is "required"), and an optional part left wholly empty
    is None (none at all)."""
    form = request.form if form is None else form
    values: dict[str, Any] = {}
    for name, model in parts.items():
        prefix = f"{name}."
        inner = {key.removeprefix(prefix): form[key] for key in form if key.startswith(prefix)}
        given = form_values(model, inner)
        values[name] = None if (name in OPTIONAL_PARTS and not given) else given
    return values


def _choices() -> dict[str, Any]:
    return {"state_names": STATE_NAMES, "time_zones": TIME_ZONES, "password_rules": passwords.policy_rules()}


# ------------------------------------------------------------------ sign in and out


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@page(public=True)
def login():
    target = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or home_url())
    errors = None
    email = request.form.get("email", "")
    if request.args.get("signed_out") == "idle":
        flash(IDLE_MESSAGE, "info")
    if request.method == "POST":
        try:
            body = form_body(LoginIn)
            user = accounts.authenticate(body.email, body.password)
        except ServiceError as exc:
            errors = refusal(exc)
        else:
            start_session(user)
            return redirect(target or home_url())
    return render_template("accounts/login.html", errors=errors, email=email, next=target), (
        422 if errors and errors["code"] == "validation_error" else 401 if errors else 200)


@bp.post("/logout")
@page(public=True)
def logout():
    """Sign out; `reason=idle` when the idle-logoff warning ran out (portal.js), so the sign-in page
    says why."""
    if current_user.is_authenticated:
        end_session()
    if request.form.get("reason") == "idle":
        flash(IDLE_MESSAGE, "info")
    else:
        flash("You are signed out.", "success")
    return redirect(url_for("accounts_pages.login"))


@bp.post("/session/keepalive")
@page(public=True)
def keepalive():
    """"Stay signed in": any request counts as activity; 401 once the session has already ended."""
    if not current_user.is_authenticated:
        return Response(status=401)
    return Response(status=204)


# ------------------------------------------------------------------ sign-up


def _claim_refused(exc: ServiceError) -> bool:
    return "assessment_claim_token" in exc.fields or exc.code == "invalid_token"


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@page(public=True)
def signup():
    """Create the patient's account and attach the screening they just took (its claim token is in
    the session, put there by the screening pages); without one, the screening comes first."""
    if current_user.is_authenticated:
        return redirect(home_url())
    claim = session.get(SCREENING_CLAIM)
    if not claim:
        return render_template("accounts/signup_first.html", lost=False), 200 if request.method == "GET" else 409
    errors = None
    status = 200
    if request.method == "GET":
        try:
            assessments.find_claimable(claim, field="assessment_claim_token")
        except ServiceError:
            session.pop(SCREENING_CLAIM, None)
            return render_template("accounts/signup_first.html", lost=True), 409
    else:
        try:
            body = form_body(PatientSignupIn, extra={**part_values(), "assessment_claim_token": claim})
            user = accounts.sign_up_patient(body)
        except ServiceError as exc:
            if _claim_refused(exc):
                session.pop(SCREENING_CLAIM, None)
                return render_template("accounts/signup_first.html", lost=True), 409
            errors, status = field_refusal(exc), exc.status
        else:
            start_session(user)  # a fresh session: the claim token goes with the old one
            flash("Welcome. Your account is ready and your screening is saved in it.", "success")
            return redirect(home_url())
    return render_template("accounts/signup.html", errors=errors, values=request.form, **_choices()), status


# ------------------------------------------------------------------ password reset


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@page(public=True)
def reset_password():
    """Without a token: ask for the emailed link (always the same answer, as the API's). With the
    link's token (`/reset-password?token=...`, then a hidden field): choose a new password."""
    token = request.form.get("token") if request.method == "POST" else request.args.get("token")
    if request.method == "POST" and token is None:
        try:
            body = form_body(PasswordResetRequestIn)
        except ServiceError as exc:
            return render_template("accounts/reset_request.html", errors=field_refusal(exc),
                                   email=request.form.get("email", "")), exc.status
        accounts.request_password_reset(body.email)
        minutes = current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60
        return done(f"{accounts.RESET_REQUESTED} The link works for {minutes} minutes; if it does not arrive, "
                    "check your spam folder.", "accounts_pages.reset_password")
    if not token:
        return render_template("accounts/reset_request.html", errors=None, email="")
    errors = None
    try:
        if request.method == "POST":
            body = form_body(PasswordResetConfirmIn, extra={"token": token})
            accounts.reset_password(body.token, body.new_password)
            return done("Your new password is set. Sign in with it now.", "accounts_pages.login")
        accounts.reset_token_user(token)
    except ServiceError as exc:
        if exc.code == "invalid_token" or "token" in exc.fields:
            return render_template("accounts/reset_request.html", errors=None, email="", expired=True), exc.status
        errors = field_refusal(exc)
        return render_template("accounts/reset_confirm.html", errors=errors, token=token,
                               password_rules=passwords.policy_rules()), exc.status
    return render_template("accounts/reset_confirm.html", errors=None, token=token,
                           password_rules=passwords.policy_rules())


# ------------------------------------------------------------------ account and profile


def _profile_values() -> dict[str, Any]:
    """The form as it stands: what is on file, in the form's names."""
    user = current_user
    profile = user.patient_profile
    values = {"display_name": user.display_name, "time_zone": user.time_zone,
              "legal_first_name": profile.legal_first_name, "legal_last_name": profile.legal_last_name,
              "state_of_residence": profile.state_of_residence, "phone": profile.phone_e164}
    for name in PARTS:
        for key, value in (getattr(profile, name) or {}).items():
            values[f"{name}.{key}"] = value or ""
    return values


def _profile_changes() -> dict[str, Any]:
    """The submitted profile for ProfileUpdateIn: a field of the form left empty is sent as empty
    (None), so the service refuses to clear what a profile must keep instead of ignoring it."""
    shown = ("display_name", "time_zone", "legal_first_name", "legal_last_name", "state_of_residence", "phone")
    extra: dict[str, Any] = {name: None for name in shown if not request.form.get(name, "").strip()}
    extra.update(part_values())
    return extra


def _render_account(*, profile_errors=None, password_errors=None, status=200):
    values = request.form if profile_errors else _profile_values()
    zones = list(TIME_ZONES)
    if current_user.time_zone not in dict(zones):
        zones.append((current_user.time_zone, current_user.time_zone))
    links = [(endpoint, label) for endpoint, label in (
        ("messaging_pages.texts", "Text messages"), ("records_pages.sharing", "Sharing and your records"),
        ("billing_pages.orders", "Orders, receipts and refunds")) if endpoint in current_app.view_functions]
    return render_template("accounts/account.html", values=values, profile_errors=profile_errors,
                           password_errors=password_errors, links=links,
                           **{**_choices(), "time_zones": zones}), status


def _render_staff_account(*, password_errors=None, status=200):
    """A staff member's account: who they are, two-step verification, the password (details are
    changed by an admin)."""
    from telehealth.services.accounts import two_factor

    return render_template("accounts/staff_account.html", password_errors=password_errors,
                           second_factor=two_factor.status(current_user),
                           password_rules=passwords.policy_rules()), status


@bp.route("/account", methods=["GET", "POST"])
@page()
def account():
    """The patient's details (PATCH /api/v1/me's fields); the password has its own form below.
    Staff see their own account page (no details form: an admin changes those)."""
    if current_user.is_staff:
        if request.method == "POST":
            raise Forbidden("Your details are changed by an admin.")
        return _render_staff_account()
    if request.method == "POST":
        try:
            body = form_body(ProfileUpdateIn, extra=_profile_changes())
            accounts.update_own_profile(current_user, body.model_dump(exclude_unset=True))
        except ServiceError as exc:
            return _render_account(profile_errors=field_refusal(exc), status=exc.status)
        return done("Your details are saved.", "accounts_pages.account")
    return _render_account()


@bp.post("/account/password")
@page()
def change_password():
    """POST /api/v1/me/password's service: the other sessions end, this one carries on."""
    try:
        body = form_body(PasswordChangeIn)
        accounts.change_password(current_user, body.current_password, body.new_password)
    except ServiceError as exc:
        if current_user.is_staff:
            return _render_staff_account(password_errors=field_refusal(exc), status=exc.status)
        return _render_account(password_errors=field_refusal(exc), status=exc.status)
    start_session(current_user)
    return done("Your password is changed. Any other device you were signed in on is now signed out.",
                "accounts_pages.account")
