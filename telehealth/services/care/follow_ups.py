"""Physician follow-ups: the decision recorded at (or outside) a follow-up visit, the patient's
treatment phase, and the PHQ-9 / GAD-7 retake asked before each follow-up.

A decision is one of continue, adjust (a new prescription version through
`prescriptions.supersede`, every Schedule III precondition checked), pause and resume (through
`treatment_oversight.pause_treatment` / `resume_treatment`), discharge (no new sessions; scheduled ones
are cancelled) or maintenance; the next medication stage may be released in the same call
(`shipments.release_next_stage`). Everything is checked before anything is written, and the called
services run with commit=False, so the decision, its effects and their audit rows commit together
or not at all.

Treatment phase (models/care/care_notes.py): active, maintenance or discharged, plus "paused" while a
treatment pause is open. Transitions: maintenance from active; discharge from active or
maintenance; resume lifts every open pause, re-admits a discharged patient (active) and, when
nothing was paused, brings a patient in maintenance back to active treatment. A discharged patient
gets no decision but resume.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from telehealth.clock import now
from telehealth.errors import Conflict, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.care.care_notes import (
    DecisionKind, FollowUpDecision, PatientTreatmentPhase, RetakeRequest, TreatmentPhase,
)
from telehealth.models.home_care.home_sessions import HomeSession, SessionStatus, TreatmentPause
from telehealth.models.messaging.messaging import MessagePriority
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.pharmacy.shipments import Shipment
from telehealth.policy import current_policy
from telehealth.services.home_care import home_sessions, treatment_oversight
from telehealth.services.messaging import outbox
from telehealth.services.pharmacy import prescriptions, shipments
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, deny
from telehealth.services.accounts.care_team import get_patient

MAX_NOTE = 4000
BATCH = 500
RETAKE_PATH = "/measures/retake"
# What a decision may come with: medication is not released with a pause or a discharge.
RELEASES_WITH = frozenset({DecisionKind.CONTINUE, DecisionKind.ADJUST, DecisionKind.RESUME, DecisionKind.MAINTENANCE})


# ------------------------------------------------------------------ treatment phase


# What the patient reads of a pause or resumption decided at a follow-up (the note is the physician's).
FOLLOW_UP_PAUSE = "Paused by your physician at a follow-up."
FOLLOW_UP_RESUME = "Resumed by your physician at a follow-up."


def treatment_status(patient_id: int) -> str:
    """active, paused, maintenance or discharged: what the care team reads (no access check: the
    caller has authorized the read)."""
    phase = PatientTreatmentPhase.phase_of(patient_id)
    if phase is not TreatmentPhase.DISCHARGED and TreatmentPause.has_open_pause(patient_id):
        return "paused"
    return phase.value


def _set_phase(physician: User, patient_id: int, phase: TreatmentPhase) -> None:
    row = db.session.get(PatientTreatmentPhase, patient_id)
    if row is None:
        row = PatientTreatmentPhase(patient_id=patient_id, phase=TreatmentPhase.ACTIVE, changed_at=now())
        db.session.add(row)
    row.move_to(phase, physician.id, now())
    audit.record(physician, "update", "treatment_phase", patient_id, patient_id=patient_id, fields=["phase"])


def _cancel_scheduled_sessions(physician: User, patient_id: int) -> None:
    """A discharge: sessions not yet started are cancelled, so no check-in asks about them."""
    moment = now()
    sessions = db.session.scalars(select(HomeSession).where(
        HomeSession.patient_id == patient_id, HomeSession.status == SessionStatus.SCHEDULED)
        .options(selectinload(HomeSession.check_ins)).with_for_update())
    for session in sessions:
        session.cancel(moment)
        home_sessions.close_open_check_ins(session)
        audit.record(physician, "update", "home_session", session.id, patient_id=patient_id, fields=["status"])


# ------------------------------------------------------------------ decisions


def _check_inputs(physician: User, patient_id: int, decision: str, note: str, appointment_id: int | None,
                  new_terms, release_shipment_id: int | None) -> tuple[DecisionKind, str]:
    errors: dict[str, list[str]] = {}
    try:
        kind = DecisionKind(decision)
    except ValueError:
        raise ValidationFailed("Unknown decision.", fields={"decision": [
            f"One of: {', '.join(k.value for k in DecisionKind)}."]}) from None
    text = (note or "").strip()
    if not text or len(text) > MAX_NOTE:
        errors["note"] = [f"Say what was decided and why (1 to {MAX_NOTE} characters)."]
    if kind is DecisionKind.ADJUST and new_terms is None:
        errors["new_terms"] = ["An adjustment needs the new prescription's terms."]
    elif kind is not DecisionKind.ADJUST and new_terms is not None:
        errors["new_terms"] = ["Only an adjustment signs a new prescription version."]
    if release_shipment_id is not None:
        if kind not in RELEASES_WITH:
            errors["release_shipment_id"] = [f"Medication is not released with a {kind.value} decision."]
        else:
            stage = db.session.get(Shipment, release_shipment_id)
            if stage is None or stage.patient_id != patient_id:
                errors["release_shipment_id"] = ["Not a shipment of this patient."]
    if appointment_id is not None:
        visit = db.session.get(Appointment, appointment_id)
        if (visit is None or visit.patient_id != patient_id or visit.appointment_type != "follow_up"
                or visit.provider_id != physician.id):
            errors["appointment_id"] = ["Not a follow-up of yours with this patient."]
        elif visit.status is not AppointmentStatus.COMPLETED or visit.encounter_ended_at is None:
            errors["appointment_id"] = ["Record the follow-up's encounter first (complete the appointment)."]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    return kind, text


def _check_phase(kind: DecisionKind, patient_id: int) -> TreatmentPhase:
    phase = PatientTreatmentPhase.phase_of(patient_id)
    if phase is TreatmentPhase.DISCHARGED and kind is not DecisionKind.RESUME:
        raise Conflict("This patient was discharged: record a resume decision to treat them again.",
                       code="discharged")
    if kind is DecisionKind.MAINTENANCE and phase is TreatmentPhase.MAINTENANCE:
        raise Conflict("This patient is already in maintenance.", code="phase_change")
    if kind is DecisionKind.RESUME and phase is TreatmentPhase.ACTIVE and not TreatmentPause.has_open_pause(patient_id):
        raise Conflict("Treatment is not paused.", code="not_paused")
    return phase


def latest_decision(patient_id: int) -> FollowUpDecision | None:
    """The patient's newest decision (what the follow-up page shows, and what its form says it saw)."""
    return db.session.scalar(select(FollowUpDecision).where(FollowUpDecision.patient_id == patient_id)
                             .order_by(FollowUpDecision.decided_at.desc(), FollowUpDecision.id.desc()).limit(1))


