"""The gates an at-home session must pass before it starts (PRODUCT.md "At-home session gates").

`evaluate_gates` returns every gate with whether it holds and, in plain words for the patient, why
not (or what holds). Every threshold comes from the clinical policy; nothing here writes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.platform.alerts import ClinicalAlert
from telehealth.models.home_care.home_sessions import (
    TAKEN, AdverseEvent, AdverseGrade, BloodPressureReading, BpBand, HomeSession, TreatmentPause,
)
from telehealth.models.pharmacy.prescriptions import Prescription
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.policy import ClinicalPolicy, current_policy
from telehealth.services.pharmacy.prescriptions import active_prescription, versions_of
from telehealth.services.scheduling.scheduling import PHYSICIAN_TYPES


# Urgent alerts that stop the next session until a physician acknowledges them: crisis language
# (any text or in-app answer), and a text not understood around a session.
CRISIS_ALERT_KINDS = ("crisis", "unclear_reply")


@dataclass(frozen=True)
class Gate:
    id: str
    ok: bool
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def bp_band(systolic: int, diastolic: int, policy: ClinicalPolicy | None = None) -> BpBand:
    """Below 140/90 (both) is a go; 180/120 or above (either) is urgent; between, no-go today."""
    policy = policy or current_policy()
    if systolic >= policy.session_bp_urgent_systolic or diastolic >= policy.session_bp_urgent_diastolic:
        return BpBand.URGENT
    if systolic >= policy.session_bp_no_go_systolic or diastolic >= policy.session_bp_no_go_diastolic:
        return BpBand.NO_GO
    return BpBand.GO


def bp_bands_in_words(policy: ClinicalPolicy | None = None) -> list[tuple[BpBand, str]]:
    """The bands of `bp_band` as a patient reads them before taking a reading (top number:
    systolic; bottom: diastolic), from the same policy values."""
    p = policy or current_policy()
    return [
        (BpBand.GO, f"Top number under {p.session_bp_no_go_systolic} and bottom number under "
                    f"{p.session_bp_no_go_diastolic}: in range, the session can go ahead."),
        (BpBand.NO_GO, f"Top number {p.session_bp_no_go_systolic} to {p.session_bp_urgent_systolic - 1}, or bottom "
                       f"number {p.session_bp_no_go_diastolic} to {p.session_bp_urgent_diastolic - 1}: too high "
                       "for a session today. Your physician is told and will be in touch."),
        (BpBand.URGENT, f"Top number {p.session_bp_urgent_systolic} or more, or bottom number "
                        f"{p.session_bp_urgent_diastolic} or more: very high. Do not take your medication, and "
                        "seek urgent care."),
    ]


def _start_of_local_day(at: datetime, zone: str) -> datetime:
    tz = ZoneInfo(zone)
    return datetime.combine(at.astimezone(tz).date(), time(0), tz).astimezone(at.tzinfo)


def evaluate_gates(patient: User, session: HomeSession, at: datetime) -> list[Gate]:
    policy = current_policy()
    lineage = db.session.get(Prescription, session.prescription_id).lineage
    versions = versions_of(lineage)
    gates: list[Gate] = []

    rx = active_prescription(patient.id)
    if rx is not None and rx.lineage != lineage:
        rx = None
    gates.append(Gate("prescription", rx is not None,
                      "You have an active prescription signed by your physician." if rx else
                      "There is no active prescription for this session: your physician needs to sign one."))

    taken_in_lineage = db.session.scalar(select(func.count()).select_from(HomeSession).where(
        HomeSession.prescription_id.in_(versions), HomeSession.status.in_(TAKEN), HomeSession.id != session.id))
    delivered = db.session.scalar(select(func.coalesce(func.sum(Shipment.sessions), 0)).where(
        Shipment.prescription_id.in_(versions), Shipment.status == ShipmentStatus.DELIVERED))
    ok = taken_in_lineage < delivered
    gates.append(Gate("medication_delivered", ok,
                      "Your medication for this session has been delivered." if ok else
                      "The medication for this session has not been delivered yet."))

    previous = db.session.scalar(select(func.max(HomeSession.started_at)).where(
        HomeSession.patient_id == patient.id, HomeSession.status.in_(TAKEN), HomeSession.id != session.id))
    hours = policy.min_hours_between_sessions
    ok = previous is None or at - previous >= timedelta(hours=hours)
    gates.append(Gate("interval", ok,
                      f"It has been at least {hours} hours since your last session." if ok else
                      f"Sessions must be at least {hours} hours apart; you can start after "
                      f"{(previous + timedelta(hours=hours)).astimezone(ZoneInfo(patient.time_zone)):%A %H:%M}."))

    prescribed = rx or db.session.get(Prescription, session.prescription_id)
    allowed = prescribed.total_sessions
    ok = taken_in_lineage < allowed
    gates.append(Gate("within_prescription", ok,
                      f"This session is within your prescription ({taken_in_lineage + 1} of {allowed})." if ok else
                      f"Your prescription covers {allowed} sessions and all have been used; "
                      "talk to your physician about what comes next."))

    # any physician encounter (a consult, a follow-up) counts as "a consult" here and for the gap rule
    encounter = db.session.scalar(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.appointment_type.in_(PHYSICIAN_TYPES),
        Appointment.status == AppointmentStatus.COMPLETED).order_by(Appointment.starts_at.desc()).limit(1))
    encounter_at = (encounter.encounter_ended_at or encounter.ends_at) if encounter else None
    since = 0
    if encounter_at is not None:
        since = db.session.scalar(select(func.count()).select_from(HomeSession).where(
            HomeSession.patient_id == patient.id, HomeSession.status.in_(TAKEN), HomeSession.id != session.id,
            HomeSession.started_at > encounter_at))
    every = policy.sessions_per_consult
    ok = encounter_at is not None and since < every
    gates.append(Gate("consult", ok,
                      "You have seen your physician recently enough." if ok else
                      f"A physician follow-up is needed every {every} sessions: book one before this session."))

    last = max((t for t in (previous, encounter_at) if t is not None), default=None)
    gap = policy.max_gap_days_before_consult
    ok = last is not None and at - last <= timedelta(days=gap)
    gates.append(Gate("consult_after_gap", ok,
                      "Your last session or physician visit was recent." if ok else
                      f"It has been more than {gap} days since your last session or physician visit: "
                      "book a follow-up with your physician first."))

    open_serious = db.session.scalar(select(AdverseEvent.id).where(
        AdverseEvent.patient_id == patient.id, AdverseEvent.grade == AdverseGrade.SERIOUS,
        AdverseEvent.cleared_at.is_(None)).limit(1))
    gates.append(Gate("adverse_event", open_serious is None,
                      "No serious side effect is waiting for your physician's review." if open_serious is None else
                      "A serious side effect you reported must be reviewed by your physician before the next "
                      "session."))

    # Crisis language, or a text not understood around a session, paged to the on-call physician:
    # no session starts until a physician has acknowledged it (read it and contacted the patient).
    crisis_open = db.session.scalar(select(ClinicalAlert.id).where(
        ClinicalAlert.patient_id == patient.id, ClinicalAlert.kind.in_(CRISIS_ALERT_KINDS),
        ClinicalAlert.urgency == "urgent", ClinicalAlert.acknowledged_at.is_(None)).limit(1))
    gates.append(Gate("crisis_alert", crisis_open is None,
                      "No urgent message of yours is waiting for a physician." if crisis_open is None else
                      "A physician must first talk with you about a message you sent us; they have been alerted "
                      "and will contact you. If you are in crisis, call or text 988; in an emergency call 911."))

    paused = TreatmentPause.has_open_pause(patient.id)
    gates.append(Gate("pause", not paused,
                      "Your treatment is not paused." if not paused else
                      "Your physician has paused your treatment; they will contact you before it resumes."))

    # confirmed for this session: shortly before it, not days earlier when it was booked
    fresh = timedelta(minutes=policy.sitter_confirmation_valid_minutes)
    ok = session.sitter_confirmed_at is not None and session.sitter_confirmed_at >= at - fresh
    gates.append(Gate("sitter", ok,
                      "Your sitter has confirmed they are with you." if ok else
                      "Confirm that your sitter (a trusted person) is with you for the whole session."))

    valid = timedelta(minutes=policy.bp_reading_valid_minutes)
    midnight = _start_of_local_day(at, patient.time_zone)
    readings = list(db.session.scalars(select(BloodPressureReading).where(
        BloodPressureReading.patient_id == patient.id, BloodPressureReading.taken_at <= at,
        BloodPressureReading.taken_at >= min(midnight, at - valid)).order_by(BloodPressureReading.taken_at.desc(),
                                                                          BloodPressureReading.id.desc())))
    # A no-go reading today, or within the validity window even if that began yesterday (23:30
    # too high does not become fine at 00:10), refuses the session.
    refused_today = any(r.band is not BpBand.GO for r in readings)
    recent = next((r for r in readings if r.taken_at >= at - valid), None)
    if refused_today:
        gates.append(Gate("blood_pressure", False, "A blood-pressure reading today was too high: no session today. "
                                                   "Your physician has been told."))
    elif recent is None:
        gates.append(Gate("blood_pressure", False, f"Take your blood pressure and record it: a reading from the "
                                                   f"last {policy.bp_reading_valid_minutes} minutes is needed."))
    else:
        gates.append(Gate("blood_pressure", True, "Your blood pressure is in range for a session."))
    return gates
