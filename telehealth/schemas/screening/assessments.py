"""Request and response bodies for questionnaires, assessments, reviews, measures and alerts."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import DbId, Moment, text
from telehealth.services.screening import assessments, crisis

QuestionnaireId = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Token = Annotated[str, StringConstraints(min_length=10, max_length=200)]
Message = text(2000)


# ------------------------------------------------------------------ input


class AssessmentSubmitIn(Schema):
    questionnaire: QuestionnaireId
    version: int = Field(ge=1)
    answers: dict[str, Any]


class DraftSaveIn(Schema):
    """Save progress; without `token` a new draft starts, with it the draft's answers are replaced."""

    questionnaire: QuestionnaireId
    version: int = Field(ge=1)
    answers: dict[str, Any]
    token: Token | None = None


class DraftTokenIn(Schema):
    token: Token


class DraftSubmitIn(Schema):
    token: Token
    answers: dict[str, Any] | None = None


class ClaimIn(Schema):
    claim_token: Token


class DecisionIn(Schema):
    decision: Literal["approve", "decline", "request_info"]
    message_to_patient: Message | None = None
    note: Message | None = None


class ReplyIn(Schema):
    message: Message


class ReviewQueueQuery(Schema):
    status: Literal["open", "pending", "info_requested"] = "open"
    limit: int = Field(default=100, ge=1, le=500)


class SlaQuery(Schema):
    since: Moment | None = None
    until: Moment | None = None


class AlertQuery(Schema):
    before_id: DbId | None = None
    limit: int = Field(default=100, ge=1, le=500)
    status: Literal["open", "acknowledged", "all"] = "open"


class MeasureIn(Schema):
    instrument: Literal["phq9", "gad7"]
    version: int = Field(ge=1)
    answers: dict[str, Any]


class MeasureQuery(Schema):
    instrument: Literal["phq9", "gad7"] | None = None


# ------------------------------------------------------------------ output


class ReasonOut(Schema):
    rule: str
    outcome: str
    message: str


class ScaleScoreOut(Schema):
    total: int
    band: str


class ScoresOut(Schema):
    phq9: ScaleScoreOut
    gad7: ScaleScoreOut
    cssrs_risk: str


class CrisisResourceOut(Schema):
    name: str
    how: str
    phone: str
    sms: str


class DecisionOut(Schema):
    decision: str
    at: Timestamp
    message_to_patient: str | None
    private_note: str | None = None  # physicians only


class ReviewOut(Schema):
    status: str
    urgent: bool
    due_at: Timestamp
    decisions: list[DecisionOut]


class AssessmentResultOut(Schema):
    """The immediate result of a submission."""

    id: int
    questionnaire: str
    version: int
    submitted_at: Timestamp
    outcome: str
    reasons: list[ReasonOut]
    scores: ScoresOut
    review: ReviewOut
    crisis_resources: list[CrisisResourceOut]
    next_steps: list[str]
    claim_token: str | None


class AssessmentOut(AssessmentResultOut):
    patient_id: int | None
    answers: dict[str, Any]


class AssessmentListOut(Schema):
    items: list[AssessmentResultOut]


class DraftOut(Schema):
    token: str
    questionnaire: str
    version: int
    saved_at: Timestamp
    answers: dict[str, Any]
    missing_sections: list[str]
    crisis: bool
    crisis_resources: list[CrisisResourceOut]
    next_steps: list[str]


class ReviewItemOut(Schema):
    """A queue item. Urgency, outcome, reasons and scores are clinical: physicians only (null for
    ops/admin, who see the order and the SLA)."""

    assessment_id: int
    review_status: str
    urgent: bool | None = None
    state_of_residence: str | None
    patient_id: int | None
    submitted_at: Timestamp
    due_at: Timestamp
    seconds_left: int
    overdue: bool
    outcome: str | None = None
    reasons: list[ReasonOut] | None = None
    scores: ScoresOut | None = None


class ReviewQueueOut(Schema):
    items: list[ReviewItemOut]


class SlaOut(Schema):
    since: Timestamp
    until: Timestamp
    submitted: int
    reviewed: int
    reviewed_within_sla: int
    share_reviewed_within_sla: float | None
    median_hours_to_review: float | None
    open: int
    open_overdue: int


class MeasureOut(Schema):
    id: int
    instrument: str
    total: int
    band: str
    taken_at: Timestamp
    source: str


