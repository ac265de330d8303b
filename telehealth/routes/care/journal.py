"""The integration journal: the patient writes, edits, deletes, shares and unshares their entries; their
coach reads the shared ones."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import Empty, endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.care.journal import (
    CoachOut, JournalEntryEditIn, JournalEntryIn, JournalEntryOut, JournalListOut, JournalSavedOut,
    SharedJournalOut, entry_out, saved_out,
)
from telehealth.services.care import journal

bp = Blueprint("journal", __name__, url_prefix="/api/v1")
TAGS = ["journal"]
PATIENT = (Role.PATIENT,)


def _one(entry) -> JournalEntryOut:
    return entry_out(entry, journal.session_numbers([entry]))


def _saved(saved) -> JournalSavedOut:
    return saved_out(saved, journal.session_numbers([saved.entry]))


@bp.get("/me/journal")
@endpoint("My integration journal, newest first, and the coaches who read the entries I share (audited)",
          tags=TAGS, auth=PATIENT, response=JournalListOut)
def mine():
    rows = journal.my_entries(current_user)
    numbers = journal.session_numbers(rows)
    return JournalListOut(items=[entry_out(r, numbers) for r in rows],
                          shared_with=[CoachOut(id=c.id, name=c.display_name) for c in journal.coaches_of(current_user)])


@bp.post("/me/journal")
@endpoint("Write a journal entry (private until I share it; encrypted). Crisis words bring the help lines at once "
          "and alert the on-call physician", tags=TAGS, auth=PATIENT, body=JournalEntryIn, response=JournalSavedOut,
          status=201)
def write(body: JournalEntryIn):
    return _saved(journal.write(current_user, body.body, session_id=body.session_id))


@bp.patch("/me/journal/<int:entry_id>")
@endpoint("Edit one of my journal entries (its text, or the session it is about)", tags=TAGS, auth=PATIENT,
          body=JournalEntryEditIn, response=JournalSavedOut)
def edit(entry_id: int, body: JournalEntryEditIn):
    changes = {"session_id": body.session_id} if "session_id" in body.model_fields_set else {}
    return _saved(journal.edit(current_user, entry_id, body=body.body, **changes))


@bp.delete("/me/journal/<int:entry_id>")
@endpoint("Delete one of my journal entries", tags=TAGS, auth=PATIENT, status=204)
def delete(entry_id: int):
    journal.delete(current_user, entry_id)


@bp.post("/me/journal/<int:entry_id>/share")
@endpoint("Share a journal entry with my coach", tags=TAGS, auth=PATIENT, body=Empty, response=JournalEntryOut)
def share(entry_id: int, body: Empty):
    return _one(journal.share(current_user, entry_id))


@bp.post("/me/journal/<int:entry_id>/unshare")
@endpoint("Make a shared journal entry private again, at once", tags=TAGS, auth=PATIENT, body=Empty,
          response=JournalEntryOut)
def unshare(entry_id: int, body: Empty):
    return _one(journal.unshare(current_user, entry_id))


@bp.get("/patients/<int:patient_id>/journal")
@endpoint("The journal entries a patient shared with me, their coach (newest first; each read audited)", tags=TAGS,
          auth=(Role.COACH,), response=SharedJournalOut)
def shared(patient_id: int):
    rows = journal.shared_with_coach(current_user, patient_id)
    numbers = journal.session_numbers(rows)
    return SharedJournalOut(items=[entry_out(r, numbers) for r in rows])
