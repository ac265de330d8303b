"""The eligibility rules engine: every rule on both sides of its threshold, precedence, policy."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from flask import Flask

from telehealth.policy import ClinicalPolicy, current_policy
from telehealth.questionnaires import get_questionnaire, validate_answers
from telehealth.services.screening.eligibility import (
    Eligibility,
    Outcome,
    Reason,
    age_on,
    crisis_in_partial,
    evaluate,
    facts_from_screening,
)
from tests.screening_data import birth_date_for_age, gad7_answers, phq9_answers, valid_screening_answers

POLICY = ClinicalPolicy()
SERVICED = frozenset({"NY", "NJ"})
TODAY = date(2025, 6, 15)


def assess(policy: ClinicalPolicy = POLICY, serviced=SERVICED, today: date | None = None, **sections) -> Eligibility:
    """Validate a screening (overridden by section) and evaluate it, as the service will."""
    today = today or date.today()
    clean, errors = validate_answers(get_questionnaire("screening", 1), valid_screening_answers(**sections),
                                     today=today)
    assert errors == {}
    return evaluate(facts_from_screening(clean, today, policy), policy, serviced)


def rules(result: Eligibility) -> list[str]:
    return [r.rule for r in result.reasons]


def test_the_reference_screening_is_a_likely_candidate():
    assert assess() == Eligibility(Outcome.LIKELY_CANDIDATE, ())
    assert Outcome.LIKELY_CANDIDATE == "likely_candidate"


# --------------------------------------------------------------------------- age


@pytest.mark.parametrize("birth, age", [
    (date(2007, 6, 16), 17),  # turns 18 tomorrow
    (date(2007, 6, 15), 18),  # the 18th birthday itself
    (date(2007, 6, 14), 18),
    (date(1985, 6, 15), 40),
])
def test_age_is_whole_years_on_today(birth, age):
    assert age_on(birth, TODAY) == age


def test_a_29_february_birthday_counts_from_1_march_in_common_years():
    assert age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17
    assert age_on(date(2004, 2, 29), date(2022, 3, 1)) == 18
    assert age_on(date(2004, 2, 29), date(2024, 2, 29)) == 20


@pytest.mark.parametrize("birth, outcome", [
    ("2007-06-16", Outcome.NOT_ELIGIBLE),
    ("2007-06-15", Outcome.LIKELY_CANDIDATE),
    ("2007-06-14", Outcome.LIKELY_CANDIDATE),
])
def test_under_age_on_both_sides_of_the_18th_birthday(birth, outcome):
    result = assess(today=TODAY, medical={"date_of_birth": birth})
    assert result.outcome == outcome
    assert ("stop.under_age" in rules(result)) == (outcome == Outcome.NOT_ELIGIBLE)


def test_minimum_age_follows_the_policy():
    twenty = {"date_of_birth": birth_date_for_age(20, TODAY)}
    assert assess(today=TODAY, medical=twenty).outcome == Outcome.LIKELY_CANDIDATE
    result = assess(ClinicalPolicy(minimum_age_years=21), today=TODAY, medical=twenty)
    assert result.outcome == Outcome.NOT_ELIGIBLE
    assert result.reasons == (Reason("stop.under_age", "not_eligible",
                                     "This program is for people aged 21 or older."),)


def test_the_test_helper_person_is_forty_today():
    assert age_on(date.fromisoformat(valid_screening_answers()["medical"]["date_of_birth"]), date.today()) == 40


# --------------------------------------------------------------------------- hard stops


@pytest.mark.parametrize("question, rule_id", [
    ("pregnant_or_breastfeeding", "stop.pregnancy"),
    ("psychosis_history", "stop.psychosis"),
    ("active_substance_use_disorder", "stop.substance_use"),
    ("raised_intracranial_pressure", "stop.intracranial_pressure"),
])
def test_yes_no_hard_stops(question, rule_id):
    assert assess(medical={question: False}).outcome == Outcome.LIKELY_CANDIDATE
    result = assess(medical={question: True})
    assert result.outcome == Outcome.NOT_ELIGIBLE and rules(result) == [rule_id]


def test_pregnancy_message_is_plain():
    assert assess(medical={"pregnant_or_breastfeeding": True}).reasons[0].message == (
        "You told us you are pregnant or breastfeeding; ketamine treatment is not safe then.")


@pytest.mark.parametrize("systolic, diastolic, stopped", [
    (179, 99, False),
    (180, 99, True),
    (179, 100, True),
    (180, 100, True),
    (120, 100, True),
    (200, 80, True),
])
def test_blood_pressure_reading_on_both_sides_of_180_100(systolic, diastolic, stopped):
    result = assess(medical={"blood_pressure": {"systolic": systolic, "diastolic": diastolic}})
    assert (rules(result) == ["stop.hypertension_reading"]) == stopped
    assert result.outcome == (Outcome.NOT_ELIGIBLE if stopped else Outcome.LIKELY_CANDIDATE)
    if stopped:
        assert f"{systolic}/{diastolic}" in result.reasons[0].message


def test_an_unknown_blood_pressure_is_not_a_stop():
    answers = valid_screening_answers()
    del answers["medical"]["blood_pressure"]
    clean, _ = validate_answers(get_questionnaire("screening", 1), answers, today=date.today())
    facts = facts_from_screening(clean, date.today(), POLICY)
    assert facts.blood_pressure is None
    assert evaluate(facts, POLICY, SERVICED).outcome == Outcome.LIKELY_CANDIDATE


def test_blood_pressure_thresholds_follow_the_policy():
    policy = ClinicalPolicy(bp_hard_stop_systolic=160, bp_hard_stop_diastolic=95)
    assert rules(assess(policy, medical={"blood_pressure": {"systolic": 160, "diastolic": 80}})) == [
        "stop.hypertension_reading"]
    assert rules(assess(policy, medical={"blood_pressure": {"systolic": 150, "diastolic": 95}})) == [
        "stop.hypertension_reading"]
    assert assess(policy, medical={"blood_pressure": {"systolic": 159, "diastolic": 94}}).reasons == ()


@pytest.mark.parametrize("hypertension, found", [
    ("none", []),
    ("controlled", ["review.controlled_cardiovascular"]),
    ("uncontrolled", ["stop.hypertension_uncontrolled"]),
])
def test_known_hypertension(hypertension, found):
    assert rules(assess(medical={"hypertension": hypertension})) == found


@pytest.mark.parametrize("heart, found, outcome", [
    ("none", [], Outcome.LIKELY_CANDIDATE),
    ("controlled", ["review.controlled_cardiovascular"], Outcome.NEEDS_REVIEW),
    ("unstable", ["stop.unstable_heart_disease"], Outcome.NOT_ELIGIBLE),
])
def test_heart_disease(heart, found, outcome):
    result = assess(medical={"heart_disease": heart})
    assert (rules(result), result.outcome) == (found, outcome)


def test_controlled_heart_disease_and_hypertension_are_one_finding():
    assert rules(assess(medical={"heart_disease": "controlled", "hypertension": "controlled"})) == [
        "review.controlled_cardiovascular"]


@pytest.mark.parametrize("condition", [
    "aneurysmal_vascular_disease", "arteriovenous_malformation", "intracerebral_hemorrhage"])
def test_each_vascular_condition_is_its_own_stop(condition):
    result = assess(medical={"vascular_history": [condition]})
    assert result.outcome == Outcome.NOT_ELIGIBLE and rules(result) == [f"stop.{condition}"]


def test_all_vascular_conditions_are_all_listed():
    everything = ["intracerebral_hemorrhage", "aneurysmal_vascular_disease", "arteriovenous_malformation"]
    assert rules(assess(medical={"vascular_history": everything})) == [
        "stop.aneurysmal_vascular_disease", "stop.arteriovenous_malformation", "stop.intracerebral_hemorrhage"]


@pytest.mark.parametrize("phq, gad, stopped", [
    (9, 9, True),
    (10, 9, False),
    (9, 10, False),
    (0, 0, True),
    (10, 10, False),
])
def test_symptoms_must_reach_phq9_10_or_gad7_10(phq, gad, stopped):
    result = assess(phq9=phq9_answers(phq), gad7=gad7_answers(gad))
    assert (rules(result) == ["stop.symptoms_below_threshold"]) == stopped
    assert result.outcome == (Outcome.NOT_ELIGIBLE if stopped else Outcome.LIKELY_CANDIDATE)


def test_symptom_thresholds_follow_the_policy():
    policy = ClinicalPolicy(phq9_min_score=17, gad7_min_score=13)
    assert rules(assess(policy)) == ["stop.symptoms_below_threshold"]  # PHQ-9 16, GAD-7 12
    assert rules(assess(policy, phq9=phq9_answers(17))) == []
    assert rules(assess(policy, gad7=gad7_answers(13))) == []


# --------------------------------------------------------------------------- needs review


def test_mania_or_bipolar_needs_review_and_a_mood_stabilizer():
    with_stabilizer = assess(medical={"mania_or_bipolar_history": True, "mood_stabilizer": True})
    without = assess(medical={"mania_or_bipolar_history": True, "mood_stabilizer": False})
    for result in (with_stabilizer, without):
        assert result.outcome == Outcome.NEEDS_REVIEW and rules(result) == ["review.mania_bipolar"]
    assert "mood stabilizer" in without.reasons[0].message and "needs a mood stabilizer" in without.reasons[0].message
    assert "needs a mood stabilizer" not in with_stabilizer.reasons[0].message
    # A mood stabilizer without mania is nothing to review.
    assert assess(medical={"mania_or_bipolar_history": False, "mood_stabilizer": True}).reasons == ()


@pytest.mark.parametrize("question, rule_id", [
    ("liver_disease", "review.liver_disease"),
    ("bladder_symptoms", "review.bladder_symptoms"),
])
def test_yes_no_review_items(question, rule_id):
    assert assess(medical={question: False}).reasons == ()
    result = assess(medical={question: True})
    assert result.outcome == Outcome.NEEDS_REVIEW and rules(result) == [rule_id]


@pytest.mark.parametrize("medication, name", [
    ("maoi", "MAOI"), ("benzodiazepine", "benzodiazepine"), ("lamotrigine", "lamotrigine"),
    ("stimulant", "stimulant"),
])
def test_each_interacting_medication_needs_review_and_is_named(medication, name):
    result = assess(medical={"current_medications": ["ssri_snri", medication]})
    assert result.outcome == Outcome.NEEDS_REVIEW
    assert rules(result) == ["review.interacting_medication"]
    assert name in result.reasons[0].message


@pytest.mark.parametrize("medication", ["ssri_snri", "antipsychotic", "opioid"])
def test_listed_non_interacting_medications_do_not_need_review(medication):
    assert assess(medical={"current_medications": [medication]}).reasons == ()


@pytest.mark.parametrize("medical", [{"current_medications": ["other"]},
                                     {"current_medications": [], "other_medications": "phenelzine"}])
def test_unlisted_medications_go_to_a_physician(medical):
    result = assess(medical=medical)
    assert result.outcome == Outcome.NEEDS_REVIEW and rules(result) == ["review.other_medications"]


def test_unlisted_medication_review_can_be_switched_off_by_policy():
    policy = ClinicalPolicy(review_unlisted_medications=False)
    assert assess(policy=policy, medical={"current_medications": ["other"]}).reasons == ()


def test_crisis_is_found_in_partial_answers():
    assert [r.rule for r in crisis_in_partial({"phq9": {"q9": 1}})] == ["crisis.phq9_item9"]
    assert [r.rule for r in crisis_in_partial({"cssrs": {"q2": True, "q5": True}})] == ["crisis.cssrs_intent_or_plan"]
    assert crisis_in_partial({"phq9": {"q1": 3}, "cssrs": {"q1": True}}) == ()
    assert crisis_in_partial({}) == ()


def test_one_reason_per_interacting_medication():
    result = assess(medical={"current_medications": ["stimulant", "maoi", "benzodiazepine"]})
    assert rules(result) == ["review.interacting_medication"] * 3
    assert ["MAOI" in result.reasons[0].message, "benzodiazepine" in result.reasons[1].message,
            "stimulant" in result.reasons[2].message] == [True, True, True]


def test_interacting_medications_follow_the_policy():
    policy = ClinicalPolicy(interacting_medications=("opioid",))
    assert rules(assess(policy, medical={"current_medications": ["maoi"]})) == []
    result = assess(policy, medical={"current_medications": ["opioid"]})
    assert rules(result) == ["review.interacting_medication"] and "opioid" in result.reasons[0].message


def _trials(*trials):
    return {"antidepressant_trials": [{"name": f"drug{i}", "weeks": w, "adequate_dose": d}
                                      for i, (w, d) in enumerate(trials)]}


@pytest.mark.parametrize("trials, few", [
    ((), True),
    (((8, True),), True),                 # 1 adequate trial
    (((8, True), (8, True)), False),      # 2 adequate trials
    (((8, True), (5, True)), True),       # 5 weeks is too short
    (((8, True), (6, True)), False),      # 6 weeks is enough
    (((8, True), (12, False)), True),     # a low dose is not adequate
    (((5, True), (5, True), (5, True)), True),
    (((8, True), (6, True), (2, False)), False),
])
def test_few_adequate_antidepressant_trials(trials, few):
    result = assess(treatment_history=_trials(*trials))
    assert (rules(result) == ["review.few_antidepressant_trials"]) == few
    assert result.outcome == (Outcome.NEEDS_REVIEW if few else Outcome.LIKELY_CANDIDATE)


def test_trial_thresholds_follow_the_policy():
    two_of_eight = _trials((8, True), (8, True))
    assert rules(assess(ClinicalPolicy(min_adequate_trials=3), treatment_history=two_of_eight)) == [
        "review.few_antidepressant_trials"]
    assert rules(assess(ClinicalPolicy(min_trial_weeks=9), treatment_history=two_of_eight)) == [
        "review.few_antidepressant_trials"]
    assert rules(assess(ClinicalPolicy(min_trial_weeks=8), treatment_history=two_of_eight)) == []


def test_facts_count_adequate_trials_with_the_policy():
    clean, _ = validate_answers(get_questionnaire("screening", 1), valid_screening_answers(
        treatment_history=_trials((6, True), (7, True), (20, False))), today=date.today())
    assert facts_from_screening(clean, date.today(), POLICY).adequate_trials == 2
    assert facts_from_screening(clean, date.today(), ClinicalPolicy(min_trial_weeks=7)).adequate_trials == 1
    assert facts_from_screening(clean, date.today(), POLICY).antidepressant_trials == 3


@pytest.mark.parametrize("cssrs", [
    {"q1": True},
    {"q2": True, "q3": False, "q4": False, "q5": False},
    {"q2": True, "q3": True, "q4": False, "q5": False},
    {"q6": True, "q6_recent": False},
])
def test_low_or_moderate_cssrs_risk_needs_review_not_crisis(cssrs):
    result = assess(cssrs=cssrs)
    assert result.outcome == Outcome.NEEDS_REVIEW and rules(result) == ["review.suicide_risk"]


# --------------------------------------------------------------------------- crisis


@pytest.mark.parametrize("item9, crisis", [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_item9_above_zero_is_a_crisis(item9, crisis):
    result = assess(phq9=phq9_answers(16, item9=item9))
    assert result.outcome == (Outcome.CRISIS if crisis else Outcome.LIKELY_CANDIDATE)
    assert rules(result) == (["crisis.phq9_item9"] if crisis else [])


@pytest.mark.parametrize("cssrs, crisis_rules", [
    ({"q2": True, "q3": True, "q4": False, "q5": False}, []),
    ({"q2": True, "q3": True, "q4": True, "q5": False}, ["crisis.cssrs_intent_or_plan"]),
    ({"q2": True, "q3": True, "q4": False, "q5": True}, ["crisis.cssrs_intent_or_plan"]),
    ({"q2": False, "q5": True}, ["crisis.cssrs_intent_or_plan"]),  # contradictory: still counts
    ({"q6": True, "q6_recent": False}, []),
    ({"q6": True, "q6_recent": True}, ["crisis.cssrs_recent_behavior"]),
    ({"q2": True, "q3": True, "q4": True, "q5": True, "q6": True, "q6_recent": True},
     ["crisis.cssrs_intent_or_plan", "crisis.cssrs_recent_behavior"]),
])
def test_cssrs_crisis_paths(cssrs, crisis_rules):
    result = assess(cssrs=cssrs)
    found = [r for r in rules(result) if r.startswith("crisis.")]
    assert found == crisis_rules
    assert (result.outcome == Outcome.CRISIS) == bool(crisis_rules)
    assert all(r.outcome == Outcome.CRISIS for r in result.reasons if r.rule.startswith("crisis."))


def test_crisis_messages_are_caring_point_to_help_and_never_sell():
    result = assess(phq9=phq9_answers(16, item9=2),
                    cssrs={"q1": True, "q2": True, "q3": True, "q4": True, "q5": True, "q6": True, "q6_recent": True})
    crisis = [r for r in result.reasons if r.outcome == Outcome.CRISIS]
    assert [r.rule for r in crisis] == ["crisis.phq9_item9", "crisis.cssrs_intent_or_plan",
                                        "crisis.cssrs_recent_behavior"]
    selling = re.compile(r"packages?|price|purchas|buy|pay|cost|\$|subscri|checkout|cart|discount|offer",
                         re.IGNORECASE)
    for reason in crisis:
        assert not selling.search(reason.message), reason.message
        assert "988" in reason.message and "911" in reason.message


# --------------------------------------------------------------------------- service area


def test_a_state_without_a_licensed_physician_is_waitlisted():
    result = assess(medical={"state_of_residence": "CA"})
    assert result.outcome == Outcome.WAITLIST and rules(result) == ["waitlist.state_unserviced"]
    assert "CA" in result.reasons[0].message
    assert assess(medical={"state_of_residence": "NJ"}).outcome == Outcome.LIKELY_CANDIDATE
    assert assess(serviced=frozenset()).outcome == Outcome.WAITLIST


# --------------------------------------------------------------------------- precedence


def test_crisis_wins_over_everything_and_every_finding_is_listed():
    result = assess(phq9=phq9_answers(16, item9=1), medical={"pregnant_or_breastfeeding": True, "liver_disease": True,
                                                                "state_of_residence": "CA"})
    assert result.outcome == Outcome.CRISIS
    assert [(r.rule, r.outcome) for r in result.reasons] == [
        ("crisis.phq9_item9", "crisis"), ("stop.pregnancy", "not_eligible"),
        ("review.liver_disease", "needs_review"), ("waitlist.state_unserviced", "waitlist")]


def test_not_eligible_wins_over_waitlist_and_review():
    result = assess(medical={"psychosis_history": True, "liver_disease": True, "state_of_residence": "CA"})
    assert result.outcome == Outcome.NOT_ELIGIBLE
    assert set(rules(result)) == {"stop.psychosis", "review.liver_disease", "waitlist.state_unserviced"}


def test_waitlist_wins_over_review():
    result = assess(medical={"bladder_symptoms": True, "state_of_residence": "CA"})
    assert result.outcome == Outcome.WAITLIST
    assert set(rules(result)) == {"review.bladder_symptoms", "waitlist.state_unserviced"}


def test_everything_at_once_lists_every_rule():
    result = assess(
        today=TODAY,
        phq9=phq9_answers(3, item9=1), gad7=gad7_answers(2),
        cssrs={"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": True, "q6_recent": True},
        treatment_history=_trials((4, True)),
        medical={"date_of_birth": "2010-01-01", "state_of_residence": "WY", "pregnant_or_breastfeeding": True,
                 "psychosis_history": True, "mania_or_bipolar_history": True, "mood_stabilizer": False,
                 "active_substance_use_disorder": True, "hypertension": "uncontrolled",
                 "blood_pressure": {"systolic": 190, "diastolic": 110},
                 "vascular_history": ["aneurysmal_vascular_disease", "arteriovenous_malformation",
                                      "intracerebral_hemorrhage"],
                 "raised_intracranial_pressure": True, "heart_disease": "controlled", "liver_disease": True,
                 "bladder_symptoms": True, "current_medications": ["maoi", "lamotrigine"]},
    )
    assert result.outcome == Outcome.CRISIS
    assert rules(result) == [
        "crisis.phq9_item9", "crisis.cssrs_intent_or_plan", "crisis.cssrs_recent_behavior",
        "stop.under_age", "stop.pregnancy", "stop.psychosis", "stop.substance_use", "stop.hypertension_reading",
        "stop.hypertension_uncontrolled", "stop.aneurysmal_vascular_disease", "stop.arteriovenous_malformation",
        "stop.intracerebral_hemorrhage", "stop.intracranial_pressure", "stop.symptoms_below_threshold",
        "review.mania_bipolar", "review.controlled_cardiovascular", "review.liver_disease",
        "review.bladder_symptoms", "review.interacting_medication", "review.interacting_medication",
        "review.few_antidepressant_trials", "waitlist.state_unserviced",
    ]
    for reason in result.reasons:
        assert reason.outcome == reason.rule.split(".")[0].replace("stop", "not_eligible").replace(
            "review", "needs_review")
        assert reason.message.endswith(".") and "  " not in reason.message


def test_evaluate_reads_facts_not_answers():
    clean, _ = validate_answers(get_questionnaire("screening", 1), valid_screening_answers(), today=date.today())
    facts = facts_from_screening(clean, date.today(), POLICY)
    assert evaluate(replace(facts, age_years=17), POLICY, SERVICED).outcome == Outcome.NOT_ELIGIBLE
    assert evaluate(replace(facts, state="TX"), POLICY, SERVICED).outcome == Outcome.WAITLIST


# --------------------------------------------------------------------------- the policy


def test_policy_defaults_match_the_product_brief():
    assert POLICY == ClinicalPolicy(
        minimum_age_years=18, phq9_min_score=10, gad7_min_score=10, bp_hard_stop_systolic=180,
        bp_hard_stop_diastolic=100, min_adequate_trials=2, min_trial_weeks=6,
        interacting_medications=("maoi", "benzodiazepine", "lamotrigine", "stimulant"), review_sla_hours=24)


def test_current_policy_reads_overrides_from_app_config():
    assert current_policy() == POLICY  # outside an app
    app = Flask(__name__)
    app.config["CLINICAL_POLICY"] = {"minimum_age_years": 21, "interacting_medications": ["maoi", "opioid"]}
    with app.app_context():
        policy = current_policy()
    assert policy.minimum_age_years == 21
    assert policy.interacting_medications == ("maoi", "opioid")
    assert policy.phq9_min_score == 10
    hash(policy)


@pytest.mark.parametrize("overrides, complaint", [
    ({"not_a_field": 1}, "unknown settings: not_a_field"),
    ({"minimum_age_years": "18"}, "minimum_age_years"),
    ({"interacting_medications": ["aspirin"]}, "interacting_medications.0"),
    ({"review_sla_hours": 24.5}, "review_sla_hours"),
])
def test_a_malformed_policy_is_refused_at_start_up(overrides, complaint):
    from config import ConfigError
    from telehealth import create_app

    with pytest.raises(ConfigError, match=complaint):
        create_app({"ENV_NAME": "testing", "CLINICAL_POLICY": overrides})
