"""The patient timeline's pages: everything that happened in a patient's care, newest first.

The sources themselves (one function per table) are `timeline.py`; this module is the machinery
they plug into: audiences, events, the cursor, registration and the merged, audited page.

Events come from many tables (screenings and their review, symptom measures, appointments,
prescriptions, shipments and their history, at-home sessions, check-in answers, blood-pressure
readings, adverse events, pauses, texts sent, coaching notes, follow-up decisions, alerts raised
about the patient and their acknowledgement). Each table is a *source*: one function,
registered with `@source(kind, audiences=...)`, that reads at most `limit + 1` rows of one patient
older than the page's cursor, through an index on (patient, time), and turns each row into an
`Event`. The page merges the sources' rows and keeps the newest `limit`; so a page costs one query
per source however long it is, and each query stays small however large the tables grow.

Adding a source is one function in any module imported at start-up, e.g.:

    @timeline.source("coaching_summary", audiences=timeline.EVERYONE)
    def coaching_summaries(req: timeline.SourceRequest):
        rows = req.rows(select(CoachingNote.id, CoachingNote.written_at, CoachingNote.summary)
                        .where(CoachingNote.patient_id == req.patient_id),
                        at=CoachingNote.written_at, row_id=CoachingNote.id)
        return [req.event(r.written_at, r.id, "Coaching session summary", {"summary": r.summary}) for r in rows]

Who sees what (`Audience`): the patient everything of their own; a physician on the care team
everything clinical; a coach assigned to the patient only what coaching needs (sessions with
their date and status, the mood answered in check-ins, coaching appointments and summaries, and
which reminder texts went out), never prescriptions, screenings or scores, readings, side effects,
pauses or shipments. Alerts raised about the patient (their clinical summary, who acknowledged
them) are the physicians' only. Ops and admin never read it. Every page read is audited.

Ordering and the cursor: events are ordered by (time, kind, row id), newest first; the cursor names
the last event of a page, so the next page starts strictly after it, even among events that share
a timestamp, and is stable while new events arrive.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, or_

from telehealth.clock import UTC
from telehealth.errors import ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient


class Audience(StrEnum):
    PATIENT = "patient"        # the patient themselves: everything of their own
    PHYSICIAN = "physician"    # a physician on the care team: everything clinical
    COACH = "coach"            # an assigned coach: what coaching needs only


EVERYONE = frozenset(Audience)
CLINICAL = frozenset({Audience.PATIENT, Audience.PHYSICIAN})

MAX_LIMIT = 100
MAX_ROW_ID = 2**31 - 1


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    row_id: int
    title: str                 # short and free of PHI: what happened, never values
    details: dict[str, Any]    # only what the viewer may see

    @property
    def sort_key(self) -> tuple[datetime, str, int]:
        return (self.at, self.kind, self.row_id)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.row_id}"


_CURSOR = re.compile(r"^([0-9]{1,19})\.([a-z_]{1,40})\.([0-9]{1,19})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """The last event of a page: `<microseconds since 1970>.<kind>.<row id>`."""

    at: datetime
    kind: str
    row_id: int

    def encode(self) -> str:
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.kind}.{self.row_id}"

    @classmethod
    def after(cls, event: Event) -> Cursor:
        return cls(event.at, event.kind, event.row_id)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        match = _CURSOR.match(text)
        if not match or match.group(2) not in SOURCES:
            raise ValidationFailed("Some query parameters are invalid.",
                                   fields={"before": ["Use the next_before value of the previous page."]})
        try:
            at = _EPOCH + timedelta(microseconds=int(match.group(1)))
        except OverflowError:
            raise ValidationFailed("Some query parameters are invalid.",
                                   fields={"before": ["Use the next_before value of the previous page."]}) from None
        if int(match.group(3)) > MAX_ROW_ID:  # ids are 32-bit: a larger one names nothing
            raise ValidationFailed("Some query parameters are invalid.",
                                   fields={"before": ["Use the next_before value of the previous page."]})
        return cls(at, match.group(2), int(match.group(3)))


@dataclass(frozen=True)
class SourceRequest:
    """What a source is asked for: one patient's rows for one viewer, older than the cursor."""

    kind: str
    patient_id: int
    audience: Audience
    before: Cursor | None
    limit: int
    viewer_id: int | None = None   # who reads (a coach reads only their own coaching notes)

    def page(self, query: Select, *, at, row_id) -> Select:
        """`query` narrowed to rows after the cursor, newest first, at most `limit` of them.
        Rows sort by (at, kind, row id): at the cursor's own time, a kind before the cursor's
        comes after it on the page."""
        cursor = self.before
        if cursor is not None:
            if self.kind < cursor.kind:
                query = query.where(at <= cursor.at)
            elif self.kind == cursor.kind:
                query = query.where(or_(at < cursor.at, and_(at == cursor.at, row_id < cursor.row_id)))
            else:
                query = query.where(at < cursor.at)
        return query.where(at.is_not(None)).order_by(at.desc(), row_id.desc()).limit(self.limit)

    def rows(self, query: Select, *, at, row_id) -> list:
        return list(db.session.execute(self.page(query, at=at, row_id=row_id)).all())

    def event(self, at: datetime, row_id: int, title: str, details: dict[str, Any]) -> Event:
        return Event(at=at, kind=self.kind, row_id=row_id, title=title, details=details)

    @property
    def clinical(self) -> bool:
        return self.audience in CLINICAL


