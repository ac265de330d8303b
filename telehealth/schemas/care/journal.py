"""Request and response bodies of the integration journal: the patient's entries, and those shared with a coach."""
from __future__ import annotations

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import DbId, text
from telehealth.schemas.screening.assessments import CrisisResourceOut
from telehealth.services.care.journal import MAX_BODY

Body = text(MAX_BODY)


class JournalEntryIn(Schema):
    body: Body = Field(description="what I write (private until I share it)")
    session_id: DbId | None = Field(default=None, description="the at-home session the entry is about (optional)")


class JournalEntryEditIn(Schema):
    """Give the text, the session, or both; `session_id: null` says the entry is about no session."""
    body: Body | None = None
    session_id: DbId | None = None


class JournalEntryOut(Schema):
    id: int
    session_id: int | None
    session_number: int | None
    body: str
    shared: bool
    shared_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class JournalSavedOut(Schema):
    """The entry as saved; crisis words in it bring the help lines and the advice at once."""
    entry: JournalEntryOut
    crisis: bool
    advice: str | None
    crisis_resources: list[CrisisResourceOut]


class CoachOut(Schema):
    id: int
    name: str


class JournalListOut(Schema):
    items: list[JournalEntryOut]
    shared_with: list[CoachOut] = Field(description="the coaches who read the entries I share, now")


class SharedJournalOut(Schema):
    items: list[JournalEntryOut]


def entry_out(entry, numbers: dict[int, int] | None = None) -> JournalEntryOut:
    """`numbers`: session id -> the session's number, for the sessions named."""
    return JournalEntryOut(id=entry.id, session_id=entry.session_id,
                           session_number=(numbers or {}).get(entry.session_id) if entry.session_id else None,
                           body=entry.body, shared=entry.shared, shared_at=entry.shared_at,
                           created_at=entry.created_at, updated_at=entry.updated_at)


def saved_out(saved, numbers: dict[int, int] | None = None) -> JournalSavedOut:
    return JournalSavedOut(entry=entry_out(saved.entry, numbers), crisis=saved.crisis, advice=saved.advice,
                           crisis_resources=[CrisisResourceOut(**r) for r in saved.resources])
