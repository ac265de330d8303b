"""PHQ-9, GAD-7 and C-SSRS screener scoring, as published, on both sides of every band boundary."""
from __future__ import annotations

from datetime import date

import pytest

from telehealth.questionnaires import get_questionnaire, validate_answers
from telehealth.services.screening.scoring import CssrsResult, InstrumentScore, cssrs, gad7, phq9, phq9_item9, score_screening
from tests.screening_data import gad7_answers, phq9_answers, valid_screening_answers


def test_phq9_worked_examples():
    assert phq9(phq9_answers(0)) == InstrumentScore("phq9", 0, "minimal", (0,) * 9)
    assert phq9(phq9_answers(27, item9=3)) == InstrumentScore("phq9", 27, "severe", (3,) * 9)
    mixed = {"q1": 2, "q2": 3, "q3": 1, "q4": 2, "q5": 0, "q6": 1, "q7": 2, "q8": 0, "q9": 1}
    assert phq9(mixed) == InstrumentScore("phq9", 12, "moderate", (2, 3, 1, 2, 0, 1, 2, 0, 1))


@pytest.mark.parametrize("total, band", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"), (27, "severe"),
])
def test_phq9_bands_on_both_sides_of_each_boundary(total, band):
    score = phq9(phq9_answers(total, item9=min(total, 3)))
    assert (score.total, score.band) == (total, band)


def test_phq9_item9():
    assert phq9_item9(phq9_answers(10)) == 0
    assert phq9_item9(phq9_answers(10, item9=1)) == 1
    assert phq9_item9(phq9_answers(27, item9=3)) == 3


def test_gad7_worked_examples():
    assert gad7(gad7_answers(0)) == InstrumentScore("gad7", 0, "minimal", (0,) * 7)
    assert gad7(gad7_answers(21)) == InstrumentScore("gad7", 21, "severe", (3,) * 7)


@pytest.mark.parametrize("total, band", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_gad7_bands_on_both_sides_of_each_boundary(total, band):
    score = gad7(gad7_answers(total))
    assert (score.total, score.band) == (total, band)


@pytest.mark.parametrize("bad", [{"q1": True}, {"q1": 4}, {"q1": "2"}])
def test_scoring_refuses_items_that_were_not_validated(bad):
    with pytest.raises(ValueError):
        phq9({**phq9_answers(5), **bad})


NO = {"q1": False, "q2": False, "q6": False}


@pytest.mark.parametrize("answers, risk, intent_or_plan, recent", [
    (NO, "none", False, False),
    ({**NO, "q1": True}, "low", False, False),
    ({**NO, "q2": True, "q3": False, "q4": False, "q5": False}, "low", False, False),
    ({**NO, "q1": True, "q2": True, "q3": True, "q4": False, "q5": False}, "moderate", False, False),
    ({**NO, "q6": True, "q6_recent": False}, "moderate", False, False),
    ({**NO, "q2": True, "q3": True, "q4": True, "q5": False}, "high", True, False),
    ({**NO, "q2": True, "q3": True, "q4": False, "q5": True}, "high", True, False),
    ({**NO, "q6": True, "q6_recent": True}, "high", False, True),
    ({**NO, "q6": True}, "high", False, True),  # recency unknown: assume recent
])
def test_cssrs_risk_paths(answers, risk, intent_or_plan, recent):
    assert cssrs(answers) == CssrsResult(risk, intent_or_plan, recent)


@pytest.mark.parametrize("answer, risk", [("q3", "moderate"), ("q4", "high"), ("q5", "high")])
def test_cssrs_contradictory_yes_after_a_no_to_q2_still_counts(answer, risk):
    assert cssrs({**NO, answer: True}).risk == risk


def test_q6_recent_without_q6_is_not_behaviour():
    assert cssrs({**NO, "q6_recent": True}) == CssrsResult("none", False, False)


def test_score_screening_of_validated_answers():
    clean, errors = validate_answers(get_questionnaire("screening", 1), valid_screening_answers(), today=date.today())
    assert errors == {}
    scores = score_screening(clean)
    assert (scores["phq9"].total, scores["phq9"].band) == (16, "moderately_severe")
    assert (scores["gad7"].total, scores["gad7"].band) == (12, "moderate")
    assert scores["cssrs"] == CssrsResult("none", False, False)


@pytest.mark.parametrize("total", range(28))
def test_phq9_helper_builds_valid_answers_for_every_total(total):
    answers = phq9_answers(total, item9=0 if total <= 24 else 3)
    assert validate_answers(get_questionnaire("phq9", 1), {"phq9": answers}, today=date.today())[1] == {}
    assert phq9(answers).total == total


def test_helpers_refuse_impossible_totals():
    with pytest.raises(ValueError):
        phq9_answers(27, item9=0)
    with pytest.raises(ValueError):
        gad7_answers(22)
