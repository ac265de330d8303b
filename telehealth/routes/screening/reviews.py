"""The clinical review queue, decisions, SLA figures, clinical alerts, and who is on call now."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.clock import now
from telehealth.models.accounts.accounts import Role
from telehealth.models.screening.assessments import Decision
from telehealth.schemas.screening.assessments import (
    AlertListOut, AlertOut, AlertQuery, AssessmentOut, DecisionIn, ReviewQueueOut, ReviewQueueQuery, SlaOut, SlaQuery,
    alert_out, assessment_out, review_item_out,
)
from telehealth.schemas.platform.on_call import OnCallNowOut, shift_out
from telehealth.services.platform import alerts, on_call
from telehealth.services.screening import reviews

bp = Blueprint("reviews", __name__, url_prefix="/api/v1")
PHYSICIAN = (Role.PHYSICIAN,)


@bp.get("/reviews")
@endpoint("Screenings waiting for clinical review: urgent first, then oldest, with SLA time left",
          tags=["reviews"], auth=(Role.PHYSICIAN, Role.OPS, Role.ADMIN), query=ReviewQueueQuery,
          response=ReviewQueueOut)
def review_queue(query: ReviewQueueQuery):
    """Ops and admin watch the SLA here (oldest first) and see no clinical content (urgency, outcome,
    reasons, scores)."""
    items = reviews.queue(current_user, query.status, query.limit)
    at, clinical = now(), current_user.role is Role.PHYSICIAN
    return ReviewQueueOut(items=[review_item_out(a, at, clinical=clinical) for a in items])


@bp.post("/reviews/<int:assessment_id>/decision")
@endpoint("Approve for consult, decline with a reason, or ask the patient for more information",
          tags=["reviews"], auth=PHYSICIAN, body=DecisionIn, response=AssessmentOut, errors=(409,))
def decide(assessment_id: int, body: DecisionIn):
    assessment = reviews.decide(current_user, assessment_id, Decision(body.decision),
                                message=body.message_to_patient, note=body.note)
    return assessment_out(assessment, for_physician=True)


@bp.get("/reviews/sla")
@endpoint("Review SLA figures for screenings submitted in a window (default: the last 30 days)",
          tags=["reviews"], auth=(Role.OPS, Role.ADMIN), query=SlaQuery, response=SlaOut)
def sla(query: SlaQuery):
    return SlaOut(**reviews.sla_figures(query.since, query.until))


@bp.get("/alerts")
@endpoint("Clinical alerts of your care-team patients (and every urgent one while you are on call), "
          "newest first, paged with before_id; status: open (default), acknowledged or all", tags=["alerts"],
          auth=PHYSICIAN, query=AlertQuery, response=AlertListOut)
def open_alerts(query: AlertQuery):
    items = alerts.open_alerts(current_user, before_id=query.before_id, limit=query.limit, status=query.status)
    return AlertListOut(items=[alert_out(a) for a in items],
                        next_before_id=items[-1].id if len(items) == query.limit else None)


@bp.post("/alerts/<int:alert_id>/acknowledge")
@endpoint("Acknowledge a clinical alert you can see (records who and when; it stops the re-paging)",
          tags=["alerts"], auth=PHYSICIAN, response=AlertOut, errors=(409,))
def acknowledge(alert_id: int):
    return alert_out(alerts.acknowledge(current_user, alert_id))


@bp.get("/ops/alerts")
@endpoint("Open operational alerts (shipment SLA breaches), newest first", tags=["alerts"],
          auth=(Role.OPS, Role.ADMIN), query=AlertQuery, response=AlertListOut)
def ops_alerts(query: AlertQuery):
    items = alerts.open_alerts(current_user, before_id=query.before_id, limit=query.limit, status=query.status)
    return AlertListOut(items=[alert_out(a) for a in items],
                        next_before_id=items[-1].id if len(items) == query.limit else None)


@bp.post("/ops/alerts/<int:alert_id>/acknowledge")
@endpoint("Acknowledge an operational alert", tags=["alerts"], auth=(Role.OPS, Role.ADMIN), response=AlertOut,
          errors=(409,))
def acknowledge_ops_alert(alert_id: int):
    return alert_out(alerts.acknowledge(current_user, alert_id))


@bp.get("/on-call/now")
@endpoint("Who is on call now (the rota's shift and phone) and who is next", tags=["alerts"],
          auth=(Role.PHYSICIAN, Role.COACH, Role.OPS, Role.ADMIN), response=OnCallNowOut)
def on_call_now():
    shifts, upcoming = on_call.who_is_on_call()
    return OnCallNowOut(on_call=[shift_out(s) for s in shifts], next=shift_out(upcoming) if upcoming else None)
