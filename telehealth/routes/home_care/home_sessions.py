"""At-home sessions: the patient's own (schedule, blood pressure, sitter, start behind the gates,
complete, check-ins, cancel) and the physician's view, pauses and adverse-event clearance."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import Empty, endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.home_care.home_sessions import (
    AdverseEventOut, BloodPressureIn, CheckInIn, CheckInResultOut, NoteIn, PatientSessionsOut, PauseListOut, PauseOut,
    ReadingResultOut, ReasonIn, SessionDetailOut, SessionIn, SessionListOut, SessionOut, SitterIn, adverse_event_out,
    check_in_out, pause_out, reading_out, session_detail_out, session_out,
)
from telehealth.services.home_care import home_sessions, treatment_oversight
from telehealth.services.screening import crisis

bp = Blueprint("home_sessions", __name__, url_prefix="/api/v1")
PATIENT = (Role.PATIENT,)
PHYSICIAN = (Role.PHYSICIAN,)
TAGS = ["sessions"]


def _detail(session_id: int) -> SessionDetailOut:
    session, gates, readings = home_sessions.session_detail(current_user, session_id)
    return session_detail_out(session, gates, readings, home_sessions.instructions())


@bp.post("/me/sessions")
@endpoint("Schedule an at-home session (within the prescription, spaced by the policy's interval)", tags=TAGS,
          auth=PATIENT, body=SessionIn, response=SessionOut, status=201, errors=(409,))
def schedule(body: SessionIn):
    return session_out(home_sessions.schedule_session(current_user, body.scheduled_for, body.sitter_name,
                                                      body.sitter_phone))


@bp.get("/me/sessions")
@endpoint("My at-home sessions, newest first", tags=TAGS, auth=PATIENT, response=SessionListOut)
def my_sessions():
    return SessionListOut(items=[session_out(s) for s in home_sessions.list_sessions(current_user, current_user.id)])


@bp.get("/me/sessions/<int:session_id>")
@endpoint("A session with its gates (each ok, with its reason), readings and instructions", tags=TAGS,
          auth=PATIENT, response=SessionDetailOut)
def my_session(session_id: int):
    return _detail(session_id)


@bp.post("/me/sessions/<int:session_id>/blood-pressure")
@endpoint("Record a blood-pressure reading before the session: go, no-go today, or urgent-care advice",
          tags=TAGS, auth=PATIENT, body=BloodPressureIn, response=ReadingResultOut, status=201, errors=(409,))
def blood_pressure(session_id: int, body: BloodPressureIn):
    reading, band, advice = home_sessions.record_blood_pressure(current_user, session_id, body.systolic,
                                                                body.diastolic, "app")
    return ReadingResultOut(reading=reading_out(reading), band=band.value, advice=advice)


@bp.post("/me/sessions/<int:session_id>/sitter")
@endpoint("Confirm the sitter is present (optionally a different sitter)", tags=TAGS, auth=PATIENT, body=SitterIn,
          response=SessionOut, errors=(409,))
def sitter(session_id: int, body: SitterIn):
    return session_out(home_sessions.confirm_sitter(current_user, session_id, body.name, body.phone))


@bp.post("/me/sessions/<int:session_id>/start")
@endpoint("Start the session: 409 `gates_failed` naming every failing gate in `fields`, nothing changed",
          tags=TAGS, auth=PATIENT, body=Empty, response=SessionDetailOut, errors=(409,))
def start(session_id: int, body: Empty):
    home_sessions.start_session(current_user, session_id)
    return _detail(session_id)


@bp.post("/me/sessions/<int:session_id>/complete")
@endpoint("The session is over", tags=TAGS, auth=PATIENT, body=Empty, response=SessionOut, errors=(409,))
def complete(session_id: int, body: Empty):
    return session_out(home_sessions.complete_session(current_user, session_id))


@bp.post("/me/sessions/<int:session_id>/cancel")
@endpoint("Cancel a scheduled session", tags=TAGS, auth=PATIENT, body=Empty, response=SessionOut, errors=(409,))
def cancel(session_id: int, body: Empty):
    return session_out(home_sessions.cancel_session(current_user, session_id))


@bp.post("/me/sessions/<int:session_id>/check-ins/<kind>")
@endpoint("Answer a check-in (pre, post, next_day): mood, sleep quality (next day), side effects (graded)",
          tags=TAGS, auth=PATIENT, body=CheckInIn, response=CheckInResultOut, errors=(409,))
def check_in(session_id: int, kind: str, body: CheckInIn):
    row, grade, advice = home_sessions.record_check_in(current_user, body.model_dump(exclude_none=True),
                                                       session_id=session_id, kind=kind, source="app")
    resources = list(crisis.RESOURCES) if home_sessions.shows_crisis_resources(advice) else []
    return CheckInResultOut(check_in=check_in_out(row), grade=grade.value if grade else None, advice=advice,
                            crisis_resources=resources)


@bp.get("/patients/<int:patient_id>/sessions")
@endpoint("A patient's sessions, readings, adverse events and pauses (physicians on the care team; audited)",
          tags=TAGS, auth=PHYSICIAN, response=PatientSessionsOut)
def patient_sessions(patient_id: int):
    sessions, readings, events, pauses = treatment_oversight.patient_overview(current_user, patient_id)
    return PatientSessionsOut(items=[session_out(s) for s in sessions], readings=[reading_out(r) for r in readings],
                              adverse_events=[adverse_event_out(e) for e in events],
                              pauses=[pause_out(p) for p in pauses],
                              paused=any(p.cleared_at is None for p in pauses))


@bp.post("/patients/<int:patient_id>/pause")
@endpoint("Pause a patient's treatment (no session starts until it is resumed)", tags=TAGS, auth=PHYSICIAN,
          body=ReasonIn, response=PauseOut, status=201, errors=(409,))
def pause(patient_id: int, body: ReasonIn):
    return pause_out(treatment_oversight.pause_treatment(current_user, patient_id, body.reason))


@bp.post("/patients/<int:patient_id>/resume")
@endpoint("Resume a patient's treatment (lifts every open pause)", tags=TAGS, auth=PHYSICIAN, body=NoteIn,
          response=PauseListOut, errors=(409,))
def resume(patient_id: int, body: NoteIn):
    return PauseListOut(items=[pause_out(p) for p in treatment_oversight.resume_treatment(current_user, patient_id,
                                                                                    body.note)])


@bp.post("/adverse-events/<int:event_id>/clear")
@endpoint("Clear an adverse event after review, with a note", tags=TAGS, auth=PHYSICIAN, body=NoteIn,
          response=AdverseEventOut, errors=(409,))
def clear(event_id: int, body: NoteIn):
    return adverse_event_out(treatment_oversight.clear_adverse_event(current_user, event_id, body.note))
