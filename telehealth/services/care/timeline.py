"""The patient timeline: everything that happened in a patient's care, newest first, in pages.

Events come from many tables (screenings and their review, symptom measures, appointments,
prescriptions, shipments and their history, at-home sessions, check-in answers, blood-pressure
readings, adverse events, pauses, texts sent, coaching notes, follow-up decisions). Each table is a *source*: one function,
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
pauses or shipments. Ops and admin never read it. Every page read is audited.

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

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import aliased

from telehealth.clock import UTC
from telehealth.errors import ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, Decision, Measure, ReviewDecision
from telehealth.models.home_care.home_sessions import (
    AdverseEvent, BloodPressureReading, CheckIn, CheckInKind, HomeSession, TreatmentPause,
)
from telehealth.models.messaging.messaging import MessagePriority, OutboundMessage
from telehealth.models.pharmacy.prescriptions import Prescription
from telehealth.models.scheduling.scheduling import Appointment
from telehealth.models.pharmacy.shipments import Shipment, ShipmentEvent
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient
from telehealth.services.scheduling.scheduling import APPOINTMENT_TYPES, COACHING_TYPES


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


def patient_timeline(actor: User, patient_id: int, *, before: str | None = None, limit: int = 50) -> Page:
    """One page of the patient's timeline as `actor` may see it, newest first; audited."""
    audience = _audience(actor, patient_id)
    cursor = Cursor.decode(before) if before else None
    limit = max(1, min(limit, MAX_LIMIT))
    candidates: list[Event] = []
    for src in SOURCES.values():
        if audience in src.audiences:
            request = SourceRequest(src.kind, patient_id, audience, cursor, limit + 1, viewer_id=actor.id)
            candidates.extend(src.fetch(request))
    candidates.sort(key=lambda e: e.sort_key, reverse=True)
    items = candidates[:limit]
    more = len(candidates) > limit
    audit.record(actor, "read", "patient_timeline", patient_id, patient_id=patient_id,
                 fields={e.kind for e in items})
    db.session.commit()
    return Page(items, Cursor.after(items[-1]).encode() if more and items else None)


# ------------------------------------------------------------------ the sources

_REVIEW_TITLES = {Decision.APPROVE: "Screening approved", Decision.DECLINE: "Screening declined",
                  Decision.REQUEST_INFO: "More information asked for", Decision.PATIENT_REPLY: "Reply to the reviewer"}
_INSTRUMENTS = {"phq9": "PHQ-9", "gad7": "GAD-7"}
_CHECK_IN_TITLES = {CheckInKind.PRE: "Check-in before a session", CheckInKind.POST: "Check-in after a session",
                    CheckInKind.NEXT_DAY: "Check-in the day after a session"}
# Texts a coach may know were sent (purpose and status, never the words): reminders and prompts
# that say nothing clinical. Crisis answers, replies to readings, shipment notices and texts to a
# sitter or emergency contact are not theirs to see.
COACH_MESSAGE_PURPOSES = ("appointment_reminder", "opt_in_confirmation", "opt_out_confirmation",
                          *(f"check_in_{step}_{kind.value}" for step in ("prompt", "remind") for kind in CheckInKind))


@source("assessment")
def _assessments(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(Assessment.id, Assessment.submitted_at, Assessment.outcome, Assessment.phq9_total,
                           Assessment.phq9_band, Assessment.gad7_total, Assessment.gad7_band, Assessment.cssrs_risk,
                           Assessment.urgent, Assessment.review_status)
                    .where(Assessment.patient_id == req.patient_id,
                           Assessment.status == AssessmentStatus.SUBMITTED),
                    at=Assessment.submitted_at, row_id=Assessment.id)
    return [req.event(r.submitted_at, r.id, "Screening submitted", {
        "assessment_id": r.id, "outcome": r.outcome, "phq9_total": r.phq9_total, "phq9_band": r.phq9_band,
        "gad7_total": r.gad7_total, "gad7_band": r.gad7_band, "cssrs_risk": r.cssrs_risk, "urgent": r.urgent,
        "review_status": r.review_status.value if r.review_status else None}) for r in rows]


@source("assessment_review")
def _assessment_reviews(req: SourceRequest) -> list[Event]:
    columns = [ReviewDecision.id, ReviewDecision.at, ReviewDecision.decision, ReviewDecision.assessment_id,
               ReviewDecision.actor_id, ReviewDecision.message_to_patient]
    if req.audience is Audience.PHYSICIAN:
        columns.append(ReviewDecision.private_note)  # the reviewer's note: not the patient's to read
    rows = req.rows(select(*columns).join(Assessment, Assessment.id == ReviewDecision.assessment_id)
                    .where(Assessment.patient_id == req.patient_id),
                    at=ReviewDecision.at, row_id=ReviewDecision.id)
    events = []
    for r in rows:
        details = {"assessment_id": r.assessment_id, "decision": r.decision.value, "by": r.actor_id,
                   "message_to_patient": r.message_to_patient}
        if req.audience is Audience.PHYSICIAN:
            details["private_note"] = r.private_note
        events.append(req.event(r.at, r.id, _REVIEW_TITLES[r.decision], details))
    return events


