"""The screening assessment: drafts saved and resumed by token, submission (validated, scored,
evaluated, queued for clinical review), claiming into a patient's record, and reading it back.

Anyone may take the screening without an account. A submission by a logged-in patient belongs to
them at once; an anonymous one returns a claim token that attaches it to the account made later.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from telehealth import questionnaires
from telehealth.clock import earliest_us_date, now
from telehealth.errors import NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PhysicianLicense, Role, User
from telehealth.models.platform.alerts import ClinicalAlert
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, Measure
from telehealth.policy import current_policy
from telehealth.services.platform import audit
from telehealth.services.screening import crisis, eligibility
from telehealth.services.platform.authz import authorize_assessment
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
        message = "Some answers are missing or invalid."
        if eligibility.crisis_in_partial(clean) or _raw_crisis(answers):
            # Nothing is stored for an invalid submission, but someone in crisis is helped at once,
            # even when the crisis answer itself is the one refused (`"q9": "3"`, `3.5`, `true`).
            message = f"{crisis.HELP_NOW} {message}"
        raise ValidationFailed(message, fields=errors)
    return clean


_CRISIS_ITEMS = (("phq9", "q9"), ("cssrs", "q4"), ("cssrs", "q5"), ("cssrs", "q6"))


def _looks_positive(value) -> bool:
    """Whether a refused answer reads as "yes" or a score above 0 to a person: true, a number
    above 0 in any JSON type, or words like "yes"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("yes", "y", "true"):
            return True
        try:
            return float(word) > 0
        except ValueError:
            return False
    return False


def _raw_crisis(answers) -> bool:
    """Whether the raw (unvalidated) answers hold a crisis answer in any JSON type."""
    if not isinstance(answers, dict):
        return False
    for section, item in _CRISIS_ITEMS:
        raw = answers.get(section)
        if isinstance(raw, dict) and _looks_positive(raw.get(item)):
            return True
    return False


def serviced_states(day: date) -> frozenset[str]:
    """States where at least one active physician holds a license valid on `day`."""
    rows = db.session.scalars(
        select(PhysicianLicense.state).distinct()
        .join(User, User.id == PhysicianLicense.physician_id)
        .where(User.active.is_(True), User.role == Role.PHYSICIAN, PhysicianLicense.expires_on >= day))
    return frozenset(rows)


def _find_by_token(token: str, status: AssessmentStatus) -> Assessment | None:
    """The draft or unclaimed submission a token opens, unless it is past its time to live."""
    found = db.session.scalar(select(Assessment).where(Assessment.token_hash == token_hash(token)))
    if found is None or found.status is not status:
        return None
    if status is AssessmentStatus.DRAFT:
        last, ttl = found.updated_at, current_app.config["ASSESSMENT_DRAFT_TTL_DAYS"]
    else:
        last, ttl = found.submitted_at, current_app.config["ASSESSMENT_CLAIM_TTL_DAYS"]
    return found if now() - last <= timedelta(days=ttl) else None


# ------------------------------------------------------------------ drafts


def save_draft(actor: User | None, qid: str, version: int, answers, token: str | None = None) -> tuple[Assessment, str]:
    """Create or replace a draft's answers; returns the draft and the token that resumes it. Crisis
    answers in a draft take the crisis path at once (one alert per draft): `draft.urgent` is set."""
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
    findings = eligibility.crisis_in_partial(clean)
    if findings and not draft.urgent:
        draft.urgent = True
        db.session.flush()
        crisis.alert_on_call(f"Crisis answers in an unfinished screening ({', '.join(r.rule for r in findings)}); "
                             f"draft {draft.id}.", patient_id=draft.patient_id, assessment_id=draft.id)
    db.session.commit()
    return draft, token


def resume_draft(token: str, *, reader: User | None = None, reading: bool = False) -> Assessment:
    draft = _find_by_token(token, AssessmentStatus.DRAFT)
    if draft is None:
        raise ValidationFailed("This draft link is invalid, expired or was already submitted.",
                               fields={"token": ["Unknown, expired or already used."]}, code="invalid_token")
    if reading and draft.patient_id is not None:
        audit.record(reader, "read", "assessment_draft", draft.id, patient_id=draft.patient_id)
        db.session.commit()
    return draft


def save_section(actor: User | None, token: str | None, section_id: str, section_answers, *,
                 complete: bool) -> tuple[Assessment, str]:
    """One page of the screening wizard: this section's answers put into the draft (a new draft of
    the current questionnaire without `token`), the others kept; returns the draft and its token.

    `complete`: the person moves on, so the section must be answered in full, checked exactly as the
    final submission will check it; nothing is saved when it is not. Without it (going back,
    finishing later) the answers given are checked and kept, as any draft's are."""
    if token:
        draft = resume_draft(token)
        qid, version, answers = draft.questionnaire_id, draft.questionnaire_version, dict(draft.answers or {})
    else:
        qid, version, answers = SCREENING, questionnaires.latest_version(SCREENING), {}
    q = load_questionnaire(qid, version, allowed=(SCREENING,))
    section = q.section(section_id)
    if section is None:
        raise ValidationFailed("Unknown section.", fields={"section": ["Not a section of this questionnaire."]})
    if complete:
        alone = questionnaires.Questionnaire(id=q.id, version=q.version, title=q.title, sections=(section,))
        validated(alone, {section_id: section_answers})
    answers[section_id] = section_answers
    return save_draft(actor, qid, version, answers, token)


