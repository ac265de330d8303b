"""The care team around a patient: assignments of physicians and coaches, and what each may read.

Admin or ops assign staff (a standing assignment, until ended). Booking a coaching session with a
coach also puts that coach on the team, as a patient would expect, so the coach can write the
session's note: such an assignment (`via_booking`) lasts while the patient has a booked or held
coaching session with the coach that is upcoming or within its note-writing window
(`coaching_note_edit_days`). Access follows that at every read (`authz.is_assigned`); the
`care_team_sweep` job then ends the lapsed rows, so lists of the team stay true."""
from __future__ import annotations

from sqlalchemy import select, update

from telehealth.clock import now, today_in
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, coaching_continues

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
        CareAssignment.ended_at.is_(None)).with_for_update())
    if existing is not None and existing.via_booking:
        # A coach the patient booked becomes a standing member: it no longer ends with the coaching.
        existing.via_booking = False
        audit.record(actor, "update", "care_assignment", existing.id, patient_id=patient_id, fields=["via_booking"])
        db.session.commit()
        return existing
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


def join_for_coaching(patient: User, coach: User) -> None:
    """Put the coach of a coaching session the patient is booking on their care team, unless they
    are on it already. Runs in the booking's transaction: the current assignment is locked, so the
    sweep, which re-checks under the same lock, cannot end it while this booking commits."""
    if coach.role is not Role.COACH:
        return
    current = db.session.scalar(select(CareAssignment).where(
        CareAssignment.patient_id == patient.id, CareAssignment.staff_id == coach.id,
        CareAssignment.ended_at.is_(None)).with_for_update().limit(1))
    if current is not None:
        return
    assignment = CareAssignment(patient_id=patient.id, staff_id=coach.id, care_role=CareRole.COACH,
                                via_booking=True)
    db.session.add(assignment)
    db.session.flush()
    audit.record(patient, "create", "care_assignment", assignment.id, patient_id=patient.id, fields=["via_booking"])


def end_lapsed_coaching(at=None) -> int:
    """End the booking-made assignments whose coaching is over (nothing booked or held that is
    upcoming or within the note-writing window). Each is locked and checked again before it ends,
    so a booking committing meanwhile keeps it; safe in two schedulers at once. Returns how many."""
    at = at or now()
    candidates = list(db.session.scalars(select(CareAssignment.id).where(
        CareAssignment.via_booking.is_(True), CareAssignment.ended_at.is_(None), ~coaching_continues(at))))
    ended = 0
    for assignment_id in candidates:
        # a fresh statement after the lock: it sees a booking that committed while we waited
        locked = db.session.scalar(select(CareAssignment.id).where(
            CareAssignment.id == assignment_id, CareAssignment.ended_at.is_(None)).with_for_update())
        if locked is None:
            db.session.rollback()
            continue
        lapsed = db.session.execute(update(CareAssignment).where(
            CareAssignment.id == assignment_id, CareAssignment.ended_at.is_(None), ~coaching_continues(at))
            .values(ended_at=at)).rowcount
        if lapsed:
            patient_id = db.session.scalar(select(CareAssignment.patient_id).where(CareAssignment.id == assignment_id))
            audit.record(None, "delete", "care_assignment", assignment_id, patient_id=patient_id)
            ended += 1
        db.session.commit()
    return ended


def read_patient_record(actor: User, patient_id: int) -> tuple[User, frozenset[Scope]]:
    """The patient and the scopes `actor` may see of them; the read is audited."""
    scopes = authorize_patient(actor, patient_id, Scope.CONTACT)
    patient = get_patient(patient_id)
    audit.record(actor, "read", "patient_profile", patient_id, patient_id=patient_id)
    db.session.commit()
    return patient, scopes

