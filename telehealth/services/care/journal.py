"""The integration journal: a patient writes after their sessions; private unless they share an entry.

PRODUCT.md: "After each session the patient may write in a private integration journal (encrypted);
they choose, entry by entry, whether their coach sees it."

- The patient writes, edits and deletes their own entries, and shares or unshares each one. Another
  patient's entry is the same 404 as an entry that does not exist.
- A shared entry is read by the patient's coach: a coach on their care team (assigned by admin or
  ops, or by a coaching session the patient booked, while that coaching continues: the same rule as
  the coaching notes, `authz.authorize_patient(..., Scope.COACHING)`). Nobody else reads an entry:
  not another coach, not physicians, ops or admin; a private entry is never read by anyone but the
  patient.
- Every entry is read for crisis language as every other free text a patient sends is
  (`crisis_language.detect_crisis`): crisis words show the help lines at once and page the on-call
  physician (`crisis.alert_on_call`, `notifications.page_on_call`), as a check-in or a text does.
  The alert names what was found, not the entry: the entry stays as private as the patient chose.
- Every read, change, share and unshare is audited (ids and field names, never the text).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from telehealth.clock import now
from telehealth.errors import NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.care.journal import JournalEntry
from telehealth.models.home_care.home_sessions import TAKEN, HomeSession
from telehealth.services.messaging import notifications
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, booking_continues, deny, require_role
from telehealth.services.screening import crisis, crisis_language

MAX_BODY = 10000
NOT_FOUND = "No such journal entry."
# what the patient reads when an entry holds crisis words (the help lines come first on the page)
CRISIS_ADVICE = ("What you wrote worries us, and we want you to be safe. If you are in danger, call 911. You can "
                 "call or text 988 (Suicide & Crisis Lifeline) or text HOME to 741741 at any time. A physician on "
                 "our clinical team has been alerted and will contact you; they are told that an entry worried "
                 "us, and your entry itself stays as private as you chose.")
# `edit(session_id=...)` left out: the session the entry is about stays as it is
_KEEP = object()


@dataclass(frozen=True)
class Saved:
    """An entry just written or edited, and whether its words showed the crisis path."""
    entry: JournalEntry
    crisis: bool = False
    advice: str | None = None
    resources: tuple[dict, ...] = field(default_factory=tuple)


def _patient(actor: User) -> None:
    require_role(actor, (Role.PATIENT,))


def _body(value: str | None) -> str:
    text = (value or "").strip()
    if not text or len(text) > MAX_BODY:
        raise ValidationFailed("Some fields are missing or invalid.",
                               fields={"body": [f"Write 1 to {MAX_BODY:,} characters."]})
    return text


def _session(patient: User, session_id: int | None) -> int | None:
    """The patient's own at-home session that has taken place (started, completed or ended early)."""
    if session_id is None:
        return None
    row = db.session.get(HomeSession, session_id)
    if row is None or row.patient_id != patient.id or row.status not in TAKEN:
        raise ValidationFailed("Some fields are missing or invalid.", fields={
            "session_id": ["Choose one of your sessions that has taken place, or none."]})
    return row.id


def _own(patient: User, entry_id: int, *, lock: bool = False) -> JournalEntry:
    _patient(patient)
    entry = db.session.get(JournalEntry, entry_id, with_for_update=lock)
    if entry is None:
        raise NotFound(NOT_FOUND)
    if entry.patient_id != patient.id:
        deny(patient, "journal_entry", entry_id, patient_id=entry.patient_id, message=NOT_FOUND,
             not_found=NOT_FOUND)
    return entry


def _read_for_crisis(patient: User, entry: JournalEntry) -> Saved:
    """Crisis words page the on-call physician at once (in the caller's transaction) and show the lines."""
    if not crisis_language.detect_crisis(entry.body):
        return Saved(entry)
    intents = ", ".join(i.replace("_", " ") for i in crisis_language.crisis_intents(entry.body))
    alert = crisis.alert_on_call(f"Crisis language ({intents}) in an entry of the patient's integration journal "
                                 f"(entry {entry.id}, {'shared with their coach' if entry.shared else 'private'}): "
                                 "contact the patient.", patient_id=patient.id, kind="crisis")
    notifications.page_on_call(alert)
    return Saved(entry, crisis=True, advice=CRISIS_ADVICE, resources=tuple(crisis.RESOURCES))


def crisis_help() -> dict:
    """What the patient reads after saving an entry with crisis words: the advice and the help lines."""
    return {"advice": CRISIS_ADVICE, "resources": crisis.RESOURCES}


def write(patient: User, body: str, *, session_id: int | None = None) -> Saved:
    """A new entry, private until shared."""
    _patient(patient)
    text = _body(body)
    session = _session(patient, session_id)
    moment = now()
    entry = JournalEntry(patient_id=patient.id, session_id=session, body=text, created_at=moment, updated_at=moment)
    db.session.add(entry)
    db.session.flush()
    audit.record(patient, "create", "journal_entry", entry.id, patient_id=patient.id,
                 fields=["body", "session_id"] if session else ["body"])
    saved = _read_for_crisis(patient, entry)
    db.session.commit()
    return saved


