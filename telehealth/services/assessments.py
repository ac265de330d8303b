"""The screening assessment: drafts saved and resumed by token, submission (validated, scored,
evaluated, queued for clinical review), claiming into a patient's record, and reading it back.

Anyone may take the screening without an account. A submission by a logged-in patient belongs to
them at once; an anonymous one returns a claim token that attaches it to the account made later.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from telehealth import questionnaires
from telehealth.clock import now
from telehealth.errors import NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts import PhysicianLicense, Role, User
from telehealth.models.alerts import ClinicalAlert
from telehealth.models.assessments import Assessment, AssessmentStatus, Measure
from telehealth.policy import current_policy
from telehealth.services import audit, crisis, eligibility, scoring
from telehealth.services.authz import authorize_assessment
from telehealth.tokens import new_token, token_hash

SCREENING = "screening"
MEASURED_INSTRUMENTS = ("phq9", "gad7")


def load_questionnaire(qid: str, version: int, *, allowed: tuple[str, ...]) -> questionnaires.Questionnaire:
    if qid not in allowed:
        raise ValidationFailed("Unknown questionnaire.", fields={"questionnaire": [f"Use one of: {', '.join(allowed)}."]})
    try:
        return questionnaires.get_questionnaire(qid, version)
    except KeyError:
        latest = questionnaires.latest_version(qid)
        raise ValidationFailed("This version of the questionnaire does not exist.",
                               fields={"version": [f"The current version is {latest}."]}) from None


def validated(q: questionnaires.Questionnaire, answers, *, partial: bool = False) -> dict:
    clean, errors = questionnaires.validate_answers(q, answers, today=now().date(), partial=partial)
    if errors:
        raise ValidationFailed("Some answers are missing or invalid.", fields=errors)
    return clean


def serviced_states(day: date) -> frozenset[str]:
    """States where at least one active physician holds a license valid on `day`."""
    rows = db.session.scalars(
        select(PhysicianLicense.state).distinct()
        .join(User, User.id == PhysicianLicense.physician_id)
        .where(User.active.is_(True), User.role == Role.PHYSICIAN, PhysicianLicense.expires_on >= day))
    return frozenset(rows)


def _find_by_token(token: str, status: AssessmentStatus) -> Assessment | None:
    found = db.session.scalar(select(Assessment).where(Assessment.token_hash == token_hash(token)))
    return found if found is not None and found.status is status else None


# ------------------------------------------------------------------ drafts


def save_draft(actor: User | None, qid: str, version: int, answers, token: str | None = None) -> tuple[Assessment, str]:
    """Create or replace a draft's answers; returns the draft and the token that resumes it."""
    q = load_questionnaire(qid, version, allowed=(SCREENING,))
    clean = validated(q, answers, partial=True)
    if token:
        draft = resume_draft(token)
        if (draft.questionnaire_id, draft.questionnaire_version) != (qid, version):
            raise ValidationFailed("This draft answers another questionnaire version.",
                                   fields={"version": [f"This draft is version {draft.questionnaire_version}."]})
    else:
        token, hashed = new_token()
        draft = Assessment(questionnaire_id=qid, questionnaire_version=version, status=AssessmentStatus.DRAFT,
                           token_hash=hashed, patient_id=_patient_id(actor))
        db.session.add(draft)
    draft.answers = clean
    draft.updated_at = now()
    db.session.commit()
    return draft, token


def resume_draft(token: str) -> Assessment:
    draft = _find_by_token(token, AssessmentStatus.DRAFT)
    if draft is None:
        raise ValidationFailed("This draft link is invalid or was already submitted.",
                               fields={"token": ["Unknown or already used."]}, code="invalid_token")
    return draft


def missing_sections(draft: Assessment) -> list[str]:
    q = questionnaires.get_questionnaire(draft.questionnaire_id, draft.questionnaire_version)
    return questionnaires.missing_sections(q, draft.answers)


# ------------------------------------------------------------------ submission


def submit(actor: User | None, qid: str, version: int, answers) -> tuple[Assessment, str | None]:
    """Validate, score and evaluate a complete screening; returns it and, when anonymous, a claim token."""
    q = load_questionnaire(qid, version, allowed=(SCREENING,))
    assessment = Assessment(questionnaire_id=qid, questionnaire_version=version, status=AssessmentStatus.DRAFT,
                            patient_id=_patient_id(actor))
    return _submit(actor, assessment, validated(q, answers))


def submit_draft(actor: User | None, token: str, answers=None) -> tuple[Assessment, str | None]:
    draft = resume_draft(token)
    q = questionnaires.get_questionnaire(draft.questionnaire_id, draft.questionnaire_version)
    clean = validated(q, draft.answers if answers is None else answers)
    if draft.patient_id is None and actor is not None and actor.role is Role.PATIENT:
        draft.patient_id = actor.id
    return _submit(actor, draft, clean)


def _patient_id(actor: User | None) -> int | None:
    return actor.id if actor is not None and actor.role is Role.PATIENT else None


