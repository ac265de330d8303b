"""Scoring of the symptom scales exactly as published: PHQ-9, GAD-7 and the C-SSRS screener.

Pure functions over validated section answers (`{"q1": 0, ...}`); no database, no policy. The bands
are the instruments' own published cut-offs, not clinic policy, so they live here.
"""
from __future__ import annotations

from dataclasses import dataclass

# (lowest total of the band, band) from the highest band down.
PHQ9_BANDS = ((20, "severe"), (15, "moderately_severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
GAD7_BANDS = ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))


@dataclass(frozen=True)
class InstrumentScore:
    instrument: str
    total: int
    band: str
    items: tuple[int, ...]


@dataclass(frozen=True)
class CssrsResult:
    risk: str  # "none" | "low" | "moderate" | "high"
    ideation_with_intent_or_plan: bool
    behavior_past_3_months: bool


def _items(section: dict, count: int) -> tuple[int, ...]:
    items = tuple(section[f"q{i}"] for i in range(1, count + 1))
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 3 for v in items):
        raise ValueError("every item must be an integer from 0 to 3")
    return items


def _band(total: int, bands: tuple[tuple[int, str], ...]) -> str:
    return next(name for low, name in bands if total >= low)


def phq9(section: dict) -> InstrumentScore:
    items = _items(section, 9)
    return InstrumentScore("phq9", sum(items), _band(sum(items), PHQ9_BANDS), items)


def phq9_item9(section: dict) -> int:
    """Thoughts of being better off dead or of self-harm: any answer above 0 is a crisis finding."""
    return _items(section, 9)[8]


def gad7(section: dict) -> InstrumentScore:
    items = _items(section, 7)
    return InstrumentScore("gad7", sum(items), _band(sum(items), GAD7_BANDS), items)


def cssrs(section: dict) -> CssrsResult:
    """The screener's risk level. A "yes" to q3-q5 counts even when q2 was "no": contradictory
    answers must never lower the risk."""
    def yes(key: str) -> bool:
        return section.get(key) is True

    # A "yes" to q6 with the recency question unanswered is treated as recent, for the same reason.
    behavior_recent = yes("q6") and section.get("q6_recent") is not False
    intent_or_plan = yes("q4") or yes("q5")
    if intent_or_plan or behavior_recent:
        risk = "high"
    elif yes("q3") or yes("q6"):
        risk = "moderate"
    elif yes("q1") or yes("q2"):
        risk = "low"
    else:
        risk = "none"
    return CssrsResult(risk=risk, ideation_with_intent_or_plan=intent_or_plan, behavior_past_3_months=behavior_recent)


def score_screening(answers: dict) -> dict:
    """{"phq9": InstrumentScore, "gad7": InstrumentScore, "cssrs": CssrsResult} of a validated
    `screening` questionnaire's answers."""
    return {"phq9": phq9(answers["phq9"]), "gad7": gad7(answers["gad7"]), "cssrs": cssrs(answers["cssrs"])}