def unfinished_sections(draft: Assessment) -> list[str]:
    """Ids of the required sections not yet answered in full, as submission would find them, in
    questionnaire order (the wizard carries on at the first)."""
    q = questionnaires.get_questionnaire(draft.questionnaire_id, draft.questionnaire_version)
    _, errors = questionnaires.validate_answers(q, draft.answers, today=now().date())
    return [s.id for s in q.sections if any(key == f"answers.{s.id}" or key.startswith(f"answers.{s.id}.")
                                            for key in errors)]


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
    facts = eligibility.facts_from_screening(clean, earliest_us_date(), policy)
    result = eligibility.evaluate(facts, policy, serviced_states(moment.date()))
    already_alerted = assessment.urgent  # a draft with crisis answers raised its alert when saved

    assessment.answers = clean
    assessment.state_of_residence = clean["medical"].get("state_of_residence")
    assessment.outcome = result.outcome
    assessment.reasons = [{"rule": r.rule, "outcome": r.outcome, "message": r.message} for r in result.reasons]
    assessment.phq9_total, assessment.phq9_band = facts.phq9.total, facts.phq9.band
    assessment.gad7_total, assessment.gad7_band = facts.gad7.total, facts.gad7.band
    assessment.cssrs_risk = facts.cssrs.risk
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
    if assessment.urgent and not already_alerted:
        rules = ", ".join(r.rule for r in result.reasons if r.outcome == eligibility.Outcome.CRISIS)
        crisis.alert_on_call(f"Crisis screening result ({rules}); assessment {assessment.id}.",
                             patient_id=assessment.patient_id, assessment_id=assessment.id)
    audit.record(actor, "create", "assessment", assessment.id, patient_id=assessment.patient_id)
    db.session.commit()
    return assessment, claim_token


def _record_measures(assessment: Assessment) -> None:
    """The screening's PHQ-9 and GAD-7 start the patient's score history."""
    for instrument in MEASURED_INSTRUMENTS:
        db.session.add(Measure(patient_id=assessment.patient_id, instrument=instrument,
                               questionnaire_version=assessment.questionnaire_version,
                               answers=assessment.answers[instrument],
                               total=getattr(assessment, f"{instrument}_total"),
                               band=getattr(assessment, f"{instrument}_band"),
                               taken_at=assessment.submitted_at, source="screening", assessment_id=assessment.id))


def find_claimable(claim_token: str, *, field: str = "claim_token") -> Assessment:
    assessment = _find_by_token(claim_token, AssessmentStatus.SUBMITTED)
    if assessment is None or assessment.patient_id is not None:
        raise ValidationFailed("This claim token is invalid, expired or was already used.",
                               fields={field: ["Unknown, expired or already used."]}, code="invalid_token")
    return assessment


def claim(patient: User, claim_token: str, *, commit: bool = True, field: str = "claim_token") -> Assessment:
    """Attach an anonymous submission to `patient`'s record (the token works once)."""
    assessment = find_claimable(claim_token, field=field)
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
    rows = list(db.session.scalars(
        select(Assessment).where(Assessment.patient_id == patient.id, Assessment.status == AssessmentStatus.SUBMITTED)
        .order_by(Assessment.submitted_at.desc()).options(selectinload(Assessment.decisions))))
    audit.record(patient, "read", "assessments", patient.id, patient_id=patient.id)
    db.session.commit()
    return rows


def purge_expired_drafts() -> int:
    """Delete anonymous drafts nobody resumed within ASSESSMENT_DRAFT_TTL_DAYS (no PHI kept for ever)."""
    cutoff = now() - timedelta(days=current_app.config["ASSESSMENT_DRAFT_TTL_DAYS"])
    stale = list(db.session.scalars(select(Assessment).where(
        Assessment.status == AssessmentStatus.DRAFT, Assessment.patient_id.is_(None), Assessment.updated_at < cutoff)))
    for draft in stale:
        db.session.delete(draft)
    db.session.commit()
    return len(stale)



def shows_crisis_resources(outcome: str, cssrs_risk: str | None) -> bool:
    """Crisis results, and any thoughts of suicide short of a crisis, show the resources."""
    return outcome == eligibility.Outcome.CRISIS or cssrs_risk in ("low", "moderate")


def next_steps(outcome: str, *, anonymous: bool, cssrs_risk: str | None = None) -> list[str]:
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
    if shows_crisis_resources(outcome, cssrs_risk):
        steps.insert(0, "If thoughts of suicide come back or get stronger, call or text 988 at any time, "
                        "or text HOME to 741741.")
    if anonymous:
        steps.append("Create an account to keep these results and follow the review.")
    return steps
