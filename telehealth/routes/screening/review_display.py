"""How the review pages put a screening into words: the answers by the questionnaire's own sections
and question wording, the scores with their bands and the bands' ranges, the outcome, the review's
state, the SLA time left. Presentation only: every rule (scores, bands, eligibility, who may read)
was applied by the services; this reads their results and the questionnaire definition.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from telehealth import questionnaires
from telehealth.pages import sla_words
from telehealth.routes.screening.questionnaire_forms import STATES
from telehealth.services.screening import scoring

OUTCOME_WORDS = {
    "crisis": "Crisis: safety first",
    "not_eligible": "Not eligible",
    "waitlist": "Waitlist: no physician licensed in the patient's state",
    "needs_review": "Needs a physician's judgement",
    "likely_candidate": "Likely candidate",
}
REASON_KIND_WORDS = {"crisis": "Crisis", "not_eligible": "Hard stop", "waitlist": "Service area",
                     "needs_review": "Needs review"}
STATUS_WORDS = {
    "pending": "Waiting for review",
    "info_requested": "Waiting for the patient's answer",
    "approved": "Approved for consult",
    "declined": "Declined",
}
DECISION_WORDS = {
    "approve": "Approved for consult",
    "decline": "Declined",
    "request_info": "Asked the patient a question",
    "patient_reply": "The patient answered",
}
CSSRS_WORDS = {"none": "No risk reported", "low": "Low risk", "moderate": "Moderate risk", "high": "High risk"}
_STATE_NAMES = dict(STATES)
_BANDS = {"phq9": (scoring.PHQ9_BANDS, 27), "gad7": (scoring.GAD7_BANDS, 21)}


def band_words(instrument: str, band: str | None) -> str:
    """ "moderately severe (15-19)": the band with its published range."""
    if not band:
        return ""
    bands, top = _BANDS[instrument]
    lows = [(low, name) for low, name in sorted(bands)]
    for i, (low, name) in enumerate(lows):
        if name == band:
            high = lows[i + 1][0] - 1 if i + 1 < len(lows) else top
            return f"{name.replace('_', ' ')} ({low}–{high})"
    return band.replace("_", " ")


def scores(a) -> list[dict]:
    """The scales the screening computed, each with its total, maximum and band in words."""
    rows = []
    if a.phq9_total is not None:
        rows.append({"name": "PHQ-9 (depression)", "total": a.phq9_total, "max": 27,
                     "band": band_words("phq9", a.phq9_band)})
    if a.gad7_total is not None:
        rows.append({"name": "GAD-7 (anxiety)", "total": a.gad7_total, "max": 21,
                     "band": band_words("gad7", a.gad7_band)})
    if a.cssrs_risk is not None:
        rows.append({"name": "C-SSRS screener (suicide risk)", "total": None, "max": None,
                     "band": CSSRS_WORDS.get(a.cssrs_risk, a.cssrs_risk)})
    return rows


def short_scores(a) -> str:
    parts = []
    if a.phq9_total is not None:
        parts.append(f"PHQ-9 {a.phq9_total}")
    if a.gad7_total is not None:
        parts.append(f"GAD-7 {a.gad7_total}")
    return ", ".join(parts)


def time_left(a, at: datetime) -> dict:
    left = a.time_left(at) or timedelta(0)
    seconds = int(left.total_seconds())
    return {"seconds": seconds, "overdue": seconds < 0, "words": sla_words(seconds), "due_at": a.review_due_at}


# ----------------------------------------------------------------------------- the answers


def _scalar(question, value, *, on: date | None = None) -> str:
    if value is None or value == "":
        return "Not answered"
    kind = question.type
    if kind == "boolean":
        return "Yes" if value is True else "No" if value is False else str(value)
    if kind == "choice":
        label = next((o.label for o in question.options if o.value == value), str(value))
        return label
    if kind == "us_state":
        return f"{_STATE_NAMES.get(value, value)} ({value})"
    if kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        text = f"{day:%b} {day.day}, {day.year}"
        if question.id == "date_of_birth" and on is not None:
            age = on.year - day.year - ((on.month, on.day) < (day.month, day.day))
            text += f" (age {age} when screened)"
        return text
    return str(value)


def _answer(question, value, on: date | None) -> dict:
    row = {"id": question.id, "text": question.text, "type": question.type, "answer": "", "points": None,
           "rows": [], "fields": []}
    if question.type == "multi_choice":
        if value is None:
            row["answer"] = "Not answered"
        else:
            labels = [next((o.label for o in question.options if o.value == v), str(v)) for v in value]
            row["answer"] = "; ".join(labels) if labels else "None of these"
    elif question.type == "blood_pressure":
        row["answer"] = (f"{value.get('systolic', '?')}/{value.get('diastolic', '?')} mmHg"
                         if isinstance(value, dict) and value else "Not given")
    elif question.type == "list":
        row["fields"] = [f.text for f in question.fields]
        items = value if isinstance(value, list) else []
        row["rows"] = [[_scalar(f, item.get(f.id)) for f in question.fields] for item in items
                       if isinstance(item, dict)]
        row["answer"] = "None" if not row["rows"] else f"{len(row['rows'])} listed"
    else:
        row["answer"] = _scalar(question, value, on=on)
        if question.type == "choice" and isinstance(value, int) and not isinstance(value, bool):
            row["points"] = value
    return row


def answer_sections(a) -> list[dict]:
    """The screening's answers under the questionnaire's own sections, in its order, each question
    in its own words (numbered as the patient saw them)."""
    try:
        q = questionnaires.get_questionnaire(a.questionnaire_id, a.questionnaire_version)
    except KeyError:
        return [{"id": sid, "title": sid, "preamble": "", "scored": False,
                 "rows": [{"id": k, "text": k, "answer": str(v), "points": None, "rows": [],
                           "fields": [], "type": "text"} for k, v in (answers or {}).items()]}
                for sid, answers in (a.answers or {}).items()]
    on = a.submitted_at.date() if a.submitted_at else None
    sections = []
    for section in q.sections:
        given = (a.answers or {}).get(section.id) or {}
        rows = []
        for question in section.questions:
            row = _answer(question, given.get(question.id), on)
            condition = question.required_if
            if given.get(question.id) is None and condition and given.get(condition.question) != condition.equals:
                row["answer"] = "Not asked (did not apply)"
            rows.append(row)
        sections.append({"id": section.id, "title": section.title, "preamble": section.preamble,
                         "scored": any(r["points"] is not None for r in rows), "rows": rows})
    return sections
