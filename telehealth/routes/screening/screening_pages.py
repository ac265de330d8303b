"""The screening pages: the free screening wizard (one section a page, save and resume by link,
back without losing answers), its result, the patient's progress chart and the PHQ-9 / GAD-7 retake.

Every page calls the service the API calls: a wizard page saves its section into the screening
draft (`assessments.save_section`, over `save_draft`), the last one submits the draft
(`assessments.submit_draft`, as POST /api/v1/assessments/drafts/submit); progress reads
`measures.history` (GET /api/v1/me/measures) and the retake records `measures.record_retake`
(POST /api/v1/me/measures). Refusals are the services' words.

What the browser keeps, in the signed session cookie (never in a URL):
- `screening_draft`: the draft's token while the wizard is open. The resume link
  (/screening/resume/<token>) carries the token once, by the person's own choice ("Save and finish
  later"); opening it puts the token back in the session and leaves the address at once.
- `screening_claim`: after an anonymous submission, the claim token the sign-up page passes as
  `assessment_claim_token` (PatientSignupIn) to attach this screening to the new account. Sign-in
  clears the session (start_session), so read it before signing the new patient in.
- `screening_result`: the id of the screening a signed-in patient just submitted (its result page).
- `retake_crisis`: the id of a retake whose answers took the crisis path (its help page).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from telehealth import questionnaires
from telehealth.clock import now
from telehealth.crisis_lines import CRISIS_NEXT_STEPS, HELP_NOW, RESOURCES
from telehealth.errors import ServiceError, ValidationFailed
from telehealth.extensions import limiter
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, viewer_zone
from telehealth.policy import current_policy
from telehealth.routes.screening import progress_chart
from telehealth.routes.screening import questionnaire_forms as forms
from telehealth.schemas.screening.assessments import MeasureIn, assessment_result_out
from telehealth.services.screening import assessments, measures, scoring

bp = Blueprint("screening_pages", __name__)

DRAFT, CLAIM, RESULT, RETAKE_CRISIS = "screening_draft", "screening_claim", "screening_result", "retake_crisis"
RETAKE_ORDER = ("phq9", "gad7")

# What each section is called on its page, and why we ask (the questions are the definitions' own).
SECTION_PAGES = {
    "treatment_history": ("Treatments you have tried",
                          "Ketamine treatment is for depression that has not got better with other "
                          "treatments, so we ask which antidepressants you have taken and for how long."),
    "phq9": ("How your mood has been", "These 9 questions (the PHQ-9) are the standard way to measure "
             "depression. There are no right or wrong answers: choose what fits best."),
    "gad7": ("How anxious you have felt", "These 7 questions (the GAD-7) are the standard way to measure "
             "anxiety."),
    "cssrs": ("Thoughts of suicide", "We ask everyone these questions, because your safety comes first. "
              "Answering yes does not stop you from getting care: it helps us support you."),
    "medical": ("Your health", "Ketamine is not safe with some conditions and medicines. These answers help "
                "the physician keep you safe."),
}

OUTCOME_TITLES = {
    "likely_candidate": "You may be a good fit for the program",
    "needs_review": "A physician needs to look at some of your answers",
    "not_eligible": "This treatment is not right for you now",
    "waitlist": "We cannot treat people in your state yet",
    "crisis": "Please reach out for support now",
}
REASON_KINDS = {"crisis": "Your safety", "not_eligible": "Not safe or suitable now",
                "waitlist": "Where you live", "needs_review": "A physician will check"}
INSTRUMENT_NAMES = {"phq9": "Depression (PHQ-9)", "gad7": "Anxiety (GAD-7)"}


def _anonymous_limit() -> str:
    return current_app.config["ASSESSMENT_RATE_LIMIT"]


def _actor():
    return current_user._get_current_object() if current_user.is_authenticated else None


def band_words(band: str | None) -> str:
    return (band or "").replace("_", " ")


def time_left_words(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    if minutes <= 0:
        return "The review is taking longer than it should; our clinical team has been told."
    if minutes < 90:
        return f"About {max(minutes, 1)} minutes left."
    return f"About {round(minutes / 60)} hours left."


# ----------------------------------------------------------------------------- the wizard


def _questionnaire(draft=None) -> questionnaires.Questionnaire:
    if draft is not None:
        return questionnaires.get_questionnaire(draft.questionnaire_id, draft.questionnaire_version)
    return questionnaires.get_questionnaire(assessments.SCREENING,
                                            questionnaires.latest_version(assessments.SCREENING))


def _open_draft(*, reading: bool):
    """The draft this browser is filling in (None before the first save). A token that no longer
    opens one (submitted, expired) is forgotten."""
    token = session.get(DRAFT)
    if not token:
        return None
    try:
        return assessments.resume_draft(token, reader=_actor(), reading=reading)
    except ServiceError:
        session.pop(DRAFT, None)
        return None


def _carry_on_at(q, draft) -> int:
    """The step to carry on at: the first section not answered in full (the last when all are)."""
    if draft is None:
        return 1
    unfinished = assessments.unfinished_sections(draft)
    return next((i for i, s in enumerate(q.sections, 1) if s.id in unfinished), len(q.sections))


def _section_page(section) -> tuple[str, str]:
    return SECTION_PAGES.get(section.id, (section.title, ""))


def _numbers(section) -> dict[str, int]:
    return {question.id: i for i, question in enumerate(section.questions, 1)}


def _render_step(q, number: int, values, *, errors=None, draft=None, extra_rows=0, status=200, others=()):
    section = q.sections[number - 1]
    heading, why = _section_page(section)
    numbers = _numbers(section)
    rows = {question.id: forms.list_rows(question, values, extra_rows)
            for question in section.questions if question.type == "list"}
    lines = forms.summary(section, errors["fields"], numbers) if errors else []
    for sid in others:
        index = next(i for i, s in enumerate(q.sections, 1) if s.id == sid)
        lines.append({"text": f"Step {index} ({_section_page(q.sections[index - 1])[0]}) needs your answers.",
                      "href": url_for("screening_pages.step", number=index)})
    return render_template(
        "screening/step.html", q=q, section=section, number=number, total=len(q.sections), heading=heading,
        why=why, values=values, errors=errors["fields"] if errors else {}, message=errors["message"] if errors else "",
        summary=lines, numbers=numbers, rows=rows, forms=forms, urgent=bool(draft is not None and draft.urgent),
        resources=RESOURCES, help_now=HELP_NOW, last=number == len(q.sections), states=forms.STATES), status


@bp.get("/screening")
@page(public=True)
def start():
    draft = _open_draft(reading=False)
    q = _questionnaire(draft)
    resume_at = None
    if draft is not None:
        resume_at = _carry_on_at(q, draft)
    return render_template("screening/start.html", q=q, draft=draft, resume_at=resume_at,
                           sla_hours=current_policy().review_sla_hours,
                           ttl_days=current_app.config["ASSESSMENT_DRAFT_TTL_DAYS"])


@bp.post("/screening/restart")
@page(public=True)
def restart():
    """Start again: this browser forgets its draft (the saved one expires on its own)."""
    session.pop(DRAFT, None)
    return redirect(url_for("screening_pages.step", number=1))


@bp.route("/screening/step/<int:number>", methods=["GET", "POST"])
@limiter.limit(_anonymous_limit, methods=["POST"])
@page(public=True)
def step(number: int):
    had_token = bool(session.get(DRAFT))
    draft = _open_draft(reading=request.method == "GET")
    if had_token and draft is None:
        flash("That saved screening can no longer be opened: it was sent already or it expired. "
              "You can start again here.", "info")
        return redirect(url_for("screening_pages.start"))
    q = _questionnaire(draft)
    if not 1 <= number <= len(q.sections):
        return redirect(url_for("screening_pages.step", number=1))
    section = q.sections[number - 1]
    if request.method == "GET":
        first_unfinished = _carry_on_at(q, draft)
        if first_unfinished < number:
            return redirect(url_for("screening_pages.step", number=first_unfinished))
        saved = draft.answers.get(section.id) if draft is not None else None
        return _render_step(q, number, forms.values_from_answers(section, saved), draft=draft)

    action = request.form.get("action", "next")
    values = forms.values_from_form(section, request.form)
    if action == "add_row":
        return _render_step(q, number, values, draft=draft, extra_rows=1)
    if action == "back" and draft is None and not forms.has_answers(values):
        return redirect(url_for("screening_pages.start") if number == 1
                        else url_for("screening_pages.step", number=number - 1))
    token = session.get(DRAFT)
    try:
        answers = forms.answers_from_values(section, values)
        draft, token = assessments.save_section(_actor(), token, section.id, answers, complete=action == "next")
    except ServiceError as exc:
        return _render_step(q, number, values, draft=draft, errors=_refusal(exc, section),
                            status=422 if isinstance(exc, ValidationFailed) else exc.status)
    session[DRAFT] = token
    if action == "back":
        return redirect(url_for("screening_pages.start") if number == 1
                        else url_for("screening_pages.step", number=number - 1))
    if action == "save":
        return redirect(url_for("screening_pages.saved"))
    if number < len(q.sections):
        return redirect(url_for("screening_pages.step", number=number + 1))
    try:
        assessment, claim_token = assessments.submit_draft(_actor(), token)
    except ServiceError as exc:
        return _render_step(q, number, values, draft=draft, errors=_refusal(exc, section), status=422,
                            others=forms.other_sections(exc.fields, section))
    session.pop(DRAFT, None)
    session.pop(RESULT, None)
    session.pop(CLAIM, None)
    if claim_token:
        session[CLAIM] = claim_token
    else:
        session[RESULT] = assessment.id
    return redirect(url_for("screening_pages.result"))


def _refusal(exc: ServiceError, section) -> dict:
    return {"message": exc.message, "fields": forms.section_errors(exc.fields, section), "code": exc.code}


@bp.get("/screening/saved")
@page(public=True)
def saved():
    token = session.get(DRAFT)
    draft = _open_draft(reading=False)
    if draft is None:
        return redirect(url_for("screening_pages.start"))
    link = url_for("screening_pages.resume", token=token, _external=True)
    return render_template("screening/saved.html", link=link, draft=draft,
                           ttl_days=current_app.config["ASSESSMENT_DRAFT_TTL_DAYS"], resources=RESOURCES)


@bp.get("/screening/resume/<token>")
@limiter.limit(_anonymous_limit)
@page(public=True)
def resume(token: str):
    """The saved link: the token goes into this browser's session and the address leaves at once."""
    try:
        draft = assessments.resume_draft(token, reader=_actor(), reading=True)
    except ServiceError:
        flash("This link can no longer open a saved screening: it was sent already, or it is more than "
              f"{current_app.config['ASSESSMENT_DRAFT_TTL_DAYS']} days old. You can start again here.", "info")
        return redirect(url_for("screening_pages.start"))
    session[DRAFT] = token
    number = _carry_on_at(_questionnaire(draft), draft)
    flash("Welcome back. Your answers so far are saved; carry on where you left off.", "success")
    return redirect(url_for("screening_pages.step", number=number))


