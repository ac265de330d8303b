"""Integration coaching: the coach's notes of each session and what the patient sees of them.

Coaches are put on a patient's care team by admin or ops (`care_team.assign`, a coach assignment), or
by the patient booking a session with them (`care_team.join_by_booking`, while that coaching lasts).
A note belongs to one coaching appointment (coaching_30 / coaching_60): only that appointment's
coach, while assigned to the patient, writes it, once the appointment has started. It has two
parts, both encrypted at rest:

- the private note: read by the coach who wrote it and by the patient's care-team physicians only;
- the patient summary: read by the patient too.

The coach edits their own note until `coaching_note_edit_days` (7) after the session ended; each edit
counts a revision. Another coach, even one assigned to the same patient, reads none of it; ops and
admin read nothing (coaching data is outside their scopes). Every read, and every refusal, is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import defer

from telehealth.clock import now
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.care.care_notes import CoachingNote
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.policy import current_policy
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, deny
from telehealth.services.accounts.care_team import get_patient
from telehealth.services.scheduling.scheduling import COACHING_TYPES

MAX_PRIVATE = 10000
MAX_SUMMARY = 2000


def edit_deadline(appointment: Appointment) -> datetime:
    return appointment.ends_at + timedelta(days=current_policy().coaching_note_edit_days)


_NOT_HELD = {AppointmentStatus.CANCELLED: "was cancelled", AppointmentStatus.NO_SHOW: "was missed"}


def not_writable(appointment: Appointment) -> Conflict | None:
    """Why no note can be written for this session yet or at all (None: it can): the refusal
    `write_note` raises, which the note editor shows before anyone types."""
    if appointment.status in _NOT_HELD:
        return Conflict(f"This session {_NOT_HELD[appointment.status]}: there is nothing to note.",
                        code="session_not_held")
    if now() < appointment.starts_at:
        return Conflict("Notes are written once the session has started.", code="session_not_started")
    return None


def not_editable(appointment: Appointment) -> Conflict | None:
    """Why the session's note can no longer be edited (None: it can): `edit_note`'s refusal."""
    if now() > edit_deadline(appointment):
        return Conflict(f"A note can be edited until {current_policy().coaching_note_edit_days} days after the "
                        "session.", code="edit_window_closed")
    return None


def _text(value: str | None, field: str, limit: int, errors: dict, *, required: bool) -> str | None:
    if value is None:
        if required:
            errors[field] = ["This field is required."]
        return None
    text = value.strip()
    if not text or len(text) > limit:
        errors[field] = [f"1 to {limit} characters."]
    return text


def _coach_of(coach: User, appointment: Appointment) -> None:
    """Only the appointment's own coach, still assigned to the patient (else 403, audited)."""
    if coach.role is not Role.COACH or appointment.provider_id != coach.id:
        deny(coach, "coaching_note", appointment.id, patient_id=appointment.patient_id,
             message="Only the coach of this session keeps its notes.")
    authorize_patient(coach, appointment.patient_id, Scope.COACHING)


def write_note(coach: User, appointment_id: int, private_note: str, patient_summary: str) -> CoachingNote:
    """The coach's note of a coaching session that has started (once per session: edit it after)."""
    appointment = db.session.get(Appointment, appointment_id, with_for_update=True)
    if appointment is None or appointment.appointment_type not in COACHING_TYPES:
        raise NotFound("No such coaching session.")
    _coach_of(coach, appointment)
    errors: dict[str, list[str]] = {}
    private = _text(private_note, "private_note", MAX_PRIVATE, errors, required=True)
    summary = _text(patient_summary, "patient_summary", MAX_SUMMARY, errors, required=True)
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    refused = not_writable(appointment)
    if refused is not None:
        raise refused
    if db.session.scalar(select(CoachingNote.id).where(CoachingNote.appointment_id == appointment.id)) is not None:
        raise Conflict("This session already has a note: edit it instead.", code="note_exists")
    moment = now()
    note = CoachingNote(appointment_id=appointment.id, patient_id=appointment.patient_id, coach_id=coach.id,
                        private_note=private, patient_summary=summary, created_at=moment, updated_at=moment,
                        revision=1)
    db.session.add(note)
    db.session.flush()
    audit.record(coach, "create", "coaching_note", note.id, patient_id=note.patient_id,
                 fields=["private_note", "patient_summary"])
    db.session.commit()
    return note


def edit_note(coach: User, note_id: int, *, private_note: str | None = None,
              patient_summary: str | None = None) -> CoachingNote:
    """The coach who wrote a note edits it, until `coaching_note_edit_days` after the session."""
    note = db.session.get(CoachingNote, note_id, with_for_update=True)
    if note is None:
        raise NotFound("No such coaching note.")
    if coach.role is not Role.COACH or note.coach_id != coach.id:
        deny(coach, "coaching_note", note.id, patient_id=note.patient_id,
             message="Only the coach who wrote this note edits it.")
    authorize_patient(coach, note.patient_id, Scope.COACHING)
    errors: dict[str, list[str]] = {}
    private = _text(private_note, "private_note", MAX_PRIVATE, errors, required=False)
    summary = _text(patient_summary, "patient_summary", MAX_SUMMARY, errors, required=False)
    if private is None and summary is None and not errors:
        errors["body"] = ["Write a private note, a summary for the patient, or both."]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    appointment = db.session.get(Appointment, note.appointment_id)
    refused = not_editable(appointment)
    if refused is not None:
        raise refused
    changed = note.revise(now(), private_note=private, patient_summary=summary)
    audit.record(coach, "update", "coaching_note", note.id, patient_id=note.patient_id, fields=changed)
    db.session.commit()
    return note