@dataclass(frozen=True)
class Source:
    kind: str
    audiences: frozenset[Audience]
    fetch: Callable[[SourceRequest], Iterable[Event]]


SOURCES: dict[str, Source] = {}


def source(kind: str, *, audiences: Iterable[Audience] = CLINICAL) -> Callable:
    """Register a function as the source of one kind of event (one row, one event)."""
    if not re.fullmatch(r"[a-z_]{1,40}", kind):
        raise ValueError(f"a timeline kind is lower-case letters and underscores: {kind!r}")

    def register(fetch: Callable[[SourceRequest], Iterable[Event]]) -> Callable:
        if kind in SOURCES:
            raise ValueError(f"timeline source {kind!r} is registered twice")
        SOURCES[kind] = Source(kind, frozenset(audiences), fetch)
        return fetch

    return register


@dataclass(frozen=True)
class Page:
    items: list[Event]
    next_before: str | None


def _audience(actor: User, patient_id: int) -> Audience:
    """Authorize the read (a refusal is audited): the patient and their physicians read clinical
    data; an assigned coach coaching data; nobody else anything."""
    if actor.role is Role.COACH:
        authorize_patient(actor, patient_id, Scope.COACHING)
        return Audience.COACH
    authorize_patient(actor, patient_id, Scope.CLINICAL)  # refuses ops and admin
    return Audience.PATIENT if actor.role is Role.PATIENT else Audience.PHYSICIAN


def unaudited_page(patient_id: int, audience: Audience, viewer_id: int, *, before: str | None = None,
                   limit: int = 50) -> Page:
    """One page of the timeline for an `audience` the caller has authorized, neither audited nor
    committed: for a caller that shows it inside a larger read it audits once (the patient chart)."""
    cursor = Cursor.decode(before) if before else None
    limit = max(1, min(limit, MAX_LIMIT))
    candidates: list[Event] = []
    for src in SOURCES.values():
        if audience in src.audiences:
            request = SourceRequest(src.kind, patient_id, audience, cursor, limit + 1, viewer_id=viewer_id)
            candidates.extend(src.fetch(request))
    candidates.sort(key=lambda e: e.sort_key, reverse=True)
    items = candidates[:limit]
    more = len(candidates) > limit
    return Page(items, Cursor.after(items[-1]).encode() if more and items else None)


def patient_timeline(actor: User, patient_id: int, *, before: str | None = None, limit: int = 50) -> Page:
    """One page of the patient's timeline as `actor` may see it, newest first; audited."""
    audience = _audience(actor, patient_id)
    page = unaudited_page(patient_id, audience, actor.id, before=before, limit=limit)
    audit.record(actor, "read", "patient_timeline", patient_id, patient_id=patient_id,
                 fields={e.kind for e in page.items})
    db.session.commit()
    return page