@source("measure")
def _measures(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(Measure.id, Measure.taken_at, Measure.instrument, Measure.total, Measure.band,
                           Measure.source).where(Measure.patient_id == req.patient_id),
                    at=Measure.taken_at, row_id=Measure.id)
    return [req.event(r.taken_at, r.id, f"{_INSTRUMENTS.get(r.instrument, r.instrument)} answered", {
        "measure_id": r.id, "instrument": r.instrument, "total": r.total, "band": r.band, "source": r.source})
        for r in rows]


@source("appointment", audiences=EVERYONE)
def _appointments(req: SourceRequest) -> list[Event]:
    provider = aliased(User)
    query = (select(Appointment.id, Appointment.starts_at, Appointment.ends_at, Appointment.appointment_type,
                    Appointment.status, Appointment.provider_id, provider.display_name.label("provider_name"),
                    Appointment.cancelled_at, Appointment.late_cancellation, Appointment.encounter_modality)
             .join(provider, provider.id == Appointment.provider_id)
             .where(Appointment.patient_id == req.patient_id))
    if not req.clinical:
        query = query.where(Appointment.appointment_type.in_(COACHING_TYPES))
    events = []
    for r in req.rows(query, at=Appointment.starts_at, row_id=Appointment.id):
        kind = APPOINTMENT_TYPES.get(r.appointment_type)
        details = {"appointment_id": r.id, "type": r.appointment_type, "status": r.status.value,
                   "starts_at": r.starts_at, "ends_at": r.ends_at, "provider_id": r.provider_id,
                   "provider_name": r.provider_name}
        if req.clinical:
            details.update(cancelled_at=r.cancelled_at, late_cancellation=r.late_cancellation,
                           encounter_modality=r.encounter_modality)
        events.append(req.event(r.starts_at, r.id, kind.name if kind else "Appointment", details))
    return events


@source("prescription")
def _prescriptions(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(Prescription.id, Prescription.signed_at, Prescription.version, Prescription.status,
                           Prescription.medication, Prescription.form, Prescription.strength_mg,
                           Prescription.dose_per_session_mg, Prescription.sessions, Prescription.refills,
                           Prescription.diagnosis_code, Prescription.physician_id, Prescription.supersedes_id,
                           Prescription.superseded_at)
                    .where(Prescription.patient_id == req.patient_id),
                    at=Prescription.signed_at, row_id=Prescription.id)
    return [req.event(r.signed_at, r.id, "Prescription signed" if r.version == 1 else
                      f"Prescription changed (version {r.version})", {
                          "prescription_id": r.id, "version": r.version, "status": r.status.value,
                          "medication": r.medication, "form": r.form.value, "strength_mg": r.strength_mg,
                          "dose_per_session_mg": r.dose_per_session_mg, "sessions": r.sessions,
                          "refills": r.refills, "diagnosis_code": r.diagnosis_code, "physician_id": r.physician_id,
                          "supersedes_id": r.supersedes_id, "superseded_at": r.superseded_at})
            for r in rows]


@source("shipment")
def _shipments(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(Shipment.id, Shipment.created_at, Shipment.stage, Shipment.sessions, Shipment.status,
                           Shipment.carrier, Shipment.tracking_number, Shipment.shipped_at, Shipment.delivered_at,
                           Shipment.sessions_completed_at, Shipment.next_stage_released_at)
                    .where(Shipment.patient_id == req.patient_id),
                    at=Shipment.created_at, row_id=Shipment.id)
    return [req.event(r.created_at, r.id, f"Medication stage {r.stage} ordered", {
        "shipment_id": r.id, "stage": r.stage, "sessions": r.sessions, "status": r.status.value,
        "carrier": r.carrier, "tracking_number": r.tracking_number, "shipped_at": r.shipped_at,
        "delivered_at": r.delivered_at, "sessions_completed_at": r.sessions_completed_at,
        "next_stage_released_at": r.next_stage_released_at}) for r in rows]


