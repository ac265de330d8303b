"""The physicians' review pages: the review queue (urgent first, then oldest, with a live SLA
countdown) and one screening to decide on (answers by section, scores with their bands, every
eligibility reason, the patient's earlier screenings) with approve, decline with a reason, or ask
the patient a question.

Each view calls the services the API calls: `reviews.queue` (GET /api/v1/reviews, a page at a time
through `reviews.queue_page`), `assessments.get_assessment` (GET /api/v1/assessments/<id>, the
audited read, through `reviews.review_file`) and `reviews.decide` with the API's own `DecisionIn`
(POST /api/v1/reviews/<id>/decision), so the refusals are the API's words. The form also sends how
many decisions the physician saw, so a decision someone else took meanwhile is refused in words
rather than overridden.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from telehealth.clock import now
from telehealth.errors import Conflict, ServiceError
from telehealth.models.accounts.accounts import Role
from telehealth.models.screening.assessments import Decision
from telehealth.pages import done, form_body, page, refusal
from telehealth.routes.screening import review_display as show
from telehealth.schemas.screening.assessments import DecisionIn
from telehealth.services.screening import reviews

bp = Blueprint("review_pages", __name__)
PHYSICIAN = (Role.PHYSICIAN,)
PER_PAGE = 25

_DONE = {
    Decision.APPROVE: "Approved for consult: {name} can now book a consultation.",
    Decision.DECLINE: "Declined: {name} will read your reason when they sign in.",
    Decision.REQUEST_INFO: "Question sent: {name} is told to sign in and answer it.",
}


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


@bp.get("/reviews")
@page(roles=PHYSICIAN)
def queue():
    result = reviews.queue_page(current_user, page=_page_number(), per_page=PER_PAGE)
    at = now()
    rows = [{"a": a, "name": result.names.get(a.patient_id), "left": show.time_left(a, at),
             "status": show.STATUS_WORDS.get(a.review_status.value, a.review_status.value),
             "outcome": show.OUTCOME_WORDS.get(a.outcome, a.outcome), "scores": show.short_scores(a)}
            for a in result.items]
    return render_template("screening/review_queue.html", result=result, rows=rows)


def _render_review(assessment_id: int, *, errors=None, failed: str | None = None, values=None, status: int = 200):
    file = reviews.review_file(current_user, assessment_id)
    a = file.assessment
    return render_template(
        "screening/review.html", file=file, a=a, sections=show.answer_sections(a), scores=show.scores(a),
        left=show.time_left(a, now()), show=show, errors=errors, failed=failed, values=values or {},
        status_words=show.STATUS_WORDS.get(a.review_status.value, a.review_status.value),
        outcome_words=show.OUTCOME_WORDS.get(a.outcome, a.outcome)), status


@bp.get("/reviews/<int:assessment_id>")
@page(roles=PHYSICIAN)
def review(assessment_id: int):
    return _render_review(assessment_id)


def _seen() -> int | None:
    raw = request.form.get("seen_decisions", "")
    return int(raw) if raw.isdigit() and len(raw) < 6 else None


@bp.post("/reviews/<int:assessment_id>/decision")
@page(roles=PHYSICIAN)
def decide(assessment_id: int):
    chosen = request.form.get("decision", "")
    try:
        body = form_body(DecisionIn)
        decided = reviews.decide(current_user, assessment_id, Decision(body.decision),
                                 message=body.message_to_patient, note=body.note, seen_decisions=_seen())
    except Conflict as exc:
        # Someone else decided (or the patient answered) meanwhile: nothing was recorded. The page
        # says so without reopening the screening (it may no longer be this physician's to read).
        return render_template("screening/review_conflict.html", message=exc.message, assessment_id=assessment_id,
                               still_open=reviews.still_open(assessment_id),
                               next_id=reviews.next_in_queue(current_user)), 409
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _render_review(assessment_id, errors=refusal(exc), failed=chosen, values=request.form, status=422)
    name = reviews.patient_names([decided.patient_id]).get(decided.patient_id, "the person screened")
    message = _DONE[Decision(body.decision)].format(name=name)
    next_id = reviews.next_in_queue(current_user, decided)
    # The form posts to ...#decide (a refusal re-renders the page scrolled to the decision and its
    # message); a redirect would carry that fragment on, so it names the top of the page instead.
    if next_id is None:
        return done(message + " The queue is empty.", "review_pages.queue", _anchor="main")
    return done(message + " Here is the next screening in the queue.", "review_pages.review", assessment_id=next_id,
                _anchor="main")


@bp.get("/reviews/next")
@page(roles=PHYSICIAN)
def next_review():
    """The first screening of the queue (the queue page's "Start reviewing")."""
    next_id = reviews.next_in_queue(current_user)
    if next_id is None:
        return redirect(url_for("review_pages.queue"))
    return redirect(url_for("review_pages.review", assessment_id=next_id))
