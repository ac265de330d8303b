"""The care team around a patient: assignments of physicians and coaches, and what each may read."""
from __future__ import annotations

from sqlalchemy import select

from telehealth.clock import now, today_in
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts import Role, User
from telehealth.models.care import CareAssignment, CareRole
from telehealth.services import audit
from telehealth.services.authz import Scope, authorize_patient

_CARE_ROLE = {Role.PHYSICIAN: CareRole.PHYSICIAN, Role.COACH: CareRole.COACH}


def get_patient(patient_id: int, *, require_profile: bool = False) -> User:
    """The patient, or NotFound; `require_profile`: a patient account without its profile is none either."""
    user = db.session.get(User, patient_id)
    if user is None or user.role is not Role.PATIENT or (require_profile and user.patient_profile is None):
        raise NotFound("No such patient.")
    return user


def assign(actor: User, patient_id: int, staff_id: int) -> CareAssignment:
    patient = db.session.get(User, patient_id)
    staff = db.session.get(User, staff_id)
    errors = {}
    if patient is None or patient.role is not Role.PATIENT:
        errors["patient_id"] = ["No such patient."]
    if staff is None or staff.role not in _CARE_ROLE or not staff.active:
        errors["staff_id"] = ["Choose an active physician or coach."]
    elif (staff.role is Role.PHYSICIAN and patient is not None and patient.role is Role.PATIENT
          and staff.physician_profile.license_for(patient.patient_profile.state_of_residence,
                                                  today_in(patient.time_zone)) is None):
        errors["staff_id"] = ["This physician holds no valid license in the patient's state."]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    existing = db.session.scalar(select(CareAssignment).where(
        CareAssignment.patient_id == patient_id, CareAssignment.staff_id == staff_id,
        CareAssignment.ended_at.is_(None)))
    if existing is not None:
        raise Conflict("This staff member is already on the patient's care team.")
    assignment = CareAssignment(patient_id=patient_id, staff_id=staff_id, care_role=_CARE_ROLE[staff.role])
    db.session.add(assignment)
    db.session.flush()
    audit.record(actor, "create", "care_assignment", assignment.id, patient_id=patient_id)
    db.session.commit()
    return assignment


def end_assignment(actor: User, assignment_id: int) -> CareAssignment:
    assignment = db.session.get(CareAssignment, assignment_id)
    if assignment is None or not assignment.is_current:
        raise NotFound("No such current care assignment.")
    assignment.end(now())
    audit.record(actor, "delete", "care_assignment", assignment.id, patient_id=assignment.patient_id)
    db.session.commit()
    return assignment


def read_patient_record(actor: User, patient_id: int) -> tuple[User, frozenset[Scope]]:
    """The patient and the scopes `actor` may see of them; the read is audited."""
    scopes = authorize_patient(actor, patient_id, Scope.CONTACT)
    patient = get_patient(patient_id)
    audit.record(actor, "read", "patient_profile", patient_id, patient_id=patient_id)
    db.session.commit()
    return patient, scopes

