"""A questionnaire section as an HTML form, and back: the wizard's and the retake page's translation
between flat form fields and the answers the screening services check.

No clinical rule lives here: the form's strings become the JSON values the API would receive
("true" -> true, "2" -> 2 when 2 is an option), and anything that does not translate is passed on
as the person typed it, so the service refuses it with the API's own message. The one refusal made
here is about the form itself: "None of these" ticked together with a condition.

Field names: a question's id (`q1`, `date_of_birth`); a blood pressure's parts `<id>.systolic` and
`<id>.diastolic`; a list's rows `<id>.<row>.<field>` (`antidepressant_trials.0.weeks`). Element ids
are the names with dots as dashes, prefixed `f-` (see `field_id`).
"""
from __future__ import annotations

import re
from typing import Any

from telehealth.errors import ValidationFailed
from telehealth.schemas.common import US_STATE_NAMES, US_STATES

NONE_OF_THESE = "__none__"
# The states a person can choose (the API's list), by name.
STATES = tuple(sorted(((code, US_STATE_NAMES.get(code, code)) for code in US_STATES), key=lambda s: s[1]))
MIN_LIST_ROWS = 2
_WHOLE = re.compile(r"^[+-]?[0-9]{1,9}$")

Values = dict[str, Any]  # field name -> str, or list[str] for a group of checkboxes


def field_id(name: str, suffix: str | int | None = None) -> str:
    base = "f-" + name.replace(".", "-").replace("_", "-")
    return base if suffix is None else f"{base}-{suffix}"


def question_anchor(question, name: str | None = None) -> str:
    """The element a refusal's link jumps to: the input itself, or a group's first choice."""
    name = name or question.id
    if question.type in ("choice", "boolean", "multi_choice"):
        return field_id(name, 0)
    if question.type == "blood_pressure":
        return field_id(f"{name}.systolic")
    if question.type == "list":
        return field_id(f"{name}.0.{question.fields[0].id}")
    return field_id(name)


# ----------------------------------------------------------------------------- answers -> values


def _scalar_value(question, value) -> str:
    if question.type == "boolean":
        return "true" if value is True else "false" if value is False else ""
    return "" if value is None else str(value)


def values_from_answers(section, answers: dict | None) -> Values:
    """What the form shows for saved answers."""
    answers = answers if isinstance(answers, dict) else {}
    values: Values = {}
    for question in section.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        if question.type == "multi_choice":
            values[question.id] = [str(v) for v in value] if value else [NONE_OF_THESE]
        elif question.type == "blood_pressure":
            values[f"{question.id}.systolic"] = str(value.get("systolic", ""))
            values[f"{question.id}.diastolic"] = str(value.get("diastolic", ""))
        elif question.type == "list":
            for row, item in enumerate(value):
                for field in question.fields:
                    values[f"{question.id}.{row}.{field.id}"] = _scalar_value(field, item.get(field.id))
        else:
            values[question.id] = _scalar_value(question, value)
    return values


def values_from_form(section, form) -> Values:
    """The section's fields as posted (strings; checkbox groups as lists)."""
    values: Values = {}
    for question in section.questions:
        if question.type == "multi_choice":
            chosen = [v for v in form.getlist(question.id) if v.strip()]
            if chosen:
                values[question.id] = chosen
        elif question.type in ("blood_pressure", "list"):
            prefix = f"{question.id}."
            values.update({k: form[k] for k in form if k.startswith(prefix)})
        elif question.id in form:
            values[question.id] = form[question.id]
    return values


def list_rows(question, values: Values, extra: int = 0) -> int:
    """How many rows a list question shows: every row given, one empty row to add to, at least two."""
    pattern = re.compile(rf"^{re.escape(question.id)}\.([0-9]+)\.")
    used = [int(m.group(1)) + 1 for k, v in values.items() if (m := pattern.match(k)) and str(v).strip()]
    filled = max(used, default=0)
    return min(max(filled + 1, MIN_LIST_ROWS) + extra, question.max_items or 20)


# ----------------------------------------------------------------------------- values -> answers


def _scalar(question, raw: str | None):
    """The JSON value a form string stands for; None when not given."""
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if question.type == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if question.type == "choice":
        return next((v for v in question.option_values() if str(v) == raw), raw)
    if question.type == "integer":
        return int(raw) if _WHOLE.match(raw) else raw
    if question.type == "us_state":
        return raw.upper()
    return raw


def _whole_or_raw(raw: str):
    raw = raw.strip()
    return int(raw) if _WHOLE.match(raw) else raw


