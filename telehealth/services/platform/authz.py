"""The one authorization helper: role checks and minimum-necessary access to a patient's records.

Every route goes through `require_role` (via `telehealth.api.endpoint`), and every service that
touches a patient's record calls `authorize_patient` with the kind of data it is about to show.

Who may see what (`Scope`):
- a patient: only their own records, every scope;
- a physician: the patients they care for (a current care assignment: by admin or ops, for good once
  they held a consult or follow-up, or while a consult or follow-up the patient booked with them is
  upcoming or recent);
- a coach: contact details and coaching data of patients assigned to them (by admin or ops, or by
  the patient booking a coaching session with them, while that coaching continues), nothing clinical;
- ops: contact details and logistics of any patient, never identity papers or clinical data;
- admin: contact, identity and logistics (account administration), never clinical data.
"""
from __future__ import annotations

from enum import StrEnum

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select

from telehealth.clock import now
from telehealth.errors import Forbidden, NotFound, Unauthenticated
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.policy import current_policy
from telehealth.services.platform import audit


class Scope(StrEnum):
    CONTACT = "contact"        # name, phone, time zone: enough to reach the patient
    IDENTITY = "identity"      # email, date of birth, emergency contact, outside provider
    LOGISTICS = "logistics"    # shipping address, shipments
    COACHING = "coaching"      # integration sessions, mood answers, coaching summaries
    CLINICAL = "clinical"      # assessments, notes, prescriptions, vitals


_STAFF_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.PHYSICIAN: frozenset(Scope),
    Role.COACH: frozenset({Scope.CONTACT, Scope.COACHING}),
    Role.OPS: frozenset({Scope.CONTACT, Scope.LOGISTICS}),
    Role.ADMIN: frozenset({Scope.CONTACT, Scope.IDENTITY, Scope.LOGISTICS}),
}
# Roles whose reach depends on being on the patient's care team.
_NEEDS_ASSIGNMENT = {Role.PHYSICIAN: CareRole.PHYSICIAN, Role.COACH: CareRole.COACH}


def require_role(user, roles: tuple[Role, ...] | None) -> None:
    """Raise unless `user` is logged in and (when `roles` is given) holds one of them."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthenticated("Log in to continue.")
    if roles and user.role not in roles:
        raise Forbidden("Your role does not allow this.")


def booking_continues(at: datetime):
    """SQL: a care assignment's provider still has an appointment with its patient that is booked or
    held and either upcoming or recent: a coach's within its note-writing window
    (`coaching_note_edit_days` after it ended), a physician's within `booked_physician_access_days`
    (to record the encounter and prescribe). A provider's appointments are all of their own kind
    (coaches coach, physicians consult and follow up), so the assignment's role picks the window."""
    policy = current_policy()
    return exists().where(
        Appointment.patient_id == CareAssignment.patient_id, Appointment.provider_id == CareAssignment.staff_id,
        Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)),
        or_(and_(CareAssignment.care_role == CareRole.COACH,
                 Appointment.ends_at > at - timedelta(days=policy.coaching_note_edit_days)),
            and_(CareAssignment.care_role == CareRole.PHYSICIAN,
                 Appointment.ends_at > at - timedelta(days=policy.booked_physician_access_days))))


def is_assigned(staff: User, patient_id: int, care_role: CareRole) -> bool:
    """A current assignment; one made by a booking counts only while that booking continues (read
    here, so access ends on time even before the sweep closes the row)."""
    return db.session.execute(
        select(CareAssignment.id).where(
            CareAssignment.staff_id == staff.id, CareAssignment.patient_id == patient_id,
            CareAssignment.care_role == care_role, CareAssignment.ended_at.is_(None),
            or_(CareAssignment.via_booking.is_(False), booking_continues(now())),
        ).limit(1)
    ).first() is not None


def scopes_for(actor: User, patient_id: int) -> frozenset[Scope]:
    """Every scope of `patient_id`'s records that `actor` may see (empty: none)."""
    if actor.role is Role.PATIENT:
        return frozenset(Scope) if actor.id == patient_id else frozenset()
    care_role = _NEEDS_ASSIGNMENT.get(actor.role)
    if care_role is not None and not is_assigned(actor, patient_id, care_role):
        return frozenset()
    return _STAFF_SCOPES[actor.role]


def deny(actor: User, resource_type: str, resource_id, *, patient_id: int | None, message: str,
         not_found: str = "No such record."):
    """Record a refused attempt (it is worth knowing about, so it is kept) and raise. A patient
    learns nothing about other patients' records, not even that they exist: they get the 404 that
    an id that does not exist gets (`not_found`: the caller's own message for a missing record),
    word for word."""
    db.session.rollback()  # a refusal writes nothing of the caller's, only its own record
    audit.record(actor, "denied", resource_type, resource_id, patient_id=patient_id)
    db.session.commit()
    if actor.role is Role.PATIENT:
        raise NotFound(not_found)
    raise Forbidden(message)


def authorize_patient(actor: User, patient_id: int, scope: Scope, *,
                      not_found: str = "No such record.") -> frozenset[Scope]:
    """Raise unless `actor` may see `scope` data of the patient; return every scope they hold
    (`not_found`: what a patient is told, the message of a missing record of the caller's kind)."""
    require_role(actor, None)
    scopes = scopes_for(actor, patient_id)
    if scope in scopes:
        return scopes
    deny(actor, f"patient_{scope.value}", patient_id, patient_id=patient_id,
         message="You do not have access to this part of the patient's record.", not_found=not_found)


def authorize_assessment(actor: User, assessment) -> None:
    """Who may read a screening assessment (clinical data): the patient it belongs to; a physician
    while it waits for clinical review, once they have decided on it, or for a patient they care
    for. Nobody else: not ops, coaches or admins."""
    require_role(actor, None)
    if actor.role is Role.PATIENT and assessment.patient_id == actor.id:
        return
    if actor.role is Role.PHYSICIAN and (
        assessment.is_open_for_review
        or assessment.reviewer_id == actor.id
        or (assessment.patient_id is not None and Scope.CLINICAL in scopes_for(actor, assessment.patient_id))
    ):
        return
    deny(actor, "assessment", assessment.id, patient_id=assessment.patient_id,
         message="You do not have access to this assessment.", not_found="No such assessment.")