@bp.get("/screening/result")
@page(public=True)
def result():
    claim_token = session.get(CLAIM)
    assessment = None
    if claim_token:
        try:
            assessment = assessments.find_claimable(claim_token)
        except ServiceError:
            session.pop(CLAIM, None)
    elif session.get(RESULT) and current_user.is_authenticated and current_user.role is Role.PATIENT:
        assessment = assessments.get_assessment(current_user, session[RESULT])
    if assessment is None:
        flash("There is no screening result to show in this browser. Take the free screening to get one.", "info")
        return redirect(url_for("screening_pages.start"))
    out = assessment_result_out(assessment)
    is_crisis = out.outcome == "crisis"
    return render_template(
        "screening/result.html", result=out, is_crisis=is_crisis, title=OUTCOME_TITLES.get(out.outcome, "Your result"),
        reason_kinds=REASON_KINDS, band_words=band_words, anonymous=bool(claim_token),
        time_left=time_left_words(out.review.due_at - now()), sla_hours=current_policy().review_sla_hours,
        claim_days=current_app.config["ASSESSMENT_CLAIM_TTL_DAYS"], crisis_steps=CRISIS_NEXT_STEPS)


# ----------------------------------------------------------------------------- progress and retakes


@bp.get("/progress")
@page(roles=(Role.PATIENT,))
def progress():
    rows = measures.history(current_user, current_user.id)
    charts = []
    for instrument, bands, top in (("phq9", scoring.PHQ9_BANDS, 27), ("gad7", scoring.GAD7_BANDS, 21)):
        mine = [m for m in rows if m.instrument == instrument]
        charts.append(progress_chart.build(instrument, INSTRUMENT_NAMES[instrument], mine, bands, top,
                                           viewer_zone()))
    return render_template("screening/progress.html", charts=charts, any_measures=bool(rows),
                           band_words=band_words)