def _submit(actor: User | None, assessment: Assessment, clean: dict) -> tuple[Assessment, str | None]:
    policy = current_policy()
    moment = now()
    scores = scoring.score_screening(clean)
    facts = eligibility.facts_from_screening(clean, moment.date(), policy)
    result = eligibility.evaluate(facts, policy, serviced_states(moment.date()))

    assessment.answers = clean
    assessment.state_of_residence = clean["medical"].get("state_of_residence")
    assessment.outcome = result.outcome
    assessment.reasons = [{"rule": r.rule, "outcome": r.outcome, "message": r.message} for r in result.reasons]
    assessment.phq9_total, assessment.phq9_band = scores["phq9"].total, scores["phq9"].band
    assessment.gad7_total, assessment.gad7_band = scores["gad7"].total, scores["gad7"].band
    assessment.cssrs_risk = scores["cssrs"].risk
    assessment.urgent = result.outcome == eligibility.Outcome.CRISIS
    assessment.submit(moment, timedelta(hours=policy.review_sla_hours))

    claim_token = None
    if assessment.patient_id is None:
        claim_token, assessment.token_hash = new_token()
    else:
        assessment.token_hash = None
        assessment.claimed_at = moment
    db.session.add(assessment)
    db.session.flush()
    if assessment.patient_id is not None:
        _record_measures(assessment)
    if assessment.urgent:
        rules = ", ".join(r.rule for r in result.reasons if r.outcome == eligibility.Outcome.CRISIS)
        crisis.alert_on_call(f"Crisis screening result ({rules}); assessment {assessment.id}.",
                             patient_id=assessment.patient_id, assessment_id=assessment.id)
    audit.record(actor, "create", "assessment", assessment.id, patient_id=assessment.patient_id)
    db.session.commit()
    return assessment, claim_token


def _record_measures(assessment: Assessment) -> None:
    """The screening's PHQ-9 and GAD-7 start the patient's score history."""
    for instrument in MEASURED_INSTRUMENTS:
        score = getattr(scoring, instrument)(assessment.answers[instrument])
        db.session.add(Measure(patient_id=assessment.patient_id, instrument=instrument,
                               questionnaire_version=assessment.questionnaire_version,
                               answers=assessment.answers[instrument], total=score.total, band=score.band,
                               taken_at=assessment.submitted_at, source="screening", assessment_id=assessment.id))


def find_claimable(claim_token: str) -> Assessment:
    assessment = _find_by_token(claim_token, AssessmentStatus.SUBMITTED)
    if assessment is None or assessment.patient_id is not None:
        raise ValidationFailed("This claim link is invalid or was already used.",
                               fields={"claim_token": ["Unknown or already used."]}, code="invalid_token")
    return assessment


def claim(patient: User, claim_token: str, *, commit: bool = True) -> Assessment:
    """Attach an anonymous submission to `patient`'s record (the token works once)."""
    assessment = find_claimable(claim_token)
    assessment.claim(patient.id, now())
    _record_measures(assessment)
    for alert in _alerts_of(assessment):
        alert.patient_id = patient.id
    audit.record(patient, "update", "assessment", assessment.id, patient_id=patient.id, fields=["patient_id"])
    if commit:
        db.session.commit()
    return assessment


def _alerts_of(assessment: Assessment):
    return db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.assessment_id == assessment.id))


# ------------------------------------------------------------------ reading


def get_assessment(actor: User, assessment_id: int) -> Assessment:
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None or assessment.status is not AssessmentStatus.SUBMITTED:
        raise NotFound("No such assessment.")
    authorize_assessment(actor, assessment)
    audit.record(actor, "read", "assessment", assessment.id, patient_id=assessment.patient_id)
    db.session.commit()
    return assessment


def list_for_patient(patient: User) -> list[Assessment]:
    return list(db.session.scalars(
        select(Assessment).where(Assessment.patient_id == patient.id, Assessment.status == AssessmentStatus.SUBMITTED)
        .order_by(Assessment.submitted_at.desc())))



def next_steps(outcome: str, *, anonymous: bool) -> list[str]:
    """What the person should do now, in plain words. A crisis result gets safety steps only."""
    if outcome == eligibility.Outcome.CRISIS:
        return list(crisis.CRISIS_NEXT_STEPS)
    hours = current_policy().review_sla_hours
    review = f"A physician on our clinical team will review your answers within {hours} hours."
    steps = {
        eligibility.Outcome.LIKELY_CANDIDATE: [review],
        eligibility.Outcome.NEEDS_REVIEW: [review + " They may ask you a few questions first."],
        eligibility.Outcome.NOT_ELIGIBLE: [
            "Based on your answers, at-home ketamine treatment is not safe or suitable for you right now.",
            review, "Please talk with your own doctor or mental-health provider about other options."],
        eligibility.Outcome.WAITLIST: [
            "We do not yet have a physician licensed in your state, so we cannot treat you yet.", review],
    }[eligibility.Outcome(outcome)]
    if anonymous:
        steps.append("Create an account with your claim token to keep these results and see the review.")
    return steps
