"""The eligibility rules engine of the screening assessment (pure: no database, no request).

`facts_from_screening` turns validated `screening` answers into `Facts`; `evaluate` runs every
rule over them and returns the outcome with EVERY finding as a `Reason`, so the person and the
reviewing physician see all of them, not only the one that decided. Every threshold is read from
the `ClinicalPolicy`; none is written here.

Precedence of outcomes: crisis > not_eligible > waitlist > needs_review > likely_candidate.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from telehealth.policy import ClinicalPolicy
from telehealth.services.screening.scoring import CssrsResult, InstrumentScore, score_screening
from telehealth.services.screening.scoring import cssrs as score_cssrs


class Outcome(StrEnum):
    LIKELY_CANDIDATE = "likely_candidate"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"
    WAITLIST = "waitlist"
    CRISIS = "crisis"


PRECEDENCE = (Outcome.CRISIS, Outcome.NOT_ELIGIBLE, Outcome.WAITLIST, Outcome.NEEDS_REVIEW)

# Crisis messages are caring and point to help now; they never mention anything to buy.
_HELP_NOW = ("If you might act on these thoughts, call 911. You can call or text 988 at any time, "
             "or text HOME to 741741, to talk with someone right now.")

MEDICATION_NAMES = {
    "maoi": "an MAOI antidepressant",
    "benzodiazepine": "a benzodiazepine",
    "lamotrigine": "lamotrigine",
    "stimulant": "a stimulant",
    "ssri_snri": "an SSRI or SNRI antidepressant",
    "antipsychotic": "an antipsychotic",
    "opioid": "an opioid",
}


@dataclass(frozen=True)
class Reason:
    rule: str
    outcome: str
    message: str


@dataclass(frozen=True)
class Eligibility:
    outcome: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class BloodPressure:
    systolic: int
    diastolic: int


@dataclass(frozen=True)
class Facts:
    age_years: int
    state: str
    pregnant_or_breastfeeding: bool
    psychosis_history: bool
    mania_or_bipolar_history: bool
    mood_stabilizer: bool
    active_substance_use_disorder: bool
    hypertension: str  # "none" | "controlled" | "uncontrolled"
    blood_pressure: BloodPressure | None
    vascular_history: frozenset[str]
    raised_intracranial_pressure: bool
    heart_disease: str  # "none" | "controlled" | "unstable"
    liver_disease: bool
    bladder_symptoms: bool
    current_medications: frozenset[str]
    antidepressant_trials: int
    adequate_trials: int
    phq9: InstrumentScore
    gad7: InstrumentScore
    cssrs: CssrsResult
    other_medications: str = ""


def age_on(birth: date, today: date) -> int:
    """Whole years completed on `today` (the birthday itself counts)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def is_adequate_trial(trial: dict, policy: ClinicalPolicy) -> bool:
    return trial.get("adequate_dose") is True and trial.get("weeks", 0) >= policy.min_trial_weeks


def facts_from_screening(answers: dict, today: date, policy: ClinicalPolicy) -> Facts:
    """The facts the rules read, from validated `screening` v1 answers."""
    medical, history = answers["medical"], answers["treatment_history"]
    trials = history.get("antidepressant_trials", [])
    bp = medical.get("blood_pressure")
    scores = score_screening(answers)
    return Facts(
        age_years=age_on(date.fromisoformat(medical["date_of_birth"]), today),
        state=medical["state_of_residence"],
        pregnant_or_breastfeeding=medical["pregnant_or_breastfeeding"],
        psychosis_history=medical["psychosis_history"],
        mania_or_bipolar_history=medical["mania_or_bipolar_history"],
        mood_stabilizer=medical.get("mood_stabilizer") is True,
        active_substance_use_disorder=medical["active_substance_use_disorder"],
        hypertension=medical["hypertension"],
        blood_pressure=BloodPressure(bp["systolic"], bp["diastolic"]) if bp else None,
        vascular_history=frozenset(medical.get("vascular_history", ())),
        raised_intracranial_pressure=medical["raised_intracranial_pressure"],
        heart_disease=medical["heart_disease"],
        liver_disease=medical["liver_disease"],
        bladder_symptoms=medical["bladder_symptoms"],
        current_medications=frozenset(medical.get("current_medications", ())),
        antidepressant_trials=len(trials),
        adequate_trials=sum(is_adequate_trial(t, policy) for t in trials),
        phq9=scores["phq9"],
        gad7=scores["gad7"],
        cssrs=scores["cssrs"],
        other_medications=medical.get("other_medications", "") or "",
    )


