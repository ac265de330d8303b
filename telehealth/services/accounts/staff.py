"""Staff administration by admins: accounts, physician credentials and licenses."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import CoachProfile, PhysicianLicense, PhysicianProfile, Role, User
from telehealth.services.accounts import login_sessions, passwords
from telehealth.services.platform import audit
from telehealth.services.accounts.accounts import find_by_email, normalize_email, send_set_password_mail

_PROFILE_OPTIONS = (selectinload(User.physician_profile).selectinload(PhysicianProfile.licenses),
                    selectinload(User.coach_profile), selectinload(User.patient_profile))


def _npi_taken(npi: str, other_than: int | None = None) -> bool:
    query = select(PhysicianProfile.user_id).where(PhysicianProfile.npi == npi)
    found = db.session.scalar(query)
    return found is not None and found != other_than


def create_staff(actor: User, data, *, password: str | None = None) -> User:
    """Create a staff account from a `StaffCreateIn`. Without `password`, the new member gets an
    invitation email with a link to choose one."""
    role = Role(data.role)
    errors: dict[str, list[str]] = {}
    if role is Role.PHYSICIAN:
        if data.npi is None:
            errors["npi"] = ["A physician needs an NPI."]
        elif _npi_taken(data.npi):
            errors["npi"] = ["Another physician has this NPI."]
        if data.dea_number and data.dea_expires_on is None:
            errors["dea_expires_on"] = ["Give the DEA registration's expiry date."]
        states = [lic.state for lic in data.licenses]
        if len(states) != len(set(states)):
            errors["licenses"] = ["One license per state."]
    else:
        for name in ("npi", "dea_number", "dea_expires_on", "phone"):
            if getattr(data, name) is not None:
                errors[name] = ["Only physicians have this."]
        if data.licenses:
            errors["licenses"] = ["Only physicians have licenses."]
    if data.bio and role is not Role.COACH:
        errors["bio"] = ["Only coaches have a bio."]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    if find_by_email(data.email):
        raise Conflict("An account with this email already exists.", fields={"email": ["Already registered."]})

    user = User(email=normalize_email(data.email), role=role, display_name=data.display_name,
                time_zone=data.time_zone,
                password_hash=passwords.hash_password(password) if password else passwords.unusable_password_hash())
    if role is Role.PHYSICIAN:
        user.physician_profile = PhysicianProfile(
            npi=data.npi, dea_number=data.dea_number, dea_expires_on=data.dea_expires_on, phone_e164=data.phone,
            licenses=[PhysicianLicense(state=lic.state, license_number=lic.license_number, expires_on=lic.expires_on)
                      for lic in data.licenses])
    elif role is Role.COACH:
        user.coach_profile = CoachProfile(bio=data.bio)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("An account with this email or NPI already exists.") from None
    audit.record(actor, "create", "staff_account", user.id)
    if password is None:
        send_set_password_mail(user, invitation=True)
    db.session.commit()
    return user


def list_staff(role: str | None = None) -> list[User]:
    query = select(User).where(User.role != Role.PATIENT).options(*_PROFILE_OPTIONS).order_by(User.id)
    if role:
        query = query.where(User.role == Role(role))
    return list(db.session.scalars(query))


def get_staff(staff_id: int) -> User:
    user = db.session.get(User, staff_id, options=_PROFILE_OPTIONS)
    if user is None or user.role is Role.PATIENT:
        raise NotFound("No such staff member.")
    return user


def get_physician(physician_id: int) -> User:
    user = get_staff(physician_id)
    if user.role is not Role.PHYSICIAN:
        raise NotFound("No such physician.")
    return user


def update_staff(actor: User, staff_id: int, changes: dict) -> User:
    user = get_staff(staff_id)
    physician_only = {"npi", "dea_number", "dea_expires_on", "phone"} & changes.keys()
    errors: dict[str, list[str]] = {}
    if physician_only and user.role is not Role.PHYSICIAN:
        errors.update({name: ["Only physicians have this."] for name in physician_only})
    if "bio" in changes and user.role is not Role.COACH:
        errors["bio"] = ["Only coaches have a bio."]
    if changes.get("npi") and _npi_taken(changes["npi"], other_than=user.id):
        errors["npi"] = ["Another physician has this NPI."]
    if changes.get("active") is False and user.id == actor.id:
        errors["active"] = ["You cannot deactivate your own account."]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    for name in ("display_name", "time_zone"):
        if changes.get(name) is not None:
            setattr(user, name, changes[name])
    if "active" in changes and changes["active"] is not None:
        if changes["active"]:
            user.active = True
        elif user.active:
            user.deactivate()
            login_sessions.end_all(user, "deactivated")
    for name in physician_only:
        setattr(user.physician_profile, "phone_e164" if name == "phone" else name, changes[name])
    if changes.get("bio") is not None:
        user.coach_profile.bio = changes["bio"]
    audit.record(actor, "update", "staff_account", user.id, fields=changes.keys())
    db.session.commit()
    return user


def put_license(actor: User, physician_id: int, state: str, data) -> PhysicianLicense:
    """Add or renew the physician's license in `state`."""
    profile = get_physician(physician_id).physician_profile
    lic = next((lic for lic in profile.licenses if lic.state == state), None)
    if lic is None:
        lic = PhysicianLicense(state=state, license_number=data.license_number, expires_on=data.expires_on)
        profile.licenses.append(lic)
    else:
        lic.license_number, lic.expires_on = data.license_number, data.expires_on
    audit.record(actor, "update", "physician_license", f"{physician_id}:{state}")
    db.session.commit()
    return lic


def delete_license(actor: User, physician_id: int, state: str) -> None:
    profile = get_physician(physician_id).physician_profile
    lic = next((lic for lic in profile.licenses if lic.state == state), None)
    if lic is None:
        raise NotFound("This physician has no license in that state.")
    profile.licenses.remove(lic)
    audit.record(actor, "delete", "physician_license", f"{physician_id}:{state}")
    db.session.commit()
