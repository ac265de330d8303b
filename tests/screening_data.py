"""Answers to the `screening` v1 questionnaire for tests and the benchmark.

`valid_screening_answers()` is a complete, valid screening of a 40-year-old New York resident who
is a likely candidate: PHQ-9 16, GAD-7 12, item 9 = 0, C-SSRS all "no", two adequate 8-week
antidepressant trials, nothing else positive, blood pressure 122/78. Override any question of a
section by keyword: `valid_screening_answers(medical={"pregnant_or_breastfeeding": True})`.
"""
from __future__ import annotations

import copy
from datetime import date, timedelta


def _items(count: int, total: int, fixed: dict[int, int] | None = None) -> dict:
    """Items q1..q<count>, each 0-3, summing to `total`, with `fixed` items set first."""
    fixed = fixed or {}
    free = [i for i in range(1, count + 1) if i not in fixed]
    remaining = total - sum(fixed.values())
    if not 0 <= remaining <= 3 * len(free) or any(not 0 <= v <= 3 for v in fixed.values()):
        raise ValueError(f"no answers of {count} items total {total} with {fixed}")
    items = dict(fixed)
    for i in free:
        items[i] = min(3, remaining)
        remaining -= items[i]
    return {f"q{i}": items[i] for i in range(1, count + 1)}


def phq9_answers(total_target: int, item9: int = 0) -> dict:
    return _items(9, total_target, {9: item9})


def gad7_answers(total_target: int) -> dict:
    return _items(7, total_target)


def birth_date_for_age(years: int, today: date | None = None) -> str:
    """An ISO birth date making someone `years` old on `today` (date.today() by default).

    The birthday is about half a year away from `today`, so a server whose "today" differs by a
    day (UTC against local time) still computes the same age.
    """
    today = today or date.today()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return (anniversary - timedelta(days=180)).isoformat()


def valid_screening_answers(**section_overrides: dict) -> dict:
    answers = {
        "treatment_history": {
            "antidepressant_trials": [
                {"name": "sertraline", "weeks": 8, "adequate_dose": True},
                {"name": "bupropion", "weeks": 8, "adequate_dose": True},
            ],
            "therapy_tried": True,
        },
        "phq9": phq9_answers(16),
        "gad7": gad7_answers(12),
        "cssrs": {"q1": False, "q2": False, "q6": False},
        "medical": {
            "date_of_birth": birth_date_for_age(40),
            "state_of_residence": "NY",
            "pregnant_or_breastfeeding": False,
            "psychosis_history": False,
            "mania_or_bipolar_history": False,
            "active_substance_use_disorder": False,
            "hypertension": "none",
            "blood_pressure": {"systolic": 122, "diastolic": 78},
            "vascular_history": [],
            "raised_intracranial_pressure": False,
            "heart_disease": "none",
            "liver_disease": False,
            "bladder_symptoms": False,
            "current_medications": [],
        },
    }
    for section, overrides in section_overrides.items():
        answers.setdefault(section, {}).update(copy.deepcopy(overrides))
    return answers
