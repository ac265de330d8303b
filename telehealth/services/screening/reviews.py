"""Clinical review of submitted screenings within the SLA (PRODUCT.md: 24 hours by default).

Physicians work a queue (urgent first, then oldest) and approve for consult, decline with a reason
the patient reads, or ask for more information. Ops and admin watch the SLA figures.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from telehealth.adapters.mail import send_mail
from telehealth.clock import now
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PatientProfile, Role, User
from telehealth.models.screening.assessments import OPEN_REVIEW, Assessment, AssessmentStatus, Decision, ReviewStatus
from telehealth.services.platform import audit
from telehealth.services.platform.authz import authorize_assessment
from telehealth.services.screening import assessments

DEFAULT_WINDOW = timedelta(days=30)

_PATIENT_NOTICE = {
    Decision.APPROVE: "Your screening has been reviewed: you can now book a consultation with a physician.",
    Decision.DECLINE: "Your screening has been reviewed. Log in to read the physician's note.",
    Decision.REQUEST_INFO: "A physician reviewing your screening has a question for you. Log in to answer it.",
}


def queue(viewer: User, status: str = "open", limit: int = 100, offset: int = 0) -> list[Assessment]:
    """Open reviews. A physician's view is urgent first, then oldest, and shows clinical content,
    so each item they see is an audited read. Ops and admin watch the SLA: oldest (soonest due)
    first, urgent or not, so not even the order tells them which screening was a crisis.
    `offset` skips that many items of the same order (the pages' page numbers)."""
    statuses = OPEN_REVIEW if status == "open" else (ReviewStatus(status),)
    order = (Assessment.review_due_at, Assessment.submitted_at, Assessment.id)
    if viewer.role is Role.PHYSICIAN:
        order = (case((Assessment.urgent.is_(True), 0), else_=1), Assessment.submitted_at, Assessment.id)
    items = list(db.session.scalars(
        select(Assessment).where(Assessment.review_status.in_(statuses)).order_by(*order).limit(limit).offset(offset)))
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
           note: str | None, seen_decisions: int | None = None) -> Assessment:
    """Record a physician's decision; decline and request_info need a message for the patient.
    `seen_decisions`: how many decisions the physician saw when they read the screening (the review
    page sends it); when someone else decided since, nothing is recorded and the 409 says who."""
    if decision in (Decision.DECLINE, Decision.REQUEST_INFO) and not message:
        raise ValidationFailed("Tell the patient why.", fields={"message_to_patient": ["Required for this decision."]})
    if decision is Decision.PATIENT_REPLY:
        raise ValidationFailed("Not a physician's decision.", fields={"decision": ["Choose approve, decline or ask for more information."]})
    assessment = _get_submitted(assessment_id)
    if seen_decisions is not None and len(assessment.decisions) != seen_decisions:
        raise Conflict(_changed_since(physician, assessment))
    try:
        assessment.decide(decision, physician.id, now(), message=message, note=note)
    except Conflict:
        raise Conflict(_already_decided(physician, assessment)) from None
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


# ----------------------------------------------------------------------------- the physicians' pages
# The review pages (routes/screening/review_pages.py) read the queue a page at a time with the
# patients' names, and one screening with what a physician weighs beside it. No query per row.

_DONE_WORDS = {
    Decision.APPROVE: "approved this screening",
    Decision.DECLINE: "declined this screening",
    Decision.REQUEST_INFO: "asked the patient a question",
    Decision.PATIENT_REPLY: "answered the physician's question",
}


