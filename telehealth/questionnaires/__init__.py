"""Questionnaires as versioned data: the registry of definitions and the public API over them.

Every `<id>.v<version>.json` file of this package is read and checked once, at import: a
malformed definition stops the app rather than reaching a patient. Instruments (`phq9`,
`cssrs_screener`, `medical_screen`...) hold the questions; questionnaires (`screening`, and the
standalone instruments `phq9` and `gad7` that patients retake) are what a person answers.

    q = get_questionnaire("screening", latest_version("screening"))
    clean, errors = validate_answers(q, body["answers"], today=date.today())
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from telehealth.questionnaires.answers import BP_DIASTOLIC, BP_SYSTOLIC, missing_sections, validate_answers
from telehealth.questionnaires.model import (
    DefinitionError,
    Instrument,
    Option,
    Question,
    Questionnaire,
    RequiredIf,
    Section,
    parse_instrument,
    parse_questionnaire,
    standalone_questionnaire,
)

__all__ = [
    "DefinitionError", "Instrument", "Option", "Question", "Questionnaire", "RequiredIf", "Section",
    "get_instrument", "get_questionnaire", "latest_version", "load_definitions", "missing_sections",
    "parse_instrument", "parse_questionnaire", "public_definition", "questionnaire_ids", "validate_answers",
]

DEFINITIONS_DIR = Path(__file__).parent
_FILE_NAME = re.compile(r"^(?P<id>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json$")


def load_definitions(directory: Path = DEFINITIONS_DIR
                     ) -> tuple[dict[tuple[str, int], Instrument], dict[tuple[str, int], Questionnaire]]:
    """(instruments, questionnaires) keyed by (id, version), from the JSON files of `directory`."""
    raw: dict[Path, dict] = {}
    for path in sorted(directory.glob("*.json")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise DefinitionError(f"{path.name}: name must be <id>.v<version>.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or (data.get("id"), data.get("version")) != (
                match["id"], int(match["version"])):
            raise DefinitionError(f"{path.name}: id and version must match the file name")
        raw[path] = data
    instruments: dict[tuple[str, int], Instrument] = {}
    questionnaires: dict[tuple[str, int], Questionnaire] = {}
    for path, data in raw.items():
        if data.get("kind") == "instrument":
            try:
                instrument = parse_instrument(data)
            except DefinitionError as exc:
                raise DefinitionError(f"{path.name}: {exc}") from None
            instruments[(instrument.id, instrument.version)] = instrument
            if instrument.standalone:
                questionnaires[(instrument.id, instrument.version)] = standalone_questionnaire(instrument)
    for path, data in raw.items():
        if data.get("kind") != "instrument":
            try:
                questionnaire = parse_questionnaire(data, instruments)
            except DefinitionError as exc:
                raise DefinitionError(f"{path.name}: {exc}") from None
            key = (questionnaire.id, questionnaire.version)
            if key in questionnaires:
                raise DefinitionError(f"{path.name}: questionnaire {key} is defined twice")
            questionnaires[key] = questionnaire
    return instruments, questionnaires


_INSTRUMENTS, _QUESTIONNAIRES = load_definitions()


def questionnaire_ids() -> list[str]:
    return sorted({qid for qid, _ in _QUESTIONNAIRES})


def latest_version(qid: str) -> int:
    versions = [version for key, version in _QUESTIONNAIRES if key == qid]
    if not versions:
        raise KeyError(qid)
    return max(versions)


def get_questionnaire(qid: str, version: int) -> Questionnaire:
    return _QUESTIONNAIRES[(qid, version)]


def get_instrument(iid: str, version: int) -> Instrument:
    return _INSTRUMENTS[(iid, version)]


def _public_question(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"id": q.id, "text": q.text, "type": q.type, "required": q.required}
    if q.required_if:
        out["required_if"] = {"question": q.required_if.question, "equals": q.required_if.equals}
    if q.help:
        out["help"] = q.help
    if q.options:
        out["options"] = [{"value": o.value, "label": o.label} for o in q.options]
    if q.type == "integer":
        out["min"], out["max"] = q.min, q.max
    if q.max_length is not None:
        out["max_length"] = q.max_length
    if q.min_date:
        out["min"] = q.min_date
    if q.type == "blood_pressure":
        out["systolic"] = {"min": BP_SYSTOLIC[0], "max": BP_SYSTOLIC[1]}
        out["diastolic"] = {"min": BP_DIASTOLIC[0], "max": BP_DIASTOLIC[1]}
    if q.type == "list":
        out["fields"] = [_public_question(f) for f in q.fields]
        out["max_items"] = q.max_items
    return out


def public_definition(q: Questionnaire) -> dict:
    """The definition as JSON for clients: everything needed to render and pre-check the form."""
    return {
        "id": q.id,
        "version": q.version,
        "title": q.title,
        "sections": [{
            "id": s.id,
            "title": s.title,
            "instrument": s.instrument,
            "instrument_version": s.instrument_version,
            "required": s.required,
            "preamble": s.preamble,
            "questions": [_public_question(question) for question in s.questions],
        } for s in q.sections],
    }
