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


def current_policy() -> ClinicalPolicy:
    """The defaults, overridden by `CLINICAL_POLICY` (a dict) in the app config."""
    policy = ClinicalPolicy()
    overrides = current_app.config.get("CLINICAL_POLICY") if has_app_context() else None
    if overrides:
        known = {f.name for f in fields(ClinicalPolicy)}
        policy = replace(policy, **{k: v for k, v in overrides.items() if k in known})
    return policy