# --------------------------------------------------------------------------- rules
# Each rule yields the findings it makes; `evaluate` runs them all.

Rule = Callable[[Facts, ClinicalPolicy, frozenset[str]], Iterator[Reason]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def _crisis(rule_id: str, message: str) -> Reason:
    return Reason(rule_id, Outcome.CRISIS, f"{message} {_HELP_NOW}")


def _stop(rule_id: str, message: str) -> Reason:
    return Reason(rule_id, Outcome.NOT_ELIGIBLE, message)


def _review(rule_id: str, message: str) -> Reason:
    return Reason(rule_id, Outcome.NEEDS_REVIEW, message)


@rule
def crisis_rules(f: Facts, policy: ClinicalPolicy, states: frozenset[str]) -> Iterator[Reason]:
    yield from _crisis_findings(f.phq9.items[8], f.cssrs)


def crisis_in_partial(answers: dict) -> tuple[Reason, ...]:
    """Crisis findings in whatever validated answers exist so far (a draft, or a submission that
    failed validation elsewhere): a person in crisis must be helped before the form is complete."""
    phq9 = answers.get("phq9") or {}
    cssrs = answers.get("cssrs") or {}
    item9 = phq9.get("q9") if isinstance(phq9.get("q9"), int) else 0
    return tuple(_crisis_findings(item9, score_cssrs(cssrs)))


def _crisis_findings(phq9_item9: int, cssrs: CssrsResult) -> Iterator[Reason]:
    if phq9_item9 > 0:
        yield _crisis("crisis.phq9_item9", "You told us you have had thoughts that you would be better off dead "
                      "or of hurting yourself. Thank you for telling us. You deserve support, and you do not "
                      "have to face this alone.")
    if cssrs.ideation_with_intent_or_plan:
        yield _crisis("crisis.cssrs_intent_or_plan", "You told us you have had thoughts of ending your life "
                      "and some intention or a plan to act on them. We are glad you told us, and we want you "
                      "to be safe.")
    if cssrs.behavior_past_3_months:
        yield _crisis("crisis.cssrs_recent_behavior", "You told us that in the past 3 months you did, or "
                      "prepared to do, something to end your life. We are glad you are here, and we want you "
                      "to be safe.")


@rule
def hard_stops(f: Facts, policy: ClinicalPolicy, states: frozenset[str]) -> Iterator[Reason]:
    if f.age_years < policy.minimum_age_years:
        yield _stop("stop.under_age", f"This program is for people aged {policy.minimum_age_years} or older.")
    if f.pregnant_or_breastfeeding:
        yield _stop("stop.pregnancy", "You told us you are pregnant or breastfeeding; ketamine treatment is "
                    "not safe then.")
    if f.psychosis_history:
        yield _stop("stop.psychosis", "You told us you have had psychosis or schizophrenia; ketamine can bring "
                    "these symptoms back, so this treatment is not safe for you.")
    if f.active_substance_use_disorder:
        yield _stop("stop.substance_use", "You told us you have an active problem with alcohol or drug use; "
                    "ketamine treatment at home is not safe while it is active.")
    bp = f.blood_pressure
    if bp and (bp.systolic >= policy.bp_hard_stop_systolic or bp.diastolic >= policy.bp_hard_stop_diastolic):
        yield _stop("stop.hypertension_reading", f"Your blood pressure reading of {bp.systolic}/{bp.diastolic} "
                    "is too high for ketamine, which raises blood pressure. Please see a doctor about it soon.")
    if f.hypertension == "uncontrolled":
        yield _stop("stop.hypertension_uncontrolled", "You told us your high blood pressure is not controlled; "
                    "ketamine raises blood pressure, so it is not safe until it is.")
    vascular = {
        "aneurysmal_vascular_disease": ("stop.aneurysmal_vascular_disease", "an aneurysm"),
        "arteriovenous_malformation": ("stop.arteriovenous_malformation", "an arteriovenous malformation"),
        "intracerebral_hemorrhage": ("stop.intracerebral_hemorrhage", "bleeding in the brain"),
    }
    for condition, (rule_id, name) in vascular.items():
        if condition in f.vascular_history:
            yield _stop(rule_id, f"You told us you have had {name}; ketamine raises blood pressure, which is "
                        "not safe with this condition.")
    if f.raised_intracranial_pressure:
        yield _stop("stop.intracranial_pressure", "You told us you have raised pressure inside the skull; "
                    "ketamine can raise it further, so it is not safe for you.")
    if f.heart_disease == "unstable":
        yield _stop("stop.unstable_heart_disease", "You told us your heart disease is not stable; ketamine puts "
                    "extra strain on the heart, so it is not safe for you now.")
    if f.phq9.total < policy.phq9_min_score and f.gad7.total < policy.gad7_min_score:
        yield _stop("stop.symptoms_below_threshold", "Your answers show milder depression and anxiety than this "
                    "treatment is meant for. Other kinds of care may suit you better.")


@rule
def review_rules(f: Facts, policy: ClinicalPolicy, states: frozenset[str]) -> Iterator[Reason]:
    if f.mania_or_bipolar_history:
        if f.mood_stabilizer:
            text = ("You told us you have had mania, hypomania or bipolar disorder; a physician will check that "
                    "ketamine is safe with your mood stabilizer.")
        else:
            text = ("You told us you have had mania, hypomania or bipolar disorder and do not take a mood "
                    "stabilizer; ketamine needs a mood stabilizer then, and a physician will discuss it with you.")
        yield _review("review.mania_bipolar", text)
    if f.heart_disease == "controlled" or f.hypertension == "controlled":
        yield _review("review.controlled_cardiovascular", "You told us you have heart disease or high blood "
                      "pressure that is controlled; a physician will check that ketamine is safe for you.")
    if f.liver_disease:
        yield _review("review.liver_disease", "You told us you have liver disease; a physician will check that "
                      "ketamine is safe for you.")
    if f.bladder_symptoms:
        yield _review("review.bladder_symptoms", "You told us you have bladder or urinary symptoms; a physician "
                      "will check them first, as ketamine can affect the bladder.")
    for medication in policy.interacting_medications:
        if medication in f.current_medications:
            name = MEDICATION_NAMES.get(medication, medication.replace("_", " "))
            yield _review("review.interacting_medication", f"You take {name}, which can interact with ketamine; "
                          "a physician will review your medications.")
    if policy.review_unlisted_medications and ("other" in f.current_medications or f.other_medications.strip()):
        yield _review("review.other_medications", "You take other medicines; a physician will check that they "
                      "are safe with ketamine.")
    if f.adequate_trials < policy.min_adequate_trials:
        yield _review("review.few_antidepressant_trials", f"This treatment is usually for people who have tried "
                      f"at least {policy.min_adequate_trials} antidepressants, each for {policy.min_trial_weeks} "
                      "weeks or more at a full dose; a physician will review your treatment history.")
    if f.cssrs.risk in ("low", "moderate"):
        yield _review("review.suicide_risk", "Your answers mention thoughts about death or suicide. A clinician "
                      "will talk with you about them and about support that can help.")


@rule
def service_area(f: Facts, policy: ClinicalPolicy, states: frozenset[str]) -> Iterator[Reason]:
    if f.state not in states:
        yield Reason("waitlist.state_unserviced", Outcome.WAITLIST, f"We do not have a physician licensed in "
                     f"{f.state} yet. We will keep your place on the waitlist and tell you when we do.")


def evaluate(facts: Facts, policy: ClinicalPolicy, serviced_states: frozenset[str]) -> Eligibility:
    reasons = tuple(reason for check in RULES for reason in check(facts, policy, serviced_states))
    found = {r.outcome for r in reasons}
    outcome = next((o for o in PRECEDENCE if o in found), Outcome.LIKELY_CANDIDATE)
    return Eligibility(outcome=outcome, reasons=reasons)