@source("shipment_status")
def _shipment_history(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(ShipmentEvent.id, ShipmentEvent.at, ShipmentEvent.status, ShipmentEvent.source,
                           ShipmentEvent.applied, ShipmentEvent.shipment_id, Shipment.stage)
                    .join(Shipment, Shipment.id == ShipmentEvent.shipment_id)
                    .where(Shipment.patient_id == req.patient_id),
                    at=ShipmentEvent.at, row_id=ShipmentEvent.id)
    return [req.event(r.at, r.id, f"Shipment {r.status.value.replace('_', ' ')}", {
        "shipment_id": r.shipment_id, "stage": r.stage, "status": r.status.value, "source": r.source,
        "applied": r.applied}) for r in rows]


@source("session", audiences=EVERYONE)
def _sessions(req: SourceRequest) -> list[Event]:
    columns = [HomeSession.id, HomeSession.scheduled_for, HomeSession.number, HomeSession.status]
    if req.clinical:
        columns += [HomeSession.started_at, HomeSession.completed_at, HomeSession.ended_at,
                    HomeSession.sitter_confirmed_at, HomeSession.gate_results]
    rows = req.rows(select(*columns).where(HomeSession.patient_id == req.patient_id),
                    at=HomeSession.scheduled_for, row_id=HomeSession.id)
    events = []
    for r in rows:
        details = {"session_id": r.id, "number": r.number, "status": r.status.value,
                   "scheduled_for": r.scheduled_for}
        if req.clinical:
            details.update(started_at=r.started_at, completed_at=r.completed_at, ended_at=r.ended_at,
                           sitter_confirmed=r.sitter_confirmed_at is not None,
                           gates=[{"id": g["id"], "ok": g["ok"], "reason": g.get("reason")}
                                  for g in (r.gate_results or [])])
        events.append(req.event(r.scheduled_for, r.id, f"At-home session {r.number}", details))
    return events


@source("check_in", audiences=EVERYONE)
def _check_ins(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(CheckIn.id, CheckIn.answered_at, CheckIn.kind, CheckIn.answers,
                           CheckIn.session_id, HomeSession.number)
                    .join(HomeSession, HomeSession.id == CheckIn.session_id)
                    .where(HomeSession.patient_id == req.patient_id, CheckIn.answered_at.is_not(None)),
                    at=CheckIn.answered_at, row_id=CheckIn.id)
    events = []
    for r in rows:
        answers = r.answers or {}
        details = {"session_id": r.session_id, "session_number": r.number, "check_in": r.kind.value,
                   "mood": answers.get("mood")}
        if req.clinical:
            details.update(sleep_quality=answers.get("sleep_quality"),
                           side_effects=[{"name": g.get("name"), "grade": g.get("grade")}
                                         for g in answers.get("graded", [])])
        events.append(req.event(r.answered_at, r.id, _CHECK_IN_TITLES[r.kind], details))
    return events


@source("blood_pressure")
def _readings(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(BloodPressureReading.id, BloodPressureReading.taken_at, BloodPressureReading.systolic,
                           BloodPressureReading.diastolic, BloodPressureReading.band, BloodPressureReading.source,
                           BloodPressureReading.session_id)
                    .where(BloodPressureReading.patient_id == req.patient_id),
                    at=BloodPressureReading.taken_at, row_id=BloodPressureReading.id)
    return [req.event(r.taken_at, r.id, "Blood-pressure reading", {
        "systolic": r.systolic, "diastolic": r.diastolic, "band": r.band.value, "source": r.source.value,
        "session_id": r.session_id}) for r in rows]


@source("adverse_event")
def _adverse_events(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(AdverseEvent.id, AdverseEvent.opened_at, AdverseEvent.grade, AdverseEvent.source,
                           AdverseEvent.description, AdverseEvent.session_id, AdverseEvent.cleared_at)
                    .where(AdverseEvent.patient_id == req.patient_id),
                    at=AdverseEvent.opened_at, row_id=AdverseEvent.id)
    return [req.event(r.opened_at, r.id, "Side effect reported", {
        "adverse_event_id": r.id, "grade": r.grade.value, "source": r.source, "description": r.description,
        "session_id": r.session_id, "open": r.cleared_at is None, "cleared_at": r.cleared_at}) for r in rows]


@source("adverse_event_cleared")
def _adverse_events_cleared(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(AdverseEvent.id, AdverseEvent.cleared_at, AdverseEvent.grade, AdverseEvent.cleared_by,
                           AdverseEvent.clearance_note)
                    .where(AdverseEvent.patient_id == req.patient_id),
                    at=AdverseEvent.cleared_at, row_id=AdverseEvent.id)
    return [req.event(r.cleared_at, r.id, "Side effect cleared by a physician", {
        "adverse_event_id": r.id, "grade": r.grade.value, "cleared_by": r.cleared_by, "note": r.clearance_note})
        for r in rows]


