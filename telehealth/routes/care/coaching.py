"""Integration coaching: the coach's notes of a session, who reads them, and the patient's sessions."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.care.coaching import (
    CoachingNoteEditIn, CoachingNoteIn, CoachingNoteListOut, CoachingNoteOut, MyCoachingOut, note_out, session_out,
)
from telehealth.services.care import coaching

bp = Blueprint("coaching", __name__, url_prefix="/api/v1")
TAGS = ["coaching"]
COACH = (Role.COACH,)


def _own(note) -> CoachingNoteOut:
    return note_out(coaching.writer_view(note))


@bp.post("/appointments/<int:appointment_id>/coaching-note")
@endpoint("Write the notes of a coaching session (its coach, assigned to the patient, once it has started): "
          "a private note and a summary the patient reads", tags=TAGS, auth=COACH, body=CoachingNoteIn,
          response=CoachingNoteOut, status=201, errors=(409,))
def write(appointment_id: int, body: CoachingNoteIn):
    return _own(coaching.write_note(current_user, appointment_id, body.private_note, body.patient_summary))


@bp.patch("/coaching-notes/<int:note_id>")
@endpoint("Edit my note of a session (until 7 days after it, by policy); each edit counts a revision", tags=TAGS,
          auth=COACH, body=CoachingNoteEditIn, response=CoachingNoteOut, errors=(409,))
def edit(note_id: int, body: CoachingNoteEditIn):
    return _own(coaching.edit_note(current_user, note_id, private_note=body.private_note,
                                   patient_summary=body.patient_summary))


@bp.get("/patients/<int:patient_id>/coaching-notes")
@endpoint("A patient's coaching notes: every note for their physicians, the coach's own for an assigned coach, "
          "summaries only for the patient (audited)", tags=TAGS, auth=(Role.PATIENT, Role.PHYSICIAN, Role.COACH),
          response=CoachingNoteListOut)
def for_patient(patient_id: int):
    return CoachingNoteListOut(items=[note_out(v) for v in coaching.notes_for_patient(current_user, patient_id)])


@bp.get("/me/coaching")
@endpoint("My coaching sessions: past ones with their summaries, and upcoming ones", tags=TAGS, auth=(Role.PATIENT,),
          response=MyCoachingOut)
def mine():
    past, upcoming = coaching.my_coaching(current_user)
    return MyCoachingOut(past=[session_out(s) for s in past], upcoming=[session_out(s) for s in upcoming])