def session_note(coach: User, appointment_id: int) -> tuple[Appointment, CoachingNote | None]:
    """A coaching session and its note (None before one is written), for the session's own coach
    while assigned to the patient, as `write_note` and `edit_note` allow them: the note editor's
    reading. Reading the note is audited."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.appointment_type not in COACHING_TYPES:
        raise NotFound("No such coaching session.")
    _coach_of(coach, appointment)
    note = db.session.scalar(select(CoachingNote).where(CoachingNote.appointment_id == appointment.id))
    if note is not None:
        audit.record(coach, "read", "coaching_note", note.id, patient_id=note.patient_id,
                     fields=["private_note", "patient_summary"])
        db.session.commit()
    return appointment, note


@dataclass(frozen=True)
class NoteView:
    """A note as one reader may see it: `private_note` is None for the patient."""
    note: CoachingNote
    private_note: str | None
    editable_until: datetime


def writer_view(note: CoachingNote) -> NoteView:
    """The note as its coach sees it, right after writing or editing it (no read to audit)."""
    appointment = db.session.get(Appointment, note.appointment_id)
    return NoteView(note, note.private_note, edit_deadline(appointment))


def notes_for_patient(actor: User, patient_id: int) -> list[NoteView]:
    """A patient's coaching notes, newest first: all of them with private notes for a care-team
    physician; the coach's own for an assigned coach; summaries only for the patient; nobody else."""
    get_patient(patient_id)
    query = select(CoachingNote).where(CoachingNote.patient_id == patient_id)
    if actor.role is Role.PHYSICIAN:
        authorize_patient(actor, patient_id, Scope.CLINICAL)
        private = True
    elif actor.role is Role.COACH:
        authorize_patient(actor, patient_id, Scope.COACHING)
        query, private = query.where(CoachingNote.coach_id == actor.id), True
    elif actor.role is Role.PATIENT:
        authorize_patient(actor, patient_id, Scope.COACHING)
        # the private note is not even read (nor decrypted) for the patient
        query, private = query.options(defer(CoachingNote.private_note)), False
    else:
        deny(actor, "coaching_notes", patient_id, patient_id=patient_id,
             message="Coaching notes are for the care team.")
    notes = list(db.session.scalars(query.order_by(CoachingNote.created_at.desc(), CoachingNote.id.desc())))
    appointments = _appointments({n.appointment_id for n in notes})
    audit.record(actor, "read", "coaching_notes", patient_id, patient_id=patient_id,
                 fields=["private_note", "patient_summary"] if private else ["patient_summary"])
    db.session.commit()
    return [NoteView(n, n.private_note if private else None, edit_deadline(appointments[n.appointment_id]))
            for n in notes]


def _appointments(ids: set[int]) -> dict[int, Appointment]:
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(select(Appointment).where(Appointment.id.in_(ids)))}


@dataclass(frozen=True)
class CoachingSession:
    appointment: Appointment
    coach_name: str
    summary: str | None
    summary_updated_at: datetime | None


def my_coaching(patient: User) -> tuple[list[CoachingSession], list[CoachingSession]]:
    """The patient's coaching sessions: past ones (newest first) with their summaries, and upcoming
    booked ones (soonest first). Cancelled ones are left out. Audited."""
    authorize_patient(patient, patient.id, Scope.COACHING)
    appointments = list(db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.appointment_type.in_(COACHING_TYPES),
        Appointment.status != AppointmentStatus.CANCELLED).order_by(Appointment.starts_at)))
    ids = [a.id for a in appointments]
    notes = {n.appointment_id: n for n in db.session.scalars(
        select(CoachingNote).where(CoachingNote.appointment_id.in_(ids)).options(defer(CoachingNote.private_note)))
    } if ids else {}
    coaches = {u.id: u.display_name for u in db.session.scalars(
        select(User).where(User.id.in_({a.provider_id for a in appointments})))} if ids else {}
    moment = now()
    past, upcoming = [], []
    for a in appointments:
        note = notes.get(a.id)
        item = CoachingSession(a, coaches.get(a.provider_id, ""), note.patient_summary if note else None,
                               note.updated_at if note else None)
        if a.status is AppointmentStatus.BOOKED and a.starts_at > moment:
            upcoming.append(item)
        else:
            past.append(item)
    audit.record(patient, "read", "coaching_sessions", patient.id, patient_id=patient.id, fields=["patient_summary"])
    db.session.commit()
    return list(reversed(past)), upcoming
