"""Request and response bodies for at-home sessions."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.schemas.screening.assessments import CrisisResourceOut
from telehealth.schemas.common import Moment, Phone, text

Name = text(100)
Note = text(2000)
Score = Annotated[int, Field(ge=1, le=10)]


class SessionIn(Schema):
    scheduled_for: Moment
    sitter_name: Name
    sitter_phone: Phone


class BloodPressureIn(Schema):
    systolic: int = Field(ge=50, le=300)
    diastolic: int = Field(ge=30, le=200)


class SitterIn(Schema):
    """Confirm the sitter is present; a name and phone replace the planned sitter's."""
    confirmed: Literal[True]
    name: Name | None = None
    phone: Phone | None = None


class CheckInIn(Schema):
    mood: Score
    sleep_quality: Score | None = Field(default=None, description="next_day only")
    # No default list: an absent answer must stay absent, since the pre check-in does not ask it.
    side_effects: list[text(200)] | None = Field(
        default=None, max_length=20,
        description="post and next_day only (absent: none); e.g. nausea, headache, vomiting, chest pain; free text too")


class ReasonIn(Schema):
    reason: Note


class NoteIn(Schema):
    note: Note


class GateOut(Schema):
    id: str
    ok: bool
    reason: str


class CheckInOut(Schema):
    id: int
    kind: str
    due_at: Timestamp
    status: str
    answered_at: Timestamp | None
    answers: dict | None


class ReadingOut(Schema):
    id: int
    session_id: int | None
    systolic: int
    diastolic: int
    taken_at: Timestamp
    source: str
    band: str


class SessionOut(Schema):
    id: int
    patient_id: int
    prescription_id: int
    number: int
    scheduled_for: Timestamp
    status: str
    sitter_name: str
    sitter_phone: str
    sitter_confirmed_at: Timestamp | None
    started_at: Timestamp | None
    completed_at: Timestamp | None
    ended_at: Timestamp | None
    check_ins: list[CheckInOut]


class SessionDetailOut(SessionOut):
    gates: list[GateOut]
    ready: bool
    readings: list[ReadingOut]
    instructions: str


class SessionListOut(Schema):
    items: list[SessionOut]


class ReadingResultOut(Schema):
    reading: ReadingOut
    band: str
    advice: str


class CheckInResultOut(Schema):
    check_in: CheckInOut
    grade: str | None
    advice: str
    # 988, 741741, 911 (as the screening's crisis response): crisis language, words not understood, the lowest mood
    crisis_resources: list[CrisisResourceOut]


class AdverseEventOut(Schema):
    id: int
    patient_id: int
    session_id: int | None
    grade: str
    description: str
    source: str
    opened_at: Timestamp
    cleared_at: Timestamp | None
    cleared_by: int | None
    clearance_note: str | None


class PauseOut(Schema):
    id: int
    patient_id: int
    reason: str
    adverse_event_id: int | None
    started_at: Timestamp
    started_by: int | None
    cleared_at: Timestamp | None
    cleared_by: int | None
    clearance_note: str | None


class PauseListOut(Schema):
    items: list[PauseOut]


class PatientSessionsOut(Schema):
    items: list[SessionOut]
    readings: list[ReadingOut]
    adverse_events: list[AdverseEventOut]
    pauses: list[PauseOut]
    paused: bool


def check_in_out(c) -> CheckInOut:
    return CheckInOut(id=c.id, kind=c.kind.value, due_at=c.due_at, status=c.status.value, answered_at=c.answered_at,
                      answers=c.answers)


def reading_out(r) -> ReadingOut:
    return ReadingOut(id=r.id, session_id=r.session_id, systolic=r.systolic, diastolic=r.diastolic,
                      taken_at=r.taken_at, source=r.source.value, band=r.band.value)


def _session_fields(s) -> dict:
    return dict(id=s.id, patient_id=s.patient_id, prescription_id=s.prescription_id, number=s.number,
                scheduled_for=s.scheduled_for, status=s.status.value, sitter_name=s.sitter_name,
                sitter_phone=s.sitter_phone, sitter_confirmed_at=s.sitter_confirmed_at, started_at=s.started_at,
                completed_at=s.completed_at, ended_at=s.ended_at,
                check_ins=[check_in_out(c) for c in s.check_ins])


def session_out(s) -> SessionOut:
    return SessionOut(**_session_fields(s))


def session_detail_out(s, gates, readings, instructions: str) -> SessionDetailOut:
    return SessionDetailOut(**_session_fields(s), gates=[GateOut(**g.as_dict()) for g in gates],
                            ready=all(g.ok for g in gates), readings=[reading_out(r) for r in readings],
                            instructions=instructions)


def adverse_event_out(e) -> AdverseEventOut:
    return AdverseEventOut(id=e.id, patient_id=e.patient_id, session_id=e.session_id, grade=e.grade.value,
                           description=e.description, source=e.source, opened_at=e.opened_at,
                           cleared_at=e.cleared_at, cleared_by=e.cleared_by, clearance_note=e.clearance_note)


def pause_out(p) -> PauseOut:
    return PauseOut(id=p.id, patient_id=p.patient_id, reason=p.reason, adverse_event_id=p.adverse_event_id,
                    started_at=p.started_at, started_by=p.started_by, cleared_at=p.cleared_at,
                    cleared_by=p.cleared_by, clearance_note=p.clearance_note)
