"""Checking a person's answers against a questionnaire definition.

`validate_answers` returns the clean answers (only known, valid values, normalized) and the
field errors keyed by dotted path (`answers.<section>.<question>[.<index>.<field>]`). It is strict
about JSON types on purpose: a clinical "yes" must be `true`, never `1` or `"yes"`, and a score
item must be an integer, never `true` (Python's bool is an int). A choice is returned as the
definition writes the option, so `3.0` (the same JSON number as `3`) comes back as the int `3`.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from telehealth.questionnaires.model import Question, Questionnaire, Section

BP_SYSTOLIC = (50, 300)
BP_DIASTOLIC = (30, 200)

_INVALID = object()
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

Errors = dict[str, list[str]]


def _same(a: Any, b: Any) -> bool:
    """Equality that does not let True stand for 1 (or False for 0)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _option(question: Question, value: Any) -> Any:
    """The option `value` names, as the definition writes it (so 3.0 is the whole number 3 that
    scoring expects), or `_INVALID`."""
    return next((v for v in question.option_values() if _same(value, v)), _INVALID)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _add(errors: Errors, path: str, message: str) -> object:
    errors.setdefault(path, []).append(message)
    return _INVALID


def _in_range(value: Any, low: int, high: int, path: str, errors: Errors) -> Any:
    if not _is_int(value):
        return _add(errors, path, "Must be a whole number.")
    if not low <= value <= high:
        return _add(errors, path, f"Must be between {low} and {high}.")
    return value


def _choices(question: Question) -> str:
    return ", ".join(str(v) for v in question.option_values())


def _check_value(question: Question, value: Any, path: str, errors: Errors, today: date) -> Any:
    """The normalized value, or `_INVALID` after recording why at `path`."""
    kind = question.type
    if kind == "boolean":
        return value if isinstance(value, bool) else _add(errors, path, "Must be true or false.")
    if kind == "integer":
        return _in_range(value, question.min, question.max, path, errors)
    if kind == "choice":
        option = _option(question, value)
        if option is _INVALID:
            return _add(errors, path, f"Must be one of: {_choices(question)}.")
        return option
    if kind == "multi_choice":
        if not isinstance(value, list):
            return _add(errors, path, "Must be a list of options.")
        options = [_option(question, item) for item in value]
        if any(option is _INVALID for option in options):
            return _add(errors, path, f"Each choice must be one of: {_choices(question)}.")
        if len({(type(option), option) for option in options}) != len(options):
            return _add(errors, path, "Each option may be chosen only once.")
        return options
    if kind == "text":
        if not isinstance(value, str):
            return _add(errors, path, "Must be text.")
        value = value.strip()
        if question.required and not value:
            return _add(errors, path, "Must not be empty.")
        if len(value) > question.max_length:
            return _add(errors, path, f"Must be at most {question.max_length} characters.")
        return value
    if kind == "date":
        return _check_date(question, value, path, errors, today)
    if kind == "us_state":
        # Imported here: the schemas package pulls in the API layer and the models, which may
        # themselves come to import this package.
        from telehealth.schemas.common import US_STATES

        if not isinstance(value, str) or value.upper() not in US_STATES:
            return _add(errors, path, "Must be a two-letter US state code, such as NY.")
        return value.upper()
    if kind == "blood_pressure":
        return _check_blood_pressure(value, path, errors)
    if kind == "list":
        return _check_list(question, value, path, errors, today)
    raise AssertionError(f"unhandled question type {kind}")  # the definition check forbids this


def _check_date(question: Question, value: Any, path: str, errors: Errors, today: date) -> Any:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return _add(errors, path, "Must be a date written YYYY-MM-DD.")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return _add(errors, path, "Must be a real calendar date.")
    if parsed > today:
        return _add(errors, path, "Must not be in the future.")
    if question.min_date and parsed < date.fromisoformat(question.min_date):
        return _add(errors, path, f"Must not be before {question.min_date}.")
    return parsed.isoformat()