def edit(patient: User, entry_id: int, *, body: str | None = None, session_id=_KEEP) -> Saved:
    """Change the text, or the session it is about (`session_id=None` unlinks it)."""
    entry = _own(patient, entry_id, lock=True)
    text = _body(body) if body is not None else None
    if session_id is _KEEP:
        changed = entry.revise(now(), body=text)
    elif session_id is None:
        changed = entry.revise(now(), body=text, clear_session=True)
    else:
        changed = entry.revise(now(), body=text, session_id=_session(patient, session_id))
    saved = Saved(entry)
    if changed:
        audit.record(patient, "update", "journal_entry", entry.id, patient_id=patient.id, fields=changed)
        if "body" in changed:
            saved = _read_for_crisis(patient, entry)
    db.session.commit()
    return saved


def delete(patient: User, entry_id: int) -> None:
    """Gone for good (it was the patient's own writing); the trail keeps that it existed."""
    entry = _own(patient, entry_id, lock=True)
    db.session.delete(entry)
    audit.record(patient, "delete", "journal_entry", entry_id, patient_id=patient.id)
    db.session.commit()


def share(patient: User, entry_id: int) -> JournalEntry:
    """The patient's coach may read this entry from now on (sharing twice changes nothing)."""
    entry = _own(patient, entry_id, lock=True)
    if entry.share(now()):
        audit.record(patient, "share", "journal_entry", entry.id, patient_id=patient.id, fields=["shared_at"])
    db.session.commit()
    return entry


def unshare(patient: User, entry_id: int) -> JournalEntry:
    """Private again, at once: the coach no longer reads it."""
    entry = _own(patient, entry_id, lock=True)
    if entry.unshare():
        audit.record(patient, "unshare", "journal_entry", entry.id, patient_id=patient.id, fields=["shared_at"])
    db.session.commit()
    return entry


def entry(patient: User, entry_id: int) -> JournalEntry:
    """One of the patient's own entries (audited)."""
    row = _own(patient, entry_id)
    audit.record(patient, "read", "journal_entry", row.id, patient_id=patient.id, fields=["body"])
    db.session.commit()
    return row


def my_entries(patient: User) -> list[JournalEntry]:
    """The patient's own entries, newest first (audited)."""
    _patient(patient)
    rows = list(db.session.scalars(select(JournalEntry).where(JournalEntry.patient_id == patient.id)
                                   .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())))
    audit.record(patient, "read", "journal_entries", patient.id, patient_id=patient.id, fields=["body"])
    db.session.commit()
    return rows


def shared_with_coach(coach: User, patient_id: int) -> list[JournalEntry]:
    """The entries a patient shared, newest first, for their coach only; each read is audited."""
    require_role(coach, None)
    if coach.role is not Role.COACH:
        deny(coach, "journal_entries", patient_id, patient_id=patient_id,
             message="A patient shares journal entries with their coach only.", not_found=NOT_FOUND)
    authorize_patient(coach, patient_id, Scope.COACHING)
    rows = list(db.session.scalars(select(JournalEntry).where(JournalEntry.patient_id == patient_id,
                                                              JournalEntry.shared_at.is_not(None))
                                   .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())))
    for row in rows:
        audit.record(coach, "read", "journal_entry", row.id, patient_id=patient_id, fields=["body"])
    audit.record(coach, "read", "journal_entries", patient_id, patient_id=patient_id, fields=["shared"])
    db.session.commit()
    return rows


def coaches_of(patient: User) -> list[User]:
    """The coaches who read what the patient shares now (the same rule as `authz.is_assigned`)."""
    _patient(patient)
    return list(db.session.scalars(
        select(User).join(CareAssignment, CareAssignment.staff_id == User.id).where(
            CareAssignment.patient_id == patient.id, CareAssignment.care_role == CareRole.COACH,
            CareAssignment.ended_at.is_(None), User.active.is_(True),
            or_(CareAssignment.via_booking.is_(False), booking_continues(now())))
        .order_by(User.display_name).distinct()))


def taken_sessions(patient: User) -> list[HomeSession]:
    """The patient's sessions an entry may be about: those that took place, newest first."""
    _patient(patient)
    return list(db.session.scalars(select(HomeSession).where(HomeSession.patient_id == patient.id,
                                                             HomeSession.status.in_(TAKEN))
                                   .order_by(HomeSession.number.desc())))


def session_numbers(entries: list[JournalEntry]) -> dict[int, int]:
    """Session id -> its number (1 for the first session), for the sessions the entries are about."""
    ids = {e.session_id for e in entries if e.session_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(HomeSession.id, HomeSession.number).where(HomeSession.id.in_(ids))).all())