class MeasureResultOut(Schema):
    measure: MeasureOut
    crisis: bool
    crisis_resources: list[CrisisResourceOut]
    next_steps: list[str]


class MeasureHistoryOut(Schema):
    items: list[MeasureOut]


class AlertOut(Schema):
    id: int
    kind: str
    urgency: str
    status: str
    patient_id: int | None
    assessment_id: int | None
    measure_id: int | None
    shipment_id: int | None
    summary: str
    created_at: Timestamp
    acknowledged_at: Timestamp | None
    acknowledged_by: int | None
    page_rounds: int = Field(description="How many rounds of paging went out (each one rung up the ladder).")
    last_paged_at: Timestamp | None


class AlertListOut(Schema):
    items: list[AlertOut]
    next_before_id: int | None


class QuestionnaireOut(Schema):
    id: str
    version: int
    definition: dict[str, Any]


# ------------------------------------------------------------------ presenters


def _scores(a) -> ScoresOut:
    return ScoresOut(phq9=ScaleScoreOut(total=a.phq9_total, band=a.phq9_band),
                     gad7=ScaleScoreOut(total=a.gad7_total, band=a.gad7_band), cssrs_risk=a.cssrs_risk)


def _review(a, *, for_physician: bool) -> ReviewOut:
    return ReviewOut(status=a.review_status.value, urgent=a.urgent, due_at=a.review_due_at, decisions=[
        DecisionOut(decision=d.decision.value, at=d.at, message_to_patient=d.message_to_patient,
                    private_note=d.private_note if for_physician else None) for d in a.decisions])


def crisis_payload(is_crisis: bool) -> dict:
    """The resources and safety steps of a crisis, or nothing."""
    if not is_crisis:
        return {"crisis_resources": [], "next_steps": []}
    return {"crisis_resources": [CrisisResourceOut(**r) for r in crisis.RESOURCES],
            "next_steps": list(crisis.CRISIS_NEXT_STEPS)}


def assessment_result_out(a, *, claim_token: str | None = None, for_physician: bool = False) -> AssessmentResultOut:
    is_crisis = a.outcome == "crisis"
    reasons = [ReasonOut(**r) for r in a.reasons]
    if is_crisis and not for_physician:
        # The person in crisis reads about their safety only; physicians see every finding.
        reasons = [r for r in reasons if r.outcome == "crisis"]
    show = assessments.shows_crisis_resources(a.outcome, a.cssrs_risk)
    return AssessmentResultOut(
        id=a.id, questionnaire=a.questionnaire_id, version=a.questionnaire_version, submitted_at=a.submitted_at,
        outcome=a.outcome, reasons=reasons, scores=_scores(a), review=_review(a, for_physician=for_physician),
        crisis_resources=crisis_payload(show)["crisis_resources"],
        next_steps=assessments.next_steps(a.outcome, anonymous=a.patient_id is None, cssrs_risk=a.cssrs_risk),
        claim_token=claim_token)


def assessment_out(a, *, for_physician: bool) -> AssessmentOut:
    base = assessment_result_out(a, for_physician=for_physician)
    return AssessmentOut(**dict(base), patient_id=a.patient_id, answers=a.answers)


def review_item_out(a, at: datetime, *, clinical: bool) -> ReviewItemOut:
    left = a.time_left(at)
    details = dict(urgent=a.urgent, outcome=a.outcome, reasons=[ReasonOut(**r) for r in a.reasons],
                   scores=_scores(a)) if clinical else {}
    return ReviewItemOut(
        assessment_id=a.id, review_status=a.review_status.value,
        state_of_residence=a.state_of_residence, patient_id=a.patient_id, submitted_at=a.submitted_at,
        due_at=a.review_due_at, seconds_left=int(left.total_seconds()), overdue=left.total_seconds() < 0, **details)


def measure_out(m) -> MeasureOut:
    return MeasureOut(id=m.id, instrument=m.instrument, total=m.total, band=m.band, taken_at=m.taken_at,
                      source=m.source)


def alert_out(a) -> AlertOut:
    return AlertOut(id=a.id, kind=a.kind, urgency=a.urgency, status=a.status.value, patient_id=a.patient_id,
                    assessment_id=a.assessment_id, measure_id=a.measure_id, shipment_id=a.shipment_id, summary=a.summary,
                    created_at=a.created_at, acknowledged_at=a.acknowledged_at, acknowledged_by=a.acknowledged_by,
                    page_rounds=a.page_rounds or 0, last_paged_at=a.last_paged_at)