def _check_blood_pressure(value: Any, path: str, errors: Errors) -> Any:
    if not isinstance(value, dict):
        return _add(errors, path, "Must be an object with systolic and diastolic numbers.")
    before = sum(map(len, errors.values()))
    for key in sorted(set(value) - {"systolic", "diastolic"}):
        _add(errors, f"{path}.{key}", "Unknown field.")
    for key, (low, high) in (("systolic", BP_SYSTOLIC), ("diastolic", BP_DIASTOLIC)):
        if key not in value:
            _add(errors, f"{path}.{key}", "This field is required.")
        else:
            _in_range(value[key], low, high, f"{path}.{key}", errors)
    if sum(map(len, errors.values())) != before:
        return _INVALID
    if value["systolic"] <= value["diastolic"]:
        return _add(errors, path, "The systolic (upper) number must be higher than the diastolic (lower) one.")
    return {"systolic": value["systolic"], "diastolic": value["diastolic"]}


def _check_list(question: Question, value: Any, path: str, errors: Errors, today: date) -> Any:
    if not isinstance(value, list):
        return _add(errors, path, "Must be a list.")
    if len(value) > question.max_items:
        return _add(errors, path, f"Must have at most {question.max_items} items.")
    clean, ok = [], True
    for index, item in enumerate(value):
        item_path = f"{path}.{index}"
        if not isinstance(item, dict):
            _add(errors, item_path, "Each item must be an object.")
            ok = False
            continue
        for key in item:
            if not any(f.id == key for f in question.fields):
                _add(errors, f"{item_path}.{key}", "Unknown field.")
                ok = False
        clean_item = {}
        for field in question.fields:
            raw = item.get(field.id)
            if raw is None:
                if field.required:
                    _add(errors, f"{item_path}.{field.id}", "This field is required.")
                    ok = False
                continue
            checked = _check_value(field, raw, f"{item_path}.{field.id}", errors, today)
            if checked is _INVALID:
                ok = False
            else:
                clean_item[field.id] = checked
        clean.append(clean_item)
    return clean if ok else _INVALID


def _is_required(question: Question, given: dict) -> bool:
    if not question.required:
        return False
    cond = question.required_if
    # An unanswered or invalid condition does not make the question required: the error is
    # reported on the condition itself.
    return cond is None or (cond.question in given and _same(given[cond.question], cond.equals))


def _check_section(section: Section, raw: dict, path: str, errors: Errors, today: date, partial: bool) -> dict:
    clean: dict[str, Any] = {}
    for key in raw:
        if section.question(key) is None:
            _add(errors, f"{path}.{key}", "Unknown question.")
    for question in section.questions:
        value = raw.get(question.id)
        if value is None:
            continue
        checked = _check_value(question, value, f"{path}.{question.id}", errors, today)
        if checked is not _INVALID:
            clean[question.id] = checked
    if not partial:
        for question in section.questions:
            if raw.get(question.id) is None and _is_required(question, clean):
                _add(errors, f"{path}.{question.id}", "This question is required.")
    return clean


def validate_answers(q: Questionnaire, answers: Any, *, today: date, partial: bool = False
                     ) -> tuple[dict, Errors]:
    """(clean answers, field errors) for `answers` shaped `{section_id: {question_id: value}}`.

    With `partial=True` (a draft), missing sections and questions are not errors, but every
    answer given is still checked. A `null` answer counts as not given.
    """
    errors: Errors = {}
    if not isinstance(answers, dict):
        _add(errors, "answers", "Answers must be an object.")
        return {}, errors
    clean: dict[str, dict] = {}
    for key in answers:
        if q.section(key) is None:
            _add(errors, f"answers.{key}", "Unknown section.")
    for section in q.sections:
        path = f"answers.{section.id}"
        raw = answers.get(section.id)
        if raw is None:
            if section.required and not partial:
                _add(errors, path, "This section is required.")
            continue
        if not isinstance(raw, dict):
            _add(errors, path, "This section must be an object.")
            continue
        clean[section.id] = _check_section(section, raw, path, errors, today, partial)
    return clean, errors


def missing_sections(q: Questionnaire, answers: Any) -> list[str]:
    """Ids of the required sections with no answers yet, in questionnaire order."""
    given = answers if isinstance(answers, dict) else {}
    return [s.id for s in q.sections
            if s.required and not (isinstance(given.get(s.id), dict) and given[s.id])]
