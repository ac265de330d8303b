"""The care team around a patient: assignments of physicians and coaches, and what each may read.

Admin or ops assign staff (a standing assignment, until ended). Booking an appointment with a
provider also puts that provider on the team, as a patient would expect: the coach can write the
session's note, the physician can read the record before the consult and prescribe after it. Such
an assignment (`via_booking`) lasts while the patient has a booked or held appointment with the
provider that is upcoming or recent: within the note-writing window (`coaching_note_edit_days`)
for a coach, within `booked_physician_access_days` for a physician. Access follows that at every
read (`authz.is_assigned`); the `care_team_sweep` job then ends the lapsed rows, so lists of the
team stay true. A physician who holds (records) a consult or follow-up is the patient's physician
from then on: the assignment becomes a standing one (`hold_encounter`)."""
from __future__ import annotations

from sqlalchemy import select, update

from telehealth.clock import now, today_in
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, booking_continues

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


def _current(patient: User, provider: User) -> CareAssignment | None:
    """The provider's current assignment to the patient, locked: the sweep, which re-checks under
    the same lock, cannot end it while the caller's transaction commits."""
    return db.session.scalar(select(CareAssignment).where(
        CareAssignment.patient_id == patient.id, CareAssignment.staff_id == provider.id,
        CareAssignment.ended_at.is_(None)).with_for_update().limit(1))


def join_by_booking(patient: User, provider: User) -> None:
    """Put the provider of an appointment the patient is booking (a coach, a physician) on their care
    team, unless they are on it already. Runs in the booking's transaction (`scheduling.book`)."""
    if provider.role not in _CARE_ROLE or _current(patient, provider) is not None:
        return
    assignment = CareAssignment(patient_id=patient.id, staff_id=provider.id, care_role=_CARE_ROLE[provider.role],
                                via_booking=True)
    db.session.add(assignment)
    db.session.flush()
    audit.record(patient, "create", "care_assignment", assignment.id, patient_id=patient.id, fields=["via_booking"])


def hold_encounter(patient: User, physician: User) -> None:
    """The physician who held (recorded) a consult or follow-up with the patient is their physician
    from then on: a booking-made assignment becomes a standing one (or one is made, should the
    booking's have lapsed). Runs in `scheduling.complete`'s transaction; the caller commits."""
    if physician.role is not Role.PHYSICIAN:
        return
    current = _current(patient, physician)
    if current is not None and not current.via_booking:
        return
    if current is None:
        current = CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN)
        db.session.add(current)
        db.session.flush()
        audit.record(physician, "create", "care_assignment", current.id, patient_id=patient.id)
        return
    current.via_booking = False
    audit.record(physician, "update", "care_assignment", current.id, patient_id=patient.id, fields=["via_booking"])


def end_lapsed_bookings(at=None) -> int:
    """End the booking-made assignments whose booking is over (nothing booked or held with that
    provider that is upcoming or recent, see `authz.booking_continues`). Each is locked and checked
    again before it ends, so a booking committing meanwhile keeps it; safe in two schedulers at
    once. Returns how many."""
    at = at or now()
    candidates = list(db.session.scalars(select(CareAssignment.id).where(
        CareAssignment.via_booking.is_(True), CareAssignment.ended_at.is_(None), ~booking_continues(at))))
    ended = 0
    for assignment_id in candidates:
        # a fresh statement after the lock: it sees a booking that committed while we waited
        locked = db.session.scalar(select(CareAssignment.id).where(
            CareAssignment.id == assignment_id, CareAssignment.ended_at.is_(None)).with_for_update())
        if locked is None:
            db.session.rollback()
            continue
        lapsed = db.session.execute(update(CareAssignment).where(
            CareAssignment.id == assignment_id, CareAssignment.ended_at.is_(None), ~booking_continues(at))
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