@source("treatment_pause")
def _pauses(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(TreatmentPause.id, TreatmentPause.started_at, TreatmentPause.reason,
                           TreatmentPause.started_by, TreatmentPause.adverse_event_id, TreatmentPause.cleared_at)
                    .where(TreatmentPause.patient_id == req.patient_id),
                    at=TreatmentPause.started_at, row_id=TreatmentPause.id)
    return [req.event(r.started_at, r.id, "Treatment paused", {
        "pause_id": r.id, "reason": r.reason, "by": "physician" if r.started_by else "system",
        "started_by": r.started_by, "adverse_event_id": r.adverse_event_id, "open": r.cleared_at is None,
        "cleared_at": r.cleared_at}) for r in rows]


@source("treatment_resumed")
def _resumptions(req: SourceRequest) -> list[Event]:
    rows = req.rows(select(TreatmentPause.id, TreatmentPause.cleared_at, TreatmentPause.cleared_by,
                           TreatmentPause.clearance_note)
                    .where(TreatmentPause.patient_id == req.patient_id),
                    at=TreatmentPause.cleared_at, row_id=TreatmentPause.id)
    return [req.event(r.cleared_at, r.id, "Treatment resumed", {
        "pause_id": r.id, "cleared_by": r.cleared_by, "note": r.clearance_note}) for r in rows]


@source("message", audiences=EVERYONE)
def _messages(req: SourceRequest) -> list[Event]:
    columns = [OutboundMessage.id, OutboundMessage.created_at, OutboundMessage.purpose, OutboundMessage.status,
               OutboundMessage.sent_at]
    if req.clinical:
        columns += [OutboundMessage.priority, OutboundMessage.body]
    query = select(*columns).where(OutboundMessage.patient_id == req.patient_id,
                                   OutboundMessage.priority != MessagePriority.STAFF)
    if not req.clinical:
        query = query.where(OutboundMessage.purpose.in_(COACH_MESSAGE_PURPOSES))
    events = []
    for r in req.rows(query, at=OutboundMessage.created_at, row_id=OutboundMessage.id):
        details = {"purpose": r.purpose, "status": r.status.value, "sent_at": r.sent_at}
        if req.clinical:
            details.update(priority=r.priority.value, body=r.body)
        events.append(req.event(r.created_at, r.id, "Text message", details))
    return events


@source("coaching_summary", audiences=EVERYONE)
def _coaching_notes(req: SourceRequest) -> list[Event]:
    """A coaching session's note: the summary for everyone who reads the timeline; the coach's
    private note only for the physicians (the writer reads it at /patients/{id}/coaching-notes)."""
    from telehealth.models.care.care_notes import CoachingNote

    columns = [CoachingNote.id, CoachingNote.created_at, CoachingNote.appointment_id, CoachingNote.coach_id,
               CoachingNote.patient_summary]
    if req.audience is Audience.PHYSICIAN:
        columns.append(CoachingNote.private_note)
    query = select(*columns).where(CoachingNote.patient_id == req.patient_id)
    if req.audience is Audience.COACH:  # another coach's sessions are not theirs to read
        query = query.where(CoachingNote.coach_id == req.viewer_id)
    rows = req.rows(query, at=CoachingNote.created_at, row_id=CoachingNote.id)
    events = []
    for r in rows:
        details = {"appointment_id": r.appointment_id, "coach_id": r.coach_id, "summary": r.patient_summary}
        if req.audience is Audience.PHYSICIAN:
            details["private_note"] = r.private_note
        events.append(req.event(r.created_at, r.id, "Coaching session summary", details))
    return events


@source("follow_up_decision")
def _follow_up_decisions(req: SourceRequest) -> list[Event]:
    """A physician's follow-up decision; its note is the physician's, not shown to the patient."""
    from telehealth.models.care.care_notes import FollowUpDecision

    columns = [FollowUpDecision.id, FollowUpDecision.decided_at, FollowUpDecision.decision,
               FollowUpDecision.physician_id, FollowUpDecision.appointment_id, FollowUpDecision.prescription_id,
               FollowUpDecision.released_shipment_id]
    if req.audience is Audience.PHYSICIAN:
        columns.append(FollowUpDecision.note)
    rows = req.rows(select(*columns).where(FollowUpDecision.patient_id == req.patient_id),
                    at=FollowUpDecision.decided_at, row_id=FollowUpDecision.id)
    events = []
    for r in rows:
        details = {"decision": r.decision.value, "physician_id": r.physician_id, "appointment_id": r.appointment_id,
                   "prescription_id": r.prescription_id, "released_shipment_id": r.released_shipment_id}
        if req.audience is Audience.PHYSICIAN:
            details["note"] = r.note
        events.append(req.event(r.decided_at, r.id, "Follow-up decision", details))
    return events
