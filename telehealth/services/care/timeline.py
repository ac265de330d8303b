"""The patient timeline's sources: one registered function per kind of event, each reading at most
a page of one table's rows for one patient (`@source(kind, audiences=...)`).

The pages, the cursor, who sees what and the registration itself are `timeline_pages.py`, whose
interface (`patient_timeline`, `source`, `Event`, `Page`, ...) is importable from here as before;
importing this module registers every source below.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from telehealth.models.accounts.accounts import User
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, Decision, Measure, ReviewDecision
from telehealth.models.home_care.home_sessions import (
    AdverseEvent, BloodPressureReading, CheckIn, CheckInKind, HomeSession, TreatmentPause,
)
from telehealth.models.messaging.messaging import MessagePriority, OutboundMessage
from telehealth.models.pharmacy.prescriptions import Prescription
from telehealth.models.platform.alerts import PHYSICIAN_RECIPIENTS, AlertStatus, ClinicalAlert
from telehealth.models.scheduling.scheduling import Appointment
from telehealth.models.pharmacy.shipments import Shipment, ShipmentEvent
from telehealth.services.care.timeline_pages import (  # noqa: F401  (the timeline's interface, used from here)
    CLINICAL, EVERYONE, MAX_LIMIT, SOURCES, Audience, Event, Page, SourceRequest, patient_timeline, source,
)
from telehealth.services.care.today import kind_label
from telehealth.services.scheduling.scheduling import APPOINTMENT_TYPES, COACHING_TYPES


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


# Alerts about the patient for the physicians (clinical words: never the patient's or a coach's to
# read); ops alerts are logistics and stay off the chart.
@source("clinical_alert", audiences={Audience.PHYSICIAN})
def _alerts_raised(req: SourceRequest) -> list[Event]:
    """An alert raised about the patient (a crisis answer, a reading, a side effect...), its summary
    and whether it is still open."""
    rows = req.rows(select(ClinicalAlert.id, ClinicalAlert.created_at, ClinicalAlert.kind, ClinicalAlert.urgency,
                           ClinicalAlert.summary, ClinicalAlert.status, ClinicalAlert.acknowledged_at,
                           ClinicalAlert.acknowledged_by)
                    .where(ClinicalAlert.patient_id == req.patient_id,
                           ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS)),
                    at=ClinicalAlert.created_at, row_id=ClinicalAlert.id)
    return [req.event(r.created_at, r.id, f"{kind_label(r.kind)} alert raised", {
        "alert_id": r.id, "alert_kind": r.kind, "urgency": r.urgency, "summary": r.summary,
        "open": r.status is not AlertStatus.ACKNOWLEDGED, "acknowledged_at": r.acknowledged_at,
        "acknowledged_by": r.acknowledged_by}) for r in rows]


@source("clinical_alert_acknowledged", audiences={Audience.PHYSICIAN})
def _alerts_acknowledged(req: SourceRequest) -> list[Event]:
    """A physician acknowledged an alert about the patient: who, and when."""
    rows = req.rows(select(ClinicalAlert.id, ClinicalAlert.acknowledged_at, ClinicalAlert.kind,
                           ClinicalAlert.acknowledged_by)
                    .where(ClinicalAlert.patient_id == req.patient_id,
                           ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS)),
                    at=ClinicalAlert.acknowledged_at, row_id=ClinicalAlert.id)
    return [req.event(r.acknowledged_at, r.id, f"{kind_label(r.kind)} alert acknowledged", {
        "alert_id": r.id, "alert_kind": r.kind, "acknowledged_by": r.acknowledged_by}) for r in rows]