def _check_unchanged(physician: User, patient_id: int, seen_latest_id: int) -> None:
    """Under the patient's row lock: refuse when the newest decision is not the one the physician saw."""
    latest = latest_decision(patient_id)
    if (latest.id if latest else 0) == seen_latest_id:
        return
    if latest is None:
        who = "Someone"
    elif latest.physician_id == physician.id:
        who = "You"
    else:
        who = db.session.scalar(select(User.display_name).where(User.id == latest.physician_id)) or "Another physician"
    raise Conflict(f"{who} recorded a decision for this patient since you opened this page; yours was not "
                   "recorded. Review it first.", code="decided_since")


def record_decision(physician: User, patient_id: int, decision: str, note: str, *,
                    appointment_id: int | None = None, new_terms: prescriptions.PrescriptionTerms | None = None,
                    release_shipment_id: int | None = None, second_factor_code: str | None = None,
                    seen_latest_id: int | None = None) -> tuple[FollowUpDecision, str]:
    """Record a physician's follow-up decision and carry it out, all in one transaction: nothing is
    written when any part is refused (bad input 422, a refused precondition 409, not on the care
    team 403, an adjustment without a valid second factor 403/423: a new version is a signing).
    `seen_latest_id`: the id of the newest decision the physician saw (0: none), as the follow-up
    page sends it; when another decision was recorded since (a second click, a colleague), nothing
    is recorded and the 409 says who (None: no such check, as before).
    Returns the decision and the treatment status it leaves (`treatment_status`)."""
    get_patient(patient_id)
    authorize_patient(physician, patient_id, Scope.CLINICAL)
    if physician.role is not Role.PHYSICIAN:  # CLINICAL scope is the patient's own, or a physician's
        deny(physician, "follow_up_decision", patient_id, patient_id=patient_id,
             message="Only a physician on the care team records a follow-up decision.")
    kind, text = _check_inputs(physician, patient_id, decision, note, appointment_id, new_terms,
                               release_shipment_id)
    # one decision at a time per patient (pause and sign lock the same row)
    db.session.execute(select(User.id).where(User.id == patient_id).with_for_update())
    try:
        if seen_latest_id is not None:
            _check_unchanged(physician, patient_id, seen_latest_id)
        phase = _check_phase(kind, patient_id)
        new_version = None
        if kind is DecisionKind.ADJUST:
            current = prescriptions.active_prescription(patient_id)
            if current is None:
                raise Conflict("There is no active prescription to adjust.", code="no_prescription")
            new_version = prescriptions.supersede(physician, current.id, new_terms, commit=False,
                                                  second_factor_code=second_factor_code)
        elif kind is DecisionKind.PAUSE:
            # the pause says only where it came from: the physician's note stays on the decision
            treatment_oversight.pause_treatment(physician, patient_id, FOLLOW_UP_PAUSE, commit=False)
        elif kind is DecisionKind.RESUME:
            paused = TreatmentPause.has_open_pause(patient_id)
            if paused:
                treatment_oversight.resume_treatment(physician, patient_id, FOLLOW_UP_RESUME, commit=False)
            if phase is TreatmentPhase.DISCHARGED or (phase is TreatmentPhase.MAINTENANCE and not paused):
                _set_phase(physician, patient_id, TreatmentPhase.ACTIVE)
        elif kind is DecisionKind.DISCHARGE:
            _set_phase(physician, patient_id, TreatmentPhase.DISCHARGED)
            _cancel_scheduled_sessions(physician, patient_id)
        elif kind is DecisionKind.MAINTENANCE:
            _set_phase(physician, patient_id, TreatmentPhase.MAINTENANCE)
        if release_shipment_id is not None:
            shipments.release_next_stage(physician, release_shipment_id, commit=False)
        row = FollowUpDecision(patient_id=patient_id, physician_id=physician.id, appointment_id=appointment_id,
                               decision=kind, note=text, prescription_id=new_version.id if new_version else None,
                               released_shipment_id=release_shipment_id, decided_at=now())
        db.session.add(row)
        db.session.flush()
        audit.record(physician, "create", "follow_up_decision", row.id, patient_id=patient_id)
        status = treatment_status(patient_id)
        db.session.commit()
    except Exception:
        db.session.rollback()  # nothing half-written: no version without its decision, no decision without its effect
        raise
    if kind is DecisionKind.DISCHARGE:
        shipments.cancel_unshipped_stages(physician, patient_id)
    return row, status


