"""Questionnaires, the screening assessment (anonymous or logged in), drafts and claiming."""
from flask import Blueprint, current_app
from flask_login import current_user

from telehealth import questionnaires
from telehealth.api import PUBLIC, endpoint
from telehealth.errors import NotFound
from telehealth.extensions import limiter
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.screening.assessments import (
    AssessmentListOut, AssessmentOut, AssessmentResultOut, AssessmentSubmitIn, ClaimIn, DraftOut, DraftSaveIn,
    DraftSubmitIn, DraftTokenIn, QuestionnaireOut, ReplyIn, assessment_out, assessment_result_out, crisis_payload,
)
from telehealth.services.screening import assessments, reviews

bp = Blueprint("assessments", __name__, url_prefix="/api/v1")
PATIENT = (Role.PATIENT,)


def _anonymous_limit() -> str:
    return current_app.config["ASSESSMENT_RATE_LIMIT"]


def _actor():
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.get("/questionnaires/<qid>")
@endpoint("The current version of a questionnaire", tags=["assessments"], auth=PUBLIC, response=QuestionnaireOut)
def latest_questionnaire(qid: str):
    try:
        return questionnaire_version(qid, questionnaires.latest_version(qid))
    except KeyError:
        raise NotFound("No such questionnaire.") from None


@bp.get("/questionnaires/<qid>/<int:version>")
@endpoint("One version of a questionnaire", tags=["assessments"], auth=PUBLIC, response=QuestionnaireOut)
def questionnaire_version(qid: str, version: int):
    try:
        q = questionnaires.get_questionnaire(qid, version)
    except KeyError:
        raise NotFound("No such questionnaire version.") from None
    return QuestionnaireOut(id=q.id, version=q.version, definition=questionnaires.public_definition(q))


@bp.post("/assessments")
@limiter.limit(_anonymous_limit)
@endpoint("Submit a complete screening, with or without an account", tags=["assessments"], auth=PUBLIC,
          body=AssessmentSubmitIn, response=AssessmentResultOut, status=201, errors=(429,))
def submit(body: AssessmentSubmitIn):
    """Returns the outcome at once. A crisis outcome carries crisis resources and nothing else to do.
    Without an account the response holds a claim token for the account made later."""
    assessment, claim_token = assessments.submit(_actor(), body.questionnaire, body.version, body.answers)
    return assessment_result_out(assessment, claim_token=claim_token)


@bp.post("/assessments/drafts")
@limiter.limit(_anonymous_limit)
@endpoint("Save screening progress (new draft, or replace a draft's answers by its token)",
          tags=["assessments"], auth=PUBLIC, body=DraftSaveIn, response=DraftOut, errors=(429,))
def save_draft(body: DraftSaveIn):
    draft, token = assessments.save_draft(_actor(), body.questionnaire, body.version, body.answers, body.token)
    return _draft_out(draft, token)


@bp.post("/assessments/drafts/resume")
@limiter.limit(_anonymous_limit)
@endpoint("Resume a draft by its token", tags=["assessments"], auth=PUBLIC, body=DraftTokenIn, response=DraftOut,
          errors=(429,))
def resume_draft(body: DraftTokenIn):
    return _draft_out(assessments.resume_draft(body.token, reader=_actor(), reading=True), body.token)


@bp.post("/assessments/drafts/submit")
@limiter.limit(_anonymous_limit)
@endpoint("Submit a draft (optionally with its final answers)", tags=["assessments"], auth=PUBLIC,
          body=DraftSubmitIn, response=AssessmentResultOut, status=201, errors=(409, 429))
def submit_draft(body: DraftSubmitIn):
    assessment, claim_token = assessments.submit_draft(_actor(), body.token, body.answers)
    return assessment_result_out(assessment, claim_token=claim_token)


def _draft_out(draft, token: str) -> DraftOut:
    return DraftOut(token=token, questionnaire=draft.questionnaire_id, version=draft.questionnaire_version,
                    saved_at=draft.updated_at, answers=draft.answers, missing_sections=assessments.missing_sections(draft),
                    crisis=draft.urgent, **crisis_payload(draft.urgent))


@bp.post("/assessments/claim")
@endpoint("Attach an anonymous screening to my record", tags=["assessments"], auth=PATIENT, body=ClaimIn,
          response=AssessmentOut)
def claim(body: ClaimIn):
    return assessment_out(assessments.claim(current_user, body.claim_token), for_physician=False)


@bp.get("/assessments/<int:assessment_id>")
@endpoint("One screening with its answers: its patient, or a physician reviewing or treating",
          tags=["assessments"], response=AssessmentOut)
def get_assessment(assessment_id: int):
    assessment = assessments.get_assessment(current_user, assessment_id)
    return assessment_out(assessment, for_physician=current_user.role is Role.PHYSICIAN)


@bp.get("/me/assessments")
@endpoint("My screenings, newest first", tags=["assessments"], auth=PATIENT, response=AssessmentListOut)
def my_assessments():
    return AssessmentListOut(items=[assessment_result_out(a) for a in assessments.list_for_patient(current_user)])


@bp.post("/assessments/<int:assessment_id>/reply")
@endpoint("Answer the reviewing physician's question", tags=["assessments"], auth=PATIENT, body=ReplyIn,
          response=AssessmentOut, errors=(409,))
def reply(assessment_id: int, body: ReplyIn):
    return assessment_out(reviews.patient_reply(current_user, assessment_id, body.message), for_physician=False)
