"""The clinical policy: thresholds the medical director owns.

Each value is a default from PRODUCT.md. Code reads thresholds only through `current_policy()`,
never as literals, so that changing the policy (config today, the admin screen later) changes
behaviour everywhere at once.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Literal

from flask import current_app, has_app_context
from pydantic import TypeAdapter, ValidationError

from config import ConfigError

# The medication classes the medical screen asks about (telehealth/questionnaires/medical_screen.v1.json).
Medication = Literal["maoi", "benzodiazepine", "lamotrigine", "stimulant", "ssri_snri", "antipsychotic",
                     "opioid", "other"]


@dataclass(frozen=True)
class ClinicalPolicy:
    minimum_age_years: int = 18
    # Symptoms qualify when either scale reaches its minimum.
    phq9_min_score: int = 10
    gad7_min_score: int = 10
    # A screening reading at or above either number is a hard stop.
    bp_hard_stop_systolic: int = 180
    bp_hard_stop_diastolic: int = 100
    # Treatment-resistant depression: this many trials, each at least this long at an adequate dose.
    min_adequate_trials: int = 2
    min_trial_weeks: int = 6
    interacting_medications: tuple[Medication, ...] = ("maoi", "benzodiazepine", "lamotrigine", "stimulant")
    review_sla_hours: int = 24
    # "other" medicines, or any typed in, go to a physician: an unlisted MAOI must not slip through.
    review_unlisted_medications: bool = True
    # At-home session gates (PRODUCT.md "At-home session gates"); the screening's bp_hard_stop_* above
    # are a different rule (eligibility), these judge the reading taken in the hour before a session.
    min_hours_between_sessions: int = 72
    sessions_per_consult: int = 6            # a completed physician encounter within the last 6 sessions
    max_gap_days_before_consult: int = 90    # "more than 3 months" without a session or consult: 90 days
    bp_reading_valid_minutes: int = 60
    session_bp_no_go_systolic: int = 140     # at or above either: no session today, the physician is told
    session_bp_no_go_diastolic: int = 90
    session_bp_urgent_systolic: int = 180    # at or above either: no session, urgent-care advice
    session_bp_urgent_diastolic: int = 120
    # Check-ins: "pre" an hour before the session, "post" two hours after it starts, "next_day" a day after.
    pre_check_in_minutes_before: int = 60
    post_check_in_hours_after: int = 2
    next_day_check_in_hours_after: int = 24
    # the sitter's presence is confirmed at most this long before the start
    sitter_confirmation_valid_minutes: int = 120
    # a session not started this long after its time is missed (its check-ins are not sent)
    missed_session_after_hours: int = 6
    # an unanswered check-in after a session: the sitter (else the emergency contact) is asked to check
    check_in_escalation_contacts_sitter: bool = True
    check_in_reprompt_hours: int = 2         # the SMS side re-prompts, then escalates, after this long each
    # a text not understood this long after a session started or ended pages the on-call physician
    unclear_reply_alert_hours_after_session: int = 24
    # Outcomes (PRODUCT.md "Outcomes"), judged from baseline to a later measure (services/care/outcomes.py):
    response_drop_percent: int = 50          # a drop of this share of the baseline score or more: response
    remission_below: int = 5                 # a score below this: remission
    worsening_rise: int = 5                  # a rise of this many points or more: worsening
    # The program report (services/care/program_report.py): the outcome cohort's PHQ-9 is the first one taken
    # after this at-home session ("PHQ-9 after 4 sessions"), and a shipment counts as delivered as
    # promised ("shipped to the home in 3 to 5 days") within this many calendar days of going to the
    # pharmacy (the ops SLA of shipping_sla.py counts business days instead).
    outcome_after_sessions: int = 4
    delivery_promise_days: int = 5
    # Follow-ups: the patient is texted a link to retake PHQ-9 and GAD-7 this long before each one.
    follow_up_retake_hours_before: int = 48
    # A coach may edit their own note of a session until this many days after it ended.
    coaching_note_edit_days: int = 7
    # A physician the patient booked (a consult, a follow-up) is on the care team while the booking is
    # upcoming and this long after it ends: time to record the encounter and prescribe. Recording a
    # held consult or follow-up makes them the patient's physician for good (services/accounts/care_team.py).
    booked_physician_access_days: int = 7
    # The physician's work list: a patient with an unused follow-up credit is due for a follow-up this
    # long after their last physician encounter, or when a follow-up is booked within the next
    # `follow_up_upcoming_days`; with no encounter for `follow_up_due_days` the follow-up is overdue.
    follow_up_interval_days: int = 28
    follow_up_upcoming_days: int = 7
    follow_up_due_days: int = 30
    # An urgent alert not acknowledged this long after a page is paged again, one rung further up
    # the ladder (services/messaging/notifications.py): on call, then the care team and next shift, then everyone.
    urgent_alert_repage_minutes: int = 5


_ADAPTER = TypeAdapter(ClinicalPolicy)


def policy_from(overrides: dict) -> ClinicalPolicy:
    """The defaults with `overrides` applied, each value checked for its type (a string "18" for an
    age is refused, not compared with numbers later); unknown names are refused too."""
    unknown = set(overrides) - {f.name for f in fields(ClinicalPolicy)}
    if unknown:
        raise ConfigError(f"CLINICAL_POLICY has unknown settings: {', '.join(sorted(unknown))}")
    merged = {**asdict(ClinicalPolicy()), **overrides}
    try:
        # strict, through JSON: the shape the setting arrives in, with no silent coercion
        return _ADAPTER.validate_json(json.dumps(merged), strict=True)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"CLINICAL_POLICY is invalid: {problems}") from None


def validate_policy_overrides(overrides: dict) -> None:
    """Refuse to start with a policy that does not hold together."""
    policy_from(overrides)


def current_policy() -> ClinicalPolicy:
    """The defaults, overridden by `CLINICAL_POLICY` (a dict; from JSON in the environment)."""
    overrides = current_app.config.get("CLINICAL_POLICY") if has_app_context() else None
    return policy_from(overrides) if overrides else ClinicalPolicy()
