"""Request and response bodies for coaching notes and the patient's coaching sessions."""
from __future__ import annotations



from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import text

PrivateNote = text(10000)
Summary = text(2000)


class CoachingNoteIn(Schema):
    private_note: PrivateNote
    patient_summary: Summary


class CoachingNoteEditIn(Schema):
    """Give either part, or both."""
    private_note: PrivateNote | None = None
    patient_summary: Summary | None = None


class CoachingNoteOut(Schema):
    id: int
    appointment_id: int
    patient_id: int
    coach_id: int
    private_note: str | None  # null for the patient: never shown to them
    patient_summary: str
    created_at: Timestamp
    updated_at: Timestamp
    revision: int
    editable_until: Timestamp


class CoachingNoteListOut(Schema):
    items: list[CoachingNoteOut]


class CoachingSessionOut(Schema):
    appointment_id: int
    type: str
    coach_id: int
    coach_name: str
    starts_at: Timestamp
    ends_at: Timestamp
    status: str
    summary: str | None
    summary_updated_at: Timestamp | None


class MyCoachingOut(Schema):
    past: list[CoachingSessionOut]
    upcoming: list[CoachingSessionOut]


def note_out(view) -> CoachingNoteOut:
    n = view.note
    return CoachingNoteOut(id=n.id, appointment_id=n.appointment_id, patient_id=n.patient_id, coach_id=n.coach_id,
                           private_note=view.private_note, patient_summary=n.patient_summary, created_at=n.created_at,
                           updated_at=n.updated_at, revision=n.revision, editable_until=view.editable_until)


def session_out(item) -> CoachingSessionOut:
    a = item.appointment
    return CoachingSessionOut(appointment_id=a.id, type=a.appointment_type, coach_id=a.provider_id,
                              coach_name=item.coach_name, starts_at=a.starts_at, ends_at=a.ends_at,
                              status=a.status.value, summary=item.summary, summary_updated_at=item.summary_updated_at)
