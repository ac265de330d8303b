"""Request and response bodies for accounts, profiles and staff administration."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import (
    Address, DbId, Dea, EmergencyContact, LicenseNumber, MentalHealthProvider, Npi, Password, Phone, State, Text100, TimeZone,
    text,
)

StaffRole = Literal["physician", "coach", "ops", "admin"]


# ------------------------------------------------------------------ input


class PatientSignupIn(Schema):
    email: EmailStr
    password: Password
    legal_first_name: Text100
    legal_last_name: Text100
    date_of_birth: date
    state_of_residence: State
    time_zone: TimeZone
    phone: Phone
    shipping_address: Address
    emergency_contact: EmergencyContact
    mental_health_provider: MentalHealthProvider | None = None
    # the token from an anonymous screening, claimed into the new account
    assessment_claim_token: Annotated[str, StringConstraints(min_length=10, max_length=200)] | None = None


# Logging in and asking for a reset take any address: an existing account's email was checked at
# sign-up, and telling "malformed" from "unknown" here would only help someone probing for accounts.
LoginEmail = Annotated[str, StringConstraints(min_length=3, max_length=254)]


class LoginIn(Schema):
    email: LoginEmail
    password: Password


class PasswordResetRequestIn(Schema):
    email: LoginEmail


class PasswordResetConfirmIn(Schema):
    token: Annotated[str, StringConstraints(min_length=10, max_length=500)]
    new_password: Password


class PasswordChangeIn(Schema):
    current_password: Password
    new_password: Password


class ProfileUpdateIn(Schema):
    """Fields a user may change about themselves; omitted fields stay as they are."""

    display_name: Text100 | None = None
    time_zone: TimeZone | None = None
    # patients
    legal_first_name: Text100 | None = None
    legal_last_name: Text100 | None = None
    state_of_residence: State | None = None
    phone: Phone | None = None
    shipping_address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    mental_health_provider: MentalHealthProvider | None = None
    # coaches
    bio: text(2000, min_length=0) | None = None


class LicenseIn(Schema):
    license_number: LicenseNumber
    expires_on: date


class LicenseWithStateIn(LicenseIn):
    state: State


class StaffCreateIn(Schema):
    email: EmailStr
    role: StaffRole
    display_name: Text100
    time_zone: TimeZone
    # physicians
    npi: Npi | None = None
    dea_number: Dea | None = None
    dea_expires_on: date | None = None
    licenses: list[LicenseWithStateIn] = Field(default_factory=list, max_length=60)
    phone: Phone | None = Field(default=None, description="Physicians: paged when on call or when nobody is.")
    # coaches
    bio: text(2000, min_length=0) = ""


class StaffUpdateIn(Schema):
    display_name: Text100 | None = None
    time_zone: TimeZone | None = None
    active: bool | None = None
    npi: Npi | None = None
    dea_number: Dea | None = None
    dea_expires_on: date | None = None
    phone: Phone | None = None
    bio: text(2000, min_length=0) | None = None


class StaffListQuery(Schema):
    role: StaffRole | None = None


class CareAssignmentIn(Schema):
    patient_id: DbId
    staff_id: DbId


class AuditQuery(Schema):
    patient_id: DbId | None = None
    actor_id: DbId | None = None
    before_id: DbId | None = None
    limit: int = Field(default=100, ge=1, le=500)


# ------------------------------------------------------------------ output


class LicenseOut(Schema):
    state: str
    license_number: str
    expires_on: date


class PhysicianOut(Schema):
    npi: str
    dea_number: str | None
    dea_expires_on: date | None
    licenses: list[LicenseOut]
    phone: str | None = None


class CoachOut(Schema):
    bio: str


class PatientOut(Schema):
    legal_first_name: str
    legal_last_name: str
    date_of_birth: date
    state_of_residence: str
    phone: str
    shipping_address: Address
    emergency_contact: EmergencyContact
    mental_health_provider: MentalHealthProvider | None


class UserOut(Schema):
    id: int
    email: str
    role: str
    display_name: str
    time_zone: str
    active: bool
    created_at: Timestamp
    last_login_at: Timestamp | None
    patient: PatientOut | None = None
    physician: PhysicianOut | None = None
    coach: CoachOut | None = None


class StaffListOut(Schema):
    items: list[UserOut]


class PatientRecordOut(Schema):
    """A patient's profile as one member of staff may see it: fields outside their scope are absent."""

    id: int
    scopes: list[str]
    display_name: str
    legal_first_name: str
    legal_last_name: str
    state_of_residence: str
    time_zone: str
    phone: str
    email: str | None = None
    date_of_birth: date | None = None
    shipping_address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    mental_health_provider: MentalHealthProvider | None = None


