"""What a questionnaire definition is, and the check that a definition file is well formed.

Definitions are data (one JSON file per instrument version); this module turns a parsed JSON dict
into frozen dataclasses and refuses anything malformed with a `DefinitionError` naming the path,
so a typo in a clinical instrument stops the app at import instead of mis-scoring a patient.

Two kinds of file:
- `"kind": "instrument"`: one instrument's questions (`phq9`, `medical_screen`...). With
  `"standalone": true` it is also a questionnaire by itself, of one section named after it.
- `"kind": "questionnaire"`: sections that refer to instruments by id and version, so an
  instrument's questions are written once.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

QUESTION_TYPES = frozenset(
    {"choice", "multi_choice", "boolean", "integer", "text", "date", "us_state", "blood_pressure", "list"})
# Types allowed as fields of a `list` item: flat values only.
ITEM_FIELD_TYPES = QUESTION_TYPES - {"list", "blood_pressure"}

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_COMMON_KEYS = {"id", "text", "type", "required", "required_if", "help"}
_TYPE_KEYS = {
    "choice": {"options"},
    "multi_choice": {"options"},
    "boolean": set(),
    "integer": {"min", "max"},
    "text": {"max_length"},
    "date": {"min"},
    "us_state": set(),
    "blood_pressure": set(),
    "list": {"fields", "max_items"},
}


class DefinitionError(ValueError):
    """A questionnaire or instrument definition is malformed."""


@dataclass(frozen=True)
class Option:
    value: int | str
    label: str


@dataclass(frozen=True)
class RequiredIf:
    question: str
    equals: Any


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: str
    required: bool = True
    required_if: RequiredIf | None = None
    help: str | None = None
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    min_date: str | None = None
    fields: tuple[Question, ...] = ()
    max_items: int | None = None

    def option_values(self) -> tuple[int | str, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    title: str
    preamble: str
    standalone: bool
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    instrument: str
    required: bool
    questions: tuple[Question, ...]
    instrument_version: int = 1
    preamble: str = ""

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: str
    sections: tuple[Section, ...]

    def section(self, sid: str) -> Section | None:
        return next((s for s in self.sections if s.id == sid), None)


# --------------------------------------------------------------------------- checks


def _fail(path: str, message: str):
    raise DefinitionError(f"{path}: {message}")


def _obj(data: Any, path: str, allowed: set[str], required: set[str]) -> dict:
    if not isinstance(data, dict):
        _fail(path, "must be an object")
    unknown = set(data) - allowed
    if unknown:
        _fail(path, f"unknown keys {sorted(unknown)}")
    missing = required - set(data)
    if missing:
        _fail(path, f"missing keys {sorted(missing)}")
    return data


def _str(value: Any, path: str, *, pattern: re.Pattern | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(path, "must be a non-empty string")
    if pattern and not pattern.match(value):
        _fail(path, f"must match {pattern.pattern}")
    return value


def _int(value: Any, path: str, *, minimum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        _fail(path, "must be an integer")
    if minimum is not None and value < minimum:
        _fail(path, f"must be at least {minimum}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, "must be true or false")
    return value


def _options(raw: Any, path: str, option_sets: Mapping[str, Any]) -> tuple[Option, ...]:
    if isinstance(raw, str):
        if raw not in option_sets:
            _fail(path, f"unknown option set {raw!r}")
        raw = option_sets[raw]
    if not isinstance(raw, list) or not raw:
        _fail(path, "must be a non-empty list of options")
    options = []
    for i, item in enumerate(raw):
        item = _obj(item, f"{path}[{i}]", {"value", "label"}, {"value", "label"})
        value = item["value"]
        if isinstance(value, bool) or not isinstance(value, int | str):
            _fail(f"{path}[{i}].value", "must be an integer or a string")
        options.append(Option(value=value, label=_str(item["label"], f"{path}[{i}].label")))
    if len({(type(o.value), o.value) for o in options}) != len(options):
        _fail(path, "option values must be unique")
    return tuple(options)


def _question(raw: Any, path: str, option_sets: Mapping[str, Any], *, item_field: bool = False) -> Question:
    if not isinstance(raw, dict):
        _fail(path, "must be an object")
    qtype = raw.get("type")
    allowed_types = ITEM_FIELD_TYPES if item_field else QUESTION_TYPES
    if qtype not in allowed_types:
        _fail(f"{path}.type", f"must be one of {sorted(allowed_types)}")
    _obj(raw, path, _COMMON_KEYS | _TYPE_KEYS[qtype], {"id", "text", "type"})
    kwargs: dict[str, Any] = {
        "id": _str(raw["id"], f"{path}.id", pattern=_ID),
        "text": _str(raw["text"], f"{path}.text"),
        "type": qtype,
        "required": _bool(raw.get("required", True), f"{path}.required"),
    }
    if "help" in raw:
        kwargs["help"] = _str(raw["help"], f"{path}.help")
    if "required_if" in raw:
        if item_field:
            _fail(f"{path}.required_if", "is not allowed on a list item field")
        cond = _obj(raw["required_if"], f"{path}.required_if", {"question", "equals"}, {"question", "equals"})
        kwargs["required_if"] = RequiredIf(_str(cond["question"], f"{path}.required_if.question"), cond["equals"])
    if qtype in ("choice", "multi_choice"):
        if "options" not in raw:
            _fail(path, "a choice question needs options")
        kwargs["options"] = _options(raw["options"], f"{path}.options", option_sets)
    elif qtype == "integer":
        if "min" not in raw or "max" not in raw:
            _fail(path, "an integer question needs min and max")
        kwargs["min"], kwargs["max"] = _int(raw["min"], f"{path}.min"), _int(raw["max"], f"{path}.max")
        if kwargs["min"] > kwargs["max"]:
            _fail(path, "min must not exceed max")
    elif qtype == "text":
        if "max_length" not in raw:
            _fail(path, "a text question needs max_length")
        kwargs["max_length"] = _int(raw["max_length"], f"{path}.max_length", minimum=1)
    elif qtype == "date" and "min" in raw:
        try:
            kwargs["min_date"] = date.fromisoformat(_str(raw["min"], f"{path}.min")).isoformat()
        except ValueError:
            _fail(f"{path}.min", "must be a YYYY-MM-DD date")
    elif qtype == "list":
        if "fields" not in raw or "max_items" not in raw:
            _fail(path, "a list question needs fields and max_items")
        kwargs["fields"] = _questions(raw["fields"], f"{path}.fields", option_sets, item_field=True)
        kwargs["max_items"] = _int(raw["max_items"], f"{path}.max_items", minimum=1)
    return Question(**kwargs)


def _questions(raw: Any, path: str, option_sets: Mapping[str, Any], *, item_field: bool = False
               ) -> tuple[Question, ...]:
    if not isinstance(raw, list) or not raw:
        _fail(path, "must be a non-empty list")
    questions = tuple(_question(q, f"{path}[{i}]", option_sets, item_field=item_field) for i, q in enumerate(raw))
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        _fail(path, "question ids must be unique")
    by_id = {q.id: q for q in questions}
    for i, q in enumerate(questions):
        if q.required_if is None:
            continue
        target = by_id.get(q.required_if.question)
        if target is None or target is q:
            _fail(f"{path}[{i}].required_if.question", "must name another question of the same section")
        if target.type not in ("boolean", "choice"):
            _fail(f"{path}[{i}].required_if.question", "must name a boolean or choice question")
        equals = q.required_if.equals
        if target.type == "boolean" and not isinstance(equals, bool):
            _fail(f"{path}[{i}].required_if.equals", "must be true or false")
        if target.type == "choice" and not any(
                type(equals) is type(v) and equals == v for v in target.option_values()):
            _fail(f"{path}[{i}].required_if.equals", "must be one of the options of that question")
    return questions


def parse_instrument(data: Any) -> Instrument:
    """An `instrument` definition dict as a checked `Instrument`; raises `DefinitionError`."""
    path = "instrument"
    _obj(data, path, {"kind", "id", "version", "title", "preamble", "standalone", "option_sets", "questions"},
         {"kind", "id", "version", "title", "questions"})
    if data["kind"] != "instrument":
        _fail(f"{path}.kind", "must be 'instrument'")
    option_sets = data.get("option_sets", {})
    if not isinstance(option_sets, dict):
        _fail(f"{path}.option_sets", "must be an object")
    return Instrument(
        id=_str(data["id"], f"{path}.id", pattern=_ID),
        version=_int(data["version"], f"{path}.version", minimum=1),
        title=_str(data["title"], f"{path}.title"),
        preamble=_str(data["preamble"], f"{path}.preamble") if "preamble" in data else "",
        standalone=_bool(data.get("standalone", False), f"{path}.standalone"),
        questions=_questions(data["questions"], f"{path}.questions", option_sets),
    )


def standalone_questionnaire(instrument: Instrument) -> Questionnaire:
    """A single instrument taken by itself: one section whose id is the instrument id."""
    section = Section(id=instrument.id, title=instrument.title, instrument=instrument.id, required=True,
                      questions=instrument.questions, instrument_version=instrument.version,
                      preamble=instrument.preamble)
    return Questionnaire(id=instrument.id, version=instrument.version, title=instrument.title, sections=(section,))


def parse_questionnaire(data: Any, instruments: Mapping[tuple[str, int], Instrument] | None = None
                        ) -> Questionnaire:
    """A definition dict as a checked `Questionnaire`; raises `DefinitionError`.

    A standalone instrument becomes its one-section questionnaire. A composite questionnaire's
    section references are resolved in `instruments` ((id, version) -> Instrument).
    """
    if isinstance(data, dict) and data.get("kind") == "instrument":
        instrument = parse_instrument(data)
        if not instrument.standalone:
            _fail("instrument.standalone", "only a standalone instrument is a questionnaire by itself")
        return standalone_questionnaire(instrument)
    path = "questionnaire"
    _obj(data, path, {"kind", "id", "version", "title", "sections"}, {"kind", "id", "version", "title", "sections"})
    if data["kind"] != "questionnaire":
        _fail(f"{path}.kind", "must be 'questionnaire' or 'instrument'")
    raw_sections = data["sections"]
    if not isinstance(raw_sections, list) or not raw_sections:
        _fail(f"{path}.sections", "must be a non-empty list")
    instruments = instruments or {}
    sections = []
    for i, raw in enumerate(raw_sections):
        spath = f"{path}.sections[{i}]"
        ref = _obj(raw, spath, {"id", "instrument", "version", "required", "title"}, {"id", "instrument", "version"})
        key = (_str(ref["instrument"], f"{spath}.instrument"), _int(ref["version"], f"{spath}.version", minimum=1))
        if key not in instruments:
            _fail(spath, f"unknown instrument {key[0]!r} version {key[1]}")
        instrument = instruments[key]
        sections.append(Section(
            id=_str(ref["id"], f"{spath}.id", pattern=_ID),
            title=_str(ref["title"], f"{spath}.title") if "title" in ref else instrument.title,
            instrument=instrument.id,
            required=_bool(ref.get("required", True), f"{spath}.required"),
            questions=instrument.questions,
            instrument_version=instrument.version,
            preamble=instrument.preamble,
        ))
    if len({s.id for s in sections}) != len(sections):
        _fail(f"{path}.sections", "section ids must be unique")
    return Questionnaire(
        id=_str(data["id"], f"{path}.id", pattern=_ID),
        version=_int(data["version"], f"{path}.version", minimum=1),
        title=_str(data["title"], f"{path}.title"),
        sections=tuple(sections),
    )
