"""The clinical policy: thresholds the medical director owns.

Each value is a default from PRODUCT.md. Code reads thresholds only through `current_policy()`,
never as literals, so that changing the policy (config today, the admin screen later) changes
behaviour everywhere at once.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from flask import current_app, has_app_context


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
    interacting_medications: tuple[str, ...] = ("maoi", "benzodiazepine", "lamotrigine", "stimulant")
    review_sla_hours: int = 24


def current_policy() -> ClinicalPolicy:
    """The defaults, overridden by `CLINICAL_POLICY` (a dict) in the app config."""
    policy = ClinicalPolicy()
    overrides = current_app.config.get("CLINICAL_POLICY") if has_app_context() else None
    if overrides:
        known = {f.name for f in fields(ClinicalPolicy)}
        # Config may come from JSON or env, where sequences are lists; the policy stays hashable.
        policy = replace(policy, **{k: tuple(v) if isinstance(v, list) else v
                                    for k, v in overrides.items() if k in known})
    return policy
