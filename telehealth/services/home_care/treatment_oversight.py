"""The physician's hold on at-home treatment: a patient's sessions, readings, adverse events and
pauses at a glance, clearing an adverse event, pausing and resuming treatment (audited). The
patient's own sessions and check-ins are `home_sessions.py`; a serious side effect pauses there too."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from telehealth.clock import now
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.home_care.home_sessions import AdverseEvent, BloodPressureReading, HomeSession, TreatmentPause
from telehealth.services.accounts.care_team import get_patient
from telehealth.services.home_care.home_sessions import finish, lock_patient
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient


def readings(patient_id: int) -> list[BloodPressureReading]:
    """Every blood-pressure reading of the patient, oldest first (no authorization here: the caller's
    export checked it). The physicians' overview shows the latest hundred only."""
    return list(db.session.scalars(select(BloodPressureReading).where(BloodPressureReading.patient_id == patient_id)
                                   .order_by(BloodPressureReading.taken_at, BloodPressureReading.id)))


def patient_overview(physician: User, patient_id: int) -> tuple[list[HomeSession], list[BloodPressureReading],
                                                                  list[AdverseEvent], list[TreatmentPause]]:
    """A patient's sessions, readings, adverse events and pauses (physicians on the care team; audited)."""
    get_patient(patient_id)
    authorize_patient(physician, patient_id, Scope.CLINICAL)
    # the check-ins in one more query, not one per session
    sessions = list(db.session.scalars(select(HomeSession).where(HomeSession.patient_id == patient_id)
                                       .options(selectinload(HomeSession.check_ins))
                                       .order_by(HomeSession.scheduled_for.desc(), HomeSession.id.desc())))
    readings = list(db.session.scalars(select(BloodPressureReading).where(
        BloodPressureReading.patient_id == patient_id).order_by(BloodPressureReading.taken_at.desc()).limit(100)))
    events = list(db.session.scalars(select(AdverseEvent).where(AdverseEvent.patient_id == patient_id)
                                     .order_by(AdverseEvent.opened_at.desc())))
    pauses = list(db.session.scalars(select(TreatmentPause).where(TreatmentPause.patient_id == patient_id)
                                     .order_by(TreatmentPause.started_at.desc())))
    audit.record(physician, "read", "home_sessions", patient_id, patient_id=patient_id)
    db.session.commit()
    return sessions, readings, events, pauses


def clear_adverse_event(physician: User, event_id: int, note: str) -> AdverseEvent:
    event = db.session.get(AdverseEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound("No such adverse event.")
    authorize_patient(physician, event.patient_id, Scope.CLINICAL)
    if not (note or "").strip():
        raise ValidationFailed("Say why it is cleared.", fields={"note": ["This field is required."]})
    event.clear(physician.id, now(), note.strip())
    audit.record(physician, "update", "adverse_event", event.id, patient_id=event.patient_id,
                 fields=["cleared_at", "clearance_note"])
    db.session.commit()
    return event


def pause_treatment(physician: User, patient_id: int, reason: str, *, commit: bool = True) -> TreatmentPause:
    """commit=False: only flush (a follow-up decision commits the pause with its own record)."""
    get_patient(patient_id)
    authorize_patient(physician, patient_id, Scope.CLINICAL)
    if not (reason or "").strip():
        raise ValidationFailed("Give a reason.", fields={"reason": ["This field is required."]})
    lock_patient(patient_id)
    if TreatmentPause.has_open_pause(patient_id):
        raise Conflict("Treatment is already paused.", code="already_paused")
    pause = TreatmentPause(patient_id=patient_id, reason=reason.strip(), started_at=now(), started_by=physician.id)
    db.session.add(pause)
    db.session.flush()
    audit.record(physician, "create", "treatment_pause", pause.id, patient_id=patient_id)
    finish(commit)
    return pause


def resume_treatment(physician: User, patient_id: int, note: str, *, commit: bool = True) -> list[TreatmentPause]:
    """Lift every open pause (a system pause after a serious side effect too; the adverse event
    itself is cleared separately). commit=False: only flush, the caller commits."""
    get_patient(patient_id)
    authorize_patient(physician, patient_id, Scope.CLINICAL)
    if not (note or "").strip():
        raise ValidationFailed("Say why treatment resumes.", fields={"note": ["This field is required."]})
    lock_patient(patient_id)
    pauses = list(db.session.scalars(select(TreatmentPause).where(
        TreatmentPause.patient_id == patient_id, TreatmentPause.cleared_at.is_(None))))
    if not pauses:
        raise Conflict("Treatment is not paused.", code="not_paused")
    moment = now()
    for pause in pauses:
        pause.clear(physician.id, moment, note.strip())
        audit.record(physician, "update", "treatment_pause", pause.id, patient_id=patient_id,
                     fields=["cleared_at", "clearance_note"])
    finish(commit)
    return pauses
