"""Accounts: patient sign-up, login with lockout, password reset and change, own-profile updates."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from telehealth.adapters.mail import send_mail
from telehealth.clock import now, today_in
from telehealth.errors import Conflict, Locked, Unauthenticated, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import CoachProfile, PatientProfile, Role, User
from telehealth.policy import current_policy
from telehealth.services.accounts import login_sessions, passwords
from telehealth.services.platform import audit
from telehealth.services.screening import assessments, eligibility

RESET_SALT = "password-reset"
PATIENT_FIELDS = ("legal_first_name", "legal_last_name", "state_of_residence", "shipping_address",
                  "emergency_contact", "mental_health_provider")
# What a profile always keeps: sent empty (null), these are refused rather than ignored.
KEPT_FIELDS = ("display_name", "time_zone")
PATIENT_KEPT_FIELDS = ("legal_first_name", "legal_last_name", "state_of_residence", "phone", "shipping_address",
                       "emergency_contact")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def check_new_password(password: str, email: str, field: str = "password") -> None:
    problems = passwords.policy_problems(password, email=email)
    if problems:
        raise ValidationFailed("Choose a stronger password.", fields={field: problems})


def set_password(user: User, password: str) -> None:
    """Set a new password and end every session opened with the old one."""
    user.password_hash = passwords.hash_password(password)
    login_sessions.end_all(user, "password_changed")


def sign_up_patient(data) -> User:
    """Create a patient account and profile from a validated `PatientSignupIn`."""
    today = today_in(data.time_zone)  # their own calendar day decides whether they are an adult yet
    errors: dict[str, list[str]] = {}
    if data.date_of_birth >= today or data.date_of_birth.year < 1900:
        errors["date_of_birth"] = ["Enter your real date of birth."]
    elif eligibility.age_on(data.date_of_birth, today) < current_policy().minimum_age_years:
        errors["date_of_birth"] = [f"The program is for adults aged {current_policy().minimum_age_years} and over."]
    problems = passwords.policy_problems(data.password, email=data.email)
    if problems:
        errors["password"] = problems
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    if data.assessment_claim_token:
        # refuse before anything is written
        assessments.find_claimable(data.assessment_claim_token, field="assessment_claim_token")
    email = normalize_email(data.email)
    if find_by_email(email):
        raise Conflict("An account with this email already exists; log in or reset your password.",
                       fields={"email": ["Already registered."]})
    user = User(email=email, password_hash=passwords.hash_password(data.password), role=Role.PATIENT,
                display_name=data.legal_first_name, time_zone=data.time_zone)
    profile = PatientProfile(legal_first_name=data.legal_first_name, legal_last_name=data.legal_last_name,
                             state_of_residence=data.state_of_residence, phone_e164=data.phone)
    profile.date_of_birth = data.date_of_birth
    profile.shipping_address = data.shipping_address.model_dump()
    profile.emergency_contact = data.emergency_contact.model_dump()
    profile.mental_health_provider = data.mental_health_provider.model_dump() if data.mental_health_provider else None
    user.patient_profile = profile
    user.record_login(now())  # sign-up logs the patient in
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent sign-up with the same email won the race
        db.session.rollback()
        raise Conflict("An account with this email already exists.", fields={"email": ["Already registered."]}) from None
    audit.record(user, "create", "patient_profile", user.id, patient_id=user.id)
    if data.assessment_claim_token:
        assessments.claim(user, data.assessment_claim_token, commit=False, field="assessment_claim_token")
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The user with these credentials; failures count towards a temporary lock."""
    cfg = current_app.config
    moment = now()
    user = find_by_email(email)
    if user is None:
        passwords.burn_verify_time(password)
        raise Unauthenticated("Wrong email or password.", code="invalid_credentials")
    if user.is_locked(moment):
        raise Locked("Too many failed attempts: this account is locked for a while. "
                     "Try again later or reset your password.")
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        user.record_failed_login(moment, cfg["LOGIN_MAX_FAILURES"], timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"]))
        db.session.commit()
        raise Unauthenticated("Wrong email or password.", code="invalid_credentials")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.record_login(moment)
    audit.record(user, "login", "user", user.id, patient_id=user.id if user.role is Role.PATIENT else None)
    db.session.commit()
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    # Ties a token to the password it replaces: once used (or the password changes), it is void.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def send_set_password_mail(user: User, *, invitation: bool) -> None:
    link = f"{current_app.config['PUBLIC_BASE_URL']}/reset-password?token={make_reset_token(user)}"
    if invitation:
        subject = "Your telehealth staff account"
        body = f"An account was created for you. Choose your password here:\n{link}\n"
    else:
        subject = "Reset your password"
        body = f"Someone asked to reset your password. If it was you, choose a new one here:\n{link}\n" \
               "If it was not you, ignore this email."
    send_mail(user.email, subject, body, kind="invitation" if invitation else "password_reset")


# What anyone asking for a reset link is told, whether or not the email has an account.
RESET_REQUESTED = "If an account exists for this email, a link is on its way."


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; the caller learns nothing either way."""
    user = find_by_email(email)
    if user is not None and user.active:
        send_set_password_mail(user, invitation=False)
        db.session.commit()


def reset_token_user(token: str) -> User:
    """The account a reset (or invitation) link sets the password of; refused in words when the
    link is malformed, expired, already used (the password changed since) or the account inactive."""
    cfg = current_app.config
    invalid = ValidationFailed("This link is invalid or has expired; ask for a new one.",
                               fields={"token": ["Invalid or expired."]}, code="invalid_token")
    try:
        data = _serializer().loads(token, max_age=cfg["PASSWORD_RESET_MAX_AGE_SECONDS"])
    except (SignatureExpired, BadSignature):
        raise invalid from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        raise invalid
    return user


def reset_password(token: str, new_password: str) -> User:
    user = reset_token_user(token)
    check_new_password(new_password, user.email, field="new_password")
    set_password(user, new_password)
    user.unlock()  # proving control of the mailbox lifts a lockout
    audit.record(user, "update", "user_password", user.id,
                 patient_id=user.id if user.role is Role.PATIENT else None)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not passwords.verify_password(user.password_hash, current):
        raise ValidationFailed("Your current password is not right.",
                               fields={"current_password": ["Does not match."]})
    check_new_password(new, user.email, field="new_password")
    set_password(user, new)
    audit.record(user, "update", "user_password", user.id,
                 patient_id=user.id if user.role is Role.PATIENT else None)
    db.session.commit()


def update_own_profile(user: User, changes: dict) -> User:
    """Apply the fields of a `ProfileUpdateIn` that were sent; each field must suit the user's role."""
    misplaced = [name for name in changes if name in PATIENT_FIELDS + ("phone",) and user.role is not Role.PATIENT]
    misplaced += [name for name in changes if name == "bio" and user.role is not Role.COACH]
    if misplaced:
        raise ValidationFailed("Some fields do not apply to your account.",
                               fields={name: ["Not a field of your profile."] for name in misplaced})
    kept = KEPT_FIELDS + (PATIENT_KEPT_FIELDS if user.role is Role.PATIENT else ())
    cleared = [name for name in kept if name in changes and changes[name] is None]
    if cleared:
        raise ValidationFailed("Some fields are missing or invalid.",
                               fields={name: ["This field is required."] for name in cleared})
    for name in ("display_name", "time_zone"):
        if changes.get(name) is not None:
            setattr(user, name, changes[name])
    if user.role is Role.PATIENT:
        profile = user.patient_profile
        for name in PATIENT_FIELDS:
            if name in changes and (changes[name] is not None or name == "mental_health_provider"):
                setattr(profile, name, changes[name])
        if changes.get("phone") is not None:
            profile.phone_e164 = changes["phone"]
    if user.role is Role.COACH and changes.get("bio") is not None:
        user.coach_profile = user.coach_profile or CoachProfile(bio="")
        user.coach_profile.bio = changes["bio"]
    audit.record(user, "update", "profile", user.id,
                 patient_id=user.id if user.role is Role.PATIENT else None, fields=changes.keys())
    db.session.commit()
    return user