class CareAssignmentOut(Schema):
    id: int
    patient_id: int
    staff_id: int
    care_role: str
    started_at: Timestamp
    ended_at: Timestamp | None


class AuditEventOut(Schema):
    id: int
    occurred_at: Timestamp
    actor_id: int | None
    actor_role: str | None
    action: str
    resource_type: str
    resource_id: str | None
    patient_id: int | None
    request_id: str | None
    fields: list[str]


class AuditListOut(Schema):
    items: list[AuditEventOut]
    next_before_id: int | None


# ------------------------------------------------------------------ presenters


def user_out(user) -> UserOut:
    profiles: dict = {}
    if user.patient_profile is not None:
        p = user.patient_profile
        profiles["patient"] = PatientOut(
            legal_first_name=p.legal_first_name, legal_last_name=p.legal_last_name,
            date_of_birth=p.date_of_birth, state_of_residence=p.state_of_residence, phone=p.phone_e164,
            shipping_address=p.shipping_address, emergency_contact=p.emergency_contact,
            mental_health_provider=p.mental_health_provider)
    if user.physician_profile is not None:
        d = user.physician_profile
        profiles["physician"] = PhysicianOut(npi=d.npi, dea_number=d.dea_number, dea_expires_on=d.dea_expires_on,
                                             phone=d.phone_e164,
                                     licenses=[LicenseOut(state=lic.state, license_number=lic.license_number,
                                                          expires_on=lic.expires_on) for lic in d.licenses])
    if user.coach_profile is not None:
        profiles["coach"] = CoachOut(bio=user.coach_profile.bio)
    return UserOut(id=user.id, email=user.email, role=user.role.value, display_name=user.display_name,
                   time_zone=user.time_zone, active=user.active, created_at=user.created_at,
                   last_login_at=user.last_login_at, **profiles)


def patient_record_out(user, scopes) -> PatientRecordOut:
    """Only the fields the viewer's scopes allow (minimum necessary)."""
    p = user.patient_profile
    names = {s.value for s in scopes}
    extra: dict = {}
    if "logistics" in names:
        extra["shipping_address"] = p.shipping_address
    if "identity" in names:
        extra.update(email=user.email, date_of_birth=p.date_of_birth, emergency_contact=p.emergency_contact,
                     mental_health_provider=p.mental_health_provider)
    return PatientRecordOut(id=user.id, scopes=sorted(names), display_name=user.display_name,
                            legal_first_name=p.legal_first_name, legal_last_name=p.legal_last_name,
                            state_of_residence=p.state_of_residence, time_zone=user.time_zone, phone=p.phone_e164,
                            **extra)


def care_assignment_out(a) -> CareAssignmentOut:
    return CareAssignmentOut(id=a.id, patient_id=a.patient_id, staff_id=a.staff_id, care_role=a.care_role.value,
                             started_at=a.started_at, ended_at=a.ended_at)


def audit_event_out(e) -> AuditEventOut:
    return AuditEventOut(id=e.id, occurred_at=e.occurred_at, actor_id=e.actor_id, actor_role=e.actor_role,
                         action=e.action, resource_type=e.resource_type, resource_id=e.resource_id,
                         patient_id=e.patient_id, request_id=e.request_id,
                         fields=e.fields.split(",") if e.fields else [])