def answers_from_values(section, values: Values) -> dict:
    """The section's answers for the service, from the form's values. Raises ValidationFailed (in the
    service's shape, `answers.<section>.<question>`) only for "None of these" ticked with a condition."""
    answers: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in section.questions:
        qid = question.id
        if question.type == "multi_choice":
            chosen = values.get(qid)
            if chosen is None:
                continue
            chosen = [chosen] if isinstance(chosen, str) else list(chosen)
            if NONE_OF_THESE in chosen:
                if len(chosen) > 1:
                    errors[f"answers.{section.id}.{qid}"] = [
                        "You ticked “None of these” and a condition as well: untick one of them."]
                    continue
                answers[qid] = []
            else:
                answers[qid] = [next((v for v in question.option_values() if str(v) == c), c) for c in chosen]
        elif question.type == "blood_pressure":
            parts = {part: values.get(f"{qid}.{part}", "").strip() for part in ("systolic", "diastolic")}
            if any(parts.values()):
                answers[qid] = {part: _whole_or_raw(raw) for part, raw in parts.items() if raw}
        elif question.type == "list":
            rows = []
            for row in range(list_rows(question, values)):
                item = {}
                for field in question.fields:
                    value = _scalar(field, values.get(f"{qid}.{row}.{field.id}"))
                    if value is not None:
                        item[field.id] = value
                if item:  # a row left empty is no medication
                    rows.append(item)
            answers[qid] = rows
        else:
            value = _scalar(question, values.get(qid))
            if value is not None:
                answers[qid] = value
    if errors:
        raise ValidationFailed("Some answers are missing or invalid.", fields=errors)
    return answers


def has_answers(values: Values) -> bool:
    return any((v.strip() if isinstance(v, str) else v) for v in values.values())


# ----------------------------------------------------------------------------- refusals


def section_errors(fields: dict[str, list[str]], section) -> dict[str, list[str]]:
    """The service's field errors of this section, keyed by form field name (`q1`,
    `blood_pressure.systolic`, `antidepressant_trials.0.weeks`); a section-wide one under ""."""
    prefix = f"answers.{section.id}"
    found: dict[str, list[str]] = {}
    for key, messages in fields.items():
        if key == prefix or key == "answers":
            found.setdefault("", []).extend(messages)
        elif key.startswith(prefix + "."):
            found.setdefault(key[len(prefix) + 1:], []).extend(messages)
        elif not key.startswith("answers"):
            found.setdefault("", []).extend(messages)
    return found


def errors_of(question, errors: dict[str, list[str]]) -> list[str]:
    """Every message about one question (its parts and rows included)."""
    return [m for key, messages in errors.items() if key == question.id or key.startswith(question.id + ".")
            for m in messages]


def other_sections(fields: dict[str, list[str]], section) -> list[str]:
    """Ids of the other sections the service found a problem in (a final submission)."""
    found = []
    for key in fields:
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "answers" and parts[1] != section.id and parts[1] not in found:
            found.append(parts[1])
    return found


def _anchor(question, key: str) -> str:
    if key == question.id:
        return question_anchor(question)
    if question.type == "list":
        parts = key.split(".")
        if len(parts) >= 3:
            field = next((f for f in question.fields if f.id == parts[2]), question.fields[0])
            return question_anchor(field, f"{question.id}.{parts[1]}.{field.id}")
        if len(parts) == 2:
            return question_anchor(question.fields[0], f"{question.id}.{parts[1]}.{question.fields[0].id}")
        return question_anchor(question)
    if question.type == "blood_pressure" and key.endswith((".systolic", ".diastolic")):
        return field_id(key)
    return question_anchor(question)


def summary(section, errors: dict[str, list[str]], numbers: dict[str, int]) -> list[dict[str, str]]:
    """The error summary's lines: "Question 3: <message>", each linking to its field."""
    lines = []
    for question in section.questions:
        for key, messages in errors.items():
            if key != question.id and not key.startswith(question.id + "."):
                continue
            where = f"Question {numbers[question.id]}"
            parts = key.split(".")
            if question.type == "list" and len(parts) >= 2 and parts[1].isdigit():
                where += f", medication {int(parts[1]) + 1}"
            elif question.type == "blood_pressure" and len(parts) == 2:
                where += f", {parts[1]} number"
            lines += [{"text": f"{where}: {m}", "href": f"#{_anchor(question, key)}"} for m in messages]
    for message in errors.get("", []):
        lines.append({"text": message, "href": "#main"})
    return lines
