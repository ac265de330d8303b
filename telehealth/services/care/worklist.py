"""The physician's work list: the patients on their care team who need something from them, each with
the reasons and when each became due, urgent ones first.

Reasons (thresholds from the clinical policy, `telehealth/policy.py`):
- `follow_up_due`: a follow-up is booked within `follow_up_upcoming_days` (due at its start), or the
  patient holds an unused follow-up credit and their last physician encounter (a completed consult
  or follow-up) ended more than `follow_up_interval_days` ago with no follow-up booked (due that
  many days after the encounter; not repeated once the follow-up is overdue);
- `follow_up_overdue`: a patient in treatment (an active prescription) with no physician encounter for
  `follow_up_due_days` (due that many days after the last);
- `adverse_event`: open adverse events (urgent when one is serious), due when the first was opened;
- `treatment_pause`: treatment paused and not resumed, due when paused;
- `escalation`: clinical alerts about the patient nobody acknowledged (urgent when one is urgent);
- `stage_review`: a medication stage whose sessions are all done awaits the physician's release of
  the next one, due when the last of them was done.

The whole list costs a fixed number of queries however many patients the physician has: one
grouped query per reason over the care team, each returning only the patients that reason applies
to, then one for the names of the page. Reading it is audited as one read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PatientProfile, User
from telehealth.models.platform.alerts import PHYSICIAN_RECIPIENTS, AlertStatus, ClinicalAlert
from telehealth.models.care.care_notes import PatientTreatmentPhase, TreatmentPhase
from telehealth.models.billing.billing import CreditBalance, CreditKind
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.home_care.home_sessions import AdverseEvent, AdverseGrade, TreatmentPause
from telehealth.models.pharmacy.prescriptions import Prescription, PrescriptionStatus
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.pharmacy.shipments import Shipment
from telehealth.policy import current_policy
from telehealth.services.platform import audit
from telehealth.services.scheduling.scheduling import PHYSICIAN_TYPES

MAX_LIMIT = 500


@dataclass(frozen=True)
class Reason:
    code: str
    title: str
    due_at: datetime
    urgent: bool = False
    count: int = 1


@dataclass
class WorkItem:
    patient_id: int
    reasons: list[Reason] = field(default_factory=list)
    name: str = ""

    @property
    def urgent(self) -> bool:
        return any(r.urgent for r in self.reasons)

    @property
    def due_at(self) -> datetime:
        return min(r.due_at for r in self.reasons)


@dataclass(frozen=True)
class WorkList:
    items: list[WorkItem]
    total: int       # patients needing action, of which `items` are the first


def _care_team(physician: User):
    return select(CareAssignment.patient_id).where(
        CareAssignment.staff_id == physician.id, CareAssignment.care_role == CareRole.PHYSICIAN,
        CareAssignment.ended_at.is_(None))


def _discharged(patient_id):
    """Whether the patient (a column) was discharged (services/care/follow_ups.py): no longer followed
    up, and nothing more ships to them."""
    return select(PatientTreatmentPhase.patient_id).where(
        PatientTreatmentPhase.patient_id == patient_id, PatientTreatmentPhase.phase == TreatmentPhase.DISCHARGED).exists()


def _grouped(query) -> dict[int, tuple]:
    return {row[0]: tuple(row[1:]) for row in db.session.execute(query).all()}


def worklist(physician: User, *, limit: int = 100) -> WorkList:
    """The physician's patients needing action, urgent first, then the longest due; audited."""
    policy = current_policy()
    at = now()
    mine = _care_team(physician)
    items: dict[int, WorkItem] = {}

    def add(patient_id: int, reason: Reason) -> None:
        items.setdefault(patient_id, WorkItem(patient_id)).reasons.append(reason)

    # Follow-ups. Only patients whose last physician encounter is old enough to matter come back
    # (the grouped query's HAVING), each with whether they hold a follow-up credit and are in
    # treatment (an active prescription: a patient seen once and never treated is not overdue).
    interval = timedelta(days=policy.follow_up_interval_days)
    overdue_after = timedelta(days=policy.follow_up_due_days)
    upcoming = timedelta(days=policy.follow_up_upcoming_days)
    ended = func.max(func.coalesce(Appointment.encounter_ended_at, Appointment.ends_at))
    has_credit = select(CreditBalance.patient_id).where(
        CreditBalance.patient_id == Appointment.patient_id, CreditBalance.kind == CreditKind.FOLLOW_UP,
        CreditBalance.balance > 0).exists()
    in_treatment = select(Prescription.id).where(
        Prescription.patient_id == Appointment.patient_id, Prescription.status == PrescriptionStatus.ACTIVE).exists()
    not_seen = _grouped(
        select(Appointment.patient_id, ended, has_credit, in_treatment)
        .where(Appointment.patient_id.in_(mine), Appointment.appointment_type.in_(PHYSICIAN_TYPES),
               Appointment.status == AppointmentStatus.COMPLETED, ~_discharged(Appointment.patient_id))
        .group_by(Appointment.patient_id)
        .having(ended < at - min(interval, overdue_after)))
    next_follow_up = _grouped(
        select(Appointment.patient_id, func.min(Appointment.starts_at))
        .where(Appointment.patient_id.in_(mine), Appointment.appointment_type == "follow_up",
               Appointment.status == AppointmentStatus.BOOKED, Appointment.starts_at >= at)
        .group_by(Appointment.patient_id))
    for patient_id in set(not_seen) | set(next_follow_up):
        last, credit, treating = not_seen.get(patient_id, (None, False, False))
        booked = next_follow_up.get(patient_id, (None,))[0]
        overdue = last is not None and bool(treating) and at - last > overdue_after
        if overdue:
            add(patient_id, Reason("follow_up_overdue",
                                   f"No physician encounter for more than {policy.follow_up_due_days} days",
                                   last + overdue_after))
        if booked is not None and booked - at <= upcoming:
            add(patient_id, Reason("follow_up_due", "Follow-up booked soon", booked))
        elif booked is None and not overdue and last is not None and credit and at - last > interval:
            add(patient_id, Reason("follow_up_due", "Follow-up due (credit unused)", last + interval))

    for patient_id, (first, count, serious) in _grouped(
            select(AdverseEvent.patient_id, func.min(AdverseEvent.opened_at), func.count(AdverseEvent.id),
                   func.max(case((AdverseEvent.grade == AdverseGrade.SERIOUS, 1), else_=0)))
            .where(AdverseEvent.patient_id.in_(mine), AdverseEvent.cleared_at.is_(None))
            .group_by(AdverseEvent.patient_id)).items():
        add(patient_id, Reason("adverse_event", "Open adverse event", first, urgent=bool(serious), count=count))

    for patient_id, (first, count) in _grouped(
            select(TreatmentPause.patient_id, func.min(TreatmentPause.started_at), func.count(TreatmentPause.id))
            .where(TreatmentPause.patient_id.in_(mine), TreatmentPause.cleared_at.is_(None))
            .group_by(TreatmentPause.patient_id)).items():
        add(patient_id, Reason("treatment_pause", "Treatment paused", first, count=count))

    for patient_id, (first, count, urgent) in _grouped(
            select(ClinicalAlert.patient_id, func.min(ClinicalAlert.created_at), func.count(ClinicalAlert.id),
                   func.max(case((ClinicalAlert.urgency == "urgent", 1), else_=0)))
            .where(ClinicalAlert.patient_id.in_(mine),
                   ClinicalAlert.status.in_((AlertStatus.PENDING, AlertStatus.DELIVERED)),
                   ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS))
            .group_by(ClinicalAlert.patient_id)).items():
        add(patient_id, Reason("escalation", "Unacknowledged alert", first, urgent=bool(urgent), count=count))

    for patient_id, (first, count) in _grouped(
            select(Shipment.patient_id, func.min(Shipment.sessions_completed_at), func.count(Shipment.id))
            .where(Shipment.patient_id.in_(mine), Shipment.sessions_completed_at.is_not(None),
                   Shipment.next_stage_released_at.is_(None), ~_discharged(Shipment.patient_id))
            .group_by(Shipment.patient_id)).items():
        add(patient_id, Reason("stage_review", "Sessions done: the next stage awaits release", first, count=count))

    ordered = sorted(items.values(), key=lambda i: (not i.urgent, i.due_at, i.patient_id))
    page = ordered[:max(1, min(limit, MAX_LIMIT))]
    for item in page:
        item.reasons.sort(key=lambda r: (not r.urgent, r.due_at, r.code))
    if page:
        names = {row.id: f"{row.legal_first_name} {row.legal_last_name}" for row in db.session.execute(
            select(User.id, PatientProfile.legal_first_name, PatientProfile.legal_last_name)
            .join(PatientProfile, PatientProfile.user_id == User.id)
            .where(User.id.in_([i.patient_id for i in page])))}
        for item in page:
            item.name = names.get(item.patient_id, "")
    # one row per patient shown (the list names them and why), so each patient's trail says who saw it
    audit.record_many(physician, "read", "physician_worklist", physician.id,
                      [(item.patient_id, {r.code for r in item.reasons}) for item in page])
    db.session.commit()
    return WorkList(page, len(ordered))