def _retake_section(instrument: str):
    q = questionnaires.get_questionnaire(instrument, questionnaires.latest_version(instrument))
    return q, q.sections[0]


@bp.route("/measures/retake", methods=["GET", "POST"])
@page(roles=(Role.PATIENT,))
def retake():
    instrument = request.values.get("instrument", RETAKE_ORDER[0])
    if instrument not in RETAKE_ORDER:
        instrument = RETAKE_ORDER[0]
    q, section = _retake_section(instrument)
    if request.method == "GET":
        return _render_retake(q, section, {})
    values = forms.values_from_form(section, request.form)
    try:
        answers = forms.answers_from_values(section, values)
        body = form_body(MeasureIn, extra={"answers": {section.id: answers}})
        measure, is_crisis = measures.record_retake(current_user, body.instrument, body.version, body.answers)
    except ServiceError as exc:
        return _render_retake(q, section, values, errors=_refusal(exc, section),
                              status=422 if isinstance(exc, ValidationFailed) else exc.status)
    session.pop(RETAKE_CRISIS, None)
    if is_crisis:
        session[RETAKE_CRISIS] = measure.id
        return redirect(url_for("screening_pages.retake_support"))
    position = RETAKE_ORDER.index(instrument)
    if position + 1 < len(RETAKE_ORDER):
        return done("Thank you: your answers about your mood are saved. One more short set to go.",
                    "screening_pages.retake", instrument=RETAKE_ORDER[position + 1])
    return done("Thank you: your answers are saved. Your physician will see them before your visit.",
                "screening_pages.progress")


def _render_retake(q, section, values, *, errors=None, status=200):
    position = RETAKE_ORDER.index(section.id)
    numbers = _numbers(section)
    return render_template(
        "screening/retake.html", q=q, section=section, values=values, forms=forms, numbers=numbers,
        errors=errors["fields"] if errors else {}, message=errors["message"] if errors else "",
        summary=forms.summary(section, errors["fields"], numbers) if errors else [],
        position=position + 1, total=len(RETAKE_ORDER), name=INSTRUMENT_NAMES[section.id],
        resources=RESOURCES, help_now=HELP_NOW), status


@bp.get("/measures/retake/support")
@page(roles=(Role.PATIENT,))
def retake_support():
    """After a retake whose answers took the crisis path: help first, and nothing else to do."""
    if not session.get(RETAKE_CRISIS):
        return redirect(url_for("screening_pages.progress"))
    return render_template("screening/retake_support.html", resources=RESOURCES, steps=CRISIS_NEXT_STEPS,
                           next_instrument="gad7")