def _display_names(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def patient_names(patient_ids) -> dict[int, str]:
    """Patients' legal names ("Riley Review") by id, in one query."""
    ids = {i for i in patient_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(PatientProfile.user_id, PatientProfile.legal_first_name,
                                     PatientProfile.legal_last_name).where(PatientProfile.user_id.in_(ids))).all()
    names = {user_id: f"{first} {last}" for user_id, first, last in rows}
    missing = ids - names.keys()
    names.update(_display_names(missing))
    return names


def _who(viewer: User, actor_id: int | None) -> str:
    if actor_id == viewer.id:
        return "You"
    return _display_names([actor_id]).get(actor_id, "Someone else") if actor_id is not None else "Someone else"


def _already_decided(viewer: User, assessment: Assessment) -> str:
    """Why a decision cannot be taken now, in words: who decided what."""
    last = next((d for d in reversed(assessment.decisions) if d.decision is not Decision.PATIENT_REPLY), None)
    who = _who(viewer, last.actor_id if last else assessment.reviewer_id)
    if assessment.review_status is ReviewStatus.INFO_REQUESTED:
        return (f"{who} already asked the patient a question and their answer is awaited; your decision was "
                "not recorded. You can still approve or decline.")
    done = {ReviewStatus.APPROVED: "approved", ReviewStatus.DECLINED: "declined"}.get(assessment.review_status,
                                                                                       str(assessment.review_status))
    return f"{who} already {done} this screening; your decision was not recorded."


def _changed_since(viewer: User, assessment: Assessment) -> str:
    last = assessment.decisions[-1] if assessment.decisions else None
    if last is None:
        return "This screening changed since you opened it; read it again. Your decision was not recorded."
    who = "The patient" if last.decision is Decision.PATIENT_REPLY else _who(viewer, last.actor_id)
    then = ("Read the screening again before deciding." if assessment.is_open_for_review
            else "There is nothing left to decide.")
    return f"{who} {_DONE_WORDS[last.decision]} since you opened this page; your decision was not recorded. {then}"


@dataclass(frozen=True)
class QueuePage:
    """One page of the physician's queue, with the patients' names (None: not linked to an account yet)."""

    items: list[Assessment]
    names: dict[int, str]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1


def open_count(status: str = "open") -> int:
    statuses = OPEN_REVIEW if status == "open" else (ReviewStatus(status),)
    return db.session.scalar(select(func.count()).select_from(Assessment).where(
        Assessment.review_status.in_(statuses))) or 0


def queue_page(viewer: User, *, page: int = 1, per_page: int = 25, status: str = "open") -> QueuePage:
    """Page `page` (from 1) of `queue`, in the same order and with the same audit."""
    total = open_count(status)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = queue(viewer, status, limit=per_page, offset=(page - 1) * per_page)
    return QueuePage(items=items, names=patient_names(a.patient_id for a in items), total=total, page=page,
                     per_page=per_page)


def next_in_queue(viewer: User, after: Assessment | None = None) -> int | None:
    """The id of the screening after `after` in the physician's queue order (urgent first, then
    oldest); from the start of the queue when `after` is not open (just decided) or is the last one."""
    rank = case((Assessment.urgent.is_(True), 0), else_=1)
    base = select(Assessment.id).where(Assessment.review_status.in_(OPEN_REVIEW))
    order = (rank, Assessment.submitted_at, Assessment.id)
    if after is not None:
        base = base.where(Assessment.id != after.id)
        if after.is_open_for_review:
            mine = 0 if after.urgent else 1
            later = db.session.scalar(base.where(or_(
                rank > mine,
                and_(rank == mine, or_(Assessment.submitted_at > after.submitted_at,
                                       and_(Assessment.submitted_at == after.submitted_at,
                                            Assessment.id > after.id))))).order_by(*order).limit(1))
            if later is not None:
                return later
    return db.session.scalar(base.order_by(*order).limit(1))


@dataclass(frozen=True)
class ReviewFile:
    """One screening as its reviewer reads it: the patient's name, their earlier screenings (newest
    first, with their decisions), everyone named in the decisions, and the next screening to open."""

    assessment: Assessment
    patient_name: str | None
    earlier: list[Assessment]
    names: dict[int, str]
    next_id: int | None


def review_file(physician: User, assessment_id: int) -> ReviewFile:
    """Open a screening for review: an audited read (the screening, and the patient's earlier
    screenings when there are any). Who may read it is `authorize_assessment`'s rule."""
    assessment = assessments.get_assessment(physician, assessment_id)  # authorizes and audits the read
    earlier: list[Assessment] = []
    if assessment.patient_id is not None:
        earlier = list(db.session.scalars(
            select(Assessment).where(Assessment.patient_id == assessment.patient_id,
                                     Assessment.status == AssessmentStatus.SUBMITTED,
                                     Assessment.id != assessment.id,
                                     Assessment.submitted_at <= assessment.submitted_at)
            .order_by(Assessment.submitted_at.desc(), Assessment.id.desc())
            .options(selectinload(Assessment.decisions))))
        if earlier:
            audit.record(physician, "read", "assessment_history", assessment.id, patient_id=assessment.patient_id)
            db.session.commit()
    actors = [d.actor_id for a in (assessment, *earlier) for d in a.decisions]
    names = _display_names(actors)
    patient_name = patient_names([assessment.patient_id]).get(assessment.patient_id)
    return ReviewFile(assessment=assessment, patient_name=patient_name, earlier=earlier, names=names,
                      next_id=next_in_queue(physician, assessment))


def still_open(assessment_id: int) -> bool:
    """Whether a screening still waits for a decision (no clinical content: the conflict page's
    "read it again" link shows only when it does)."""
    status = db.session.scalar(select(Assessment.review_status).where(Assessment.id == assessment_id))
    return status in OPEN_REVIEW
