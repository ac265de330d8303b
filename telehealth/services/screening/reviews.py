"""Clinical review of submitted screenings within the SLA (PRODUCT.md: 24 hours by default).

Physicians work a queue (urgent first, then oldest) and approve for consult, decline with a reason
the patient reads, or ask for more information. Ops and admin watch the SLA figures.
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import case, select

from telehealth.adapters.mail import send_mail
from telehealth.clock import now
from telehealth.errors import NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.screening.assessments import OPEN_REVIEW, Assessment, AssessmentStatus, Decision, ReviewStatus
from telehealth.services.platform import audit
from telehealth.services.platform.authz import authorize_assessment

DEFAULT_WINDOW = timedelta(days=30)

_PATIENT_NOTICE = {
    Decision.APPROVE: "Your screening has been reviewed: you can now book a consultation with a physician.",
    Decision.DECLINE: "Your screening has been reviewed. Log in to read the physician's note.",
    Decision.REQUEST_INFO: "A physician reviewing your screening has a question for you. Log in to answer it.",
}


def queue(viewer: User, status: str = "open", limit: int = 100) -> list[Assessment]:
    """Open reviews. A physician's view is urgent first, then oldest, and shows clinical content,
    so each item they see is an audited read. Ops and admin watch the SLA: oldest (soonest due)
    first, urgent or not, so not even the order tells them which screening was a crisis."""
    statuses = OPEN_REVIEW if status == "open" else (ReviewStatus(status),)
    order = (Assessment.review_due_at, Assessment.submitted_at, Assessment.id)
    if viewer.role is Role.PHYSICIAN:
        order = (case((Assessment.urgent.is_(True), 0), else_=1), Assessment.submitted_at, Assessment.id)
    items = list(db.session.scalars(
        select(Assessment).where(Assessment.review_status.in_(statuses)).order_by(*order).limit(limit)))
    if viewer.role is Role.PHYSICIAN:
        audit.record_each(viewer, "read", "review_queue_item", [(item.id, item.patient_id) for item in items])
        db.session.commit()
    return items


def _get_submitted(assessment_id: int) -> Assessment:
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None or assessment.status is not AssessmentStatus.SUBMITTED:
        raise NotFound("No such assessment.")
    return assessment


def decide(physician: User, assessment_id: int, decision: Decision, *, message: str | None,
           note: str | None) -> Assessment:
    """Record a physician's decision; decline and request_info need a message for the patient."""
    if decision in (Decision.DECLINE, Decision.REQUEST_INFO) and not message:
        raise ValidationFailed("Tell the patient why.", fields={"message_to_patient": ["Required for this decision."]})
    if decision is Decision.PATIENT_REPLY:
        raise ValidationFailed("Not a physician's decision.", fields={"decision": ["Choose approve, decline or request_info."]})
    assessment = _get_submitted(assessment_id)
    assessment.decide(decision, physician.id, now(), message=message, note=note)
    audit.record(physician, "update", "assessment_review", assessment.id, patient_id=assessment.patient_id,
                 fields=["review_status"])
    if assessment.patient_id is not None:
        patient = db.session.get(User, assessment.patient_id)
        send_mail(patient.email, "Your screening review", _PATIENT_NOTICE[decision], kind="review_decision")
    db.session.commit()
    return assessment


def patient_reply(patient: User, assessment_id: int, message: str) -> Assessment:
    """The patient answers a physician's question; the review goes back to the queue."""
    assessment = _get_submitted(assessment_id)
    authorize_assessment(patient, assessment)
    assessment.decide(Decision.PATIENT_REPLY, patient.id, now(), message=message)
    audit.record(patient, "update", "assessment_review", assessment.id, patient_id=patient.id,
                 fields=["review_status"])
    db.session.commit()
    return assessment


def sla_counts(start: datetime | None = None, end: datetime | None = None, *, end_exclusive: bool = False) -> dict:
    """Review SLA over assessments submitted from `start` to `end` (default: the last 30 days; the end is
    included unless `end_exclusive`): counts, the share reviewed in time among those whose outcome is
    known (`decided`: reviewed, or open past due), median."""
    at = now()
    start, end = start or at - DEFAULT_WINDOW, end or at
    if start >= end:
        raise ValidationFailed("The window is empty.", fields={"since": ["Must be before 'until'."]})
    before_end = Assessment.submitted_at < end if end_exclusive else Assessment.submitted_at <= end
    rows = db.session.execute(
        select(Assessment.submitted_at, Assessment.first_reviewed_at, Assessment.review_due_at)
        .where(Assessment.status == AssessmentStatus.SUBMITTED, Assessment.submitted_at >= start, before_end)).all()
    waits = [(reviewed - submitted) for submitted, reviewed, _ in rows if reviewed is not None]
    in_time = sum(1 for submitted, reviewed, due in rows if reviewed is not None and reviewed <= due)
    open_rows = [due for _, reviewed, due in rows if reviewed is None]
    overdue = sum(1 for due in open_rows if due < at)
    decided = len(waits) + overdue  # open items still inside their SLA may yet be on time
    return {
        "since": start,
        "until": end,
        "submitted": len(rows),
        "reviewed": len(waits),
        "reviewed_within_sla": in_time,
        "decided": decided,
        "share_reviewed_within_sla": round(in_time / decided, 4) if decided else None,
        "median_hours_to_review": round(statistics.median(w.total_seconds() for w in waits) / 3600, 2)
        if waits else None,
        "open": len(open_rows),
        "open_overdue": overdue,
    }


def sla_figures(start: datetime | None = None, end: datetime | None = None) -> dict:
    """The SLA figures ops and admin read (`sla_counts` over [start, end], without its `decided`)."""
    figures = sla_counts(start, end)
    del figures["decided"]
    return figures