@dataclass(frozen=True)
class DecisionView:
    """A decision as its reader sees it: `note` is the physician's reasoning, None for anyone else
    (the patient never sees it)."""
    id: int
    patient_id: int
    physician_id: int
    appointment_id: int | None
    decision: DecisionKind
    note: str | None
    prescription_id: int | None
    released_shipment_id: int | None
    decided_at: datetime

    @classmethod
    def of(cls, row: FollowUpDecision, *, with_note: bool) -> DecisionView:
        return cls(id=row.id, patient_id=row.patient_id, physician_id=row.physician_id,
                   appointment_id=row.appointment_id, decision=row.decision, note=row.note if with_note else None,
                   prescription_id=row.prescription_id, released_shipment_id=row.released_shipment_id,
                   decided_at=row.decided_at)


def decisions_for(actor: User, patient_id: int) -> tuple[list[DecisionView], str]:
    """The patient's decisions, newest first, and their treatment status (the patient and their
    physicians: clinical data; audited). Only a physician reads the notes."""
    get_patient(patient_id)
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    rows = list(db.session.scalars(select(FollowUpDecision).where(FollowUpDecision.patient_id == patient_id)
                                   .order_by(FollowUpDecision.decided_at.desc(), FollowUpDecision.id.desc())))
    status = treatment_status(patient_id)
    audit.record(actor, "read", "follow_up_decisions", patient_id, patient_id=patient_id)
    db.session.commit()
    with_note = actor.role is Role.PHYSICIAN
    return [DecisionView.of(r, with_note=with_note) for r in rows], status


# ------------------------------------------------------------------ the retake before each follow-up


def retake_text() -> str:
    config = current_app.config
    return (f"{config['SMS_PROGRAM_NAME']}: your follow-up visit is coming up. Please fill in a short "
            f"questionnaire before it: {config['PUBLIC_BASE_URL'].rstrip('/')}{RETAKE_PATH}")


def request_retakes() -> int:
    """Each booked follow-up starting within `follow_up_retake_hours_before` gets, once, a routine
    text with the link to retake PHQ-9 and GAD-7 (the body names neither: "questionnaire"), and a
    retake request row. Idempotent: the row's key is the appointment and the text's dedupe key is
    the appointment, so two schedulers running at once ask once."""
    at = now()
    horizon = at + timedelta(hours=current_policy().follow_up_retake_hours_before)
    due = list(db.session.scalars(
        select(Appointment).outerjoin(RetakeRequest, RetakeRequest.appointment_id == Appointment.id).where(
            Appointment.appointment_type == "follow_up", Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > at, Appointment.starts_at <= horizon, RetakeRequest.appointment_id.is_(None))
        .order_by(Appointment.starts_at).limit(BATCH)))
    patients = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({a.patient_id for a in due})).options(selectinload(User.patient_profile)))}
    asked = 0
    for appointment in due:
        patient = patients.get(appointment.patient_id)
        phone = patient.patient_profile.phone_e164 if patient and patient.patient_profile else None
        message = None
        if phone:
            message = outbox.enqueue(phone, retake_text(), "measure_retake", priority=MessagePriority.ROUTINE,
                                     patient_id=appointment.patient_id, dedupe_key=f"retake:{appointment.id}")
        try:
            with db.session.begin_nested():
                db.session.add(RetakeRequest(appointment_id=appointment.id, patient_id=appointment.patient_id,
                                             requested_at=at, message_id=message.id if message else None))
        except IntegrityError:  # another scheduler asked first
            continue
        asked += 1
    db.session.commit()
    return asked


def retake_requested(appointment_id: int) -> RetakeRequest | None:
    return db.session.get(RetakeRequest, appointment_id)

