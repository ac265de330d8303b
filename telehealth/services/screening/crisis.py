"""The crisis path: resources shown at once, the case made urgent, the on-call physician alerted.

Nothing in this path sells anything: callers return `RESOURCES` and next steps only about safety
(their words live in `telehealth/crisis_lines.py`, shared with the error handler).
"""
from __future__ import annotations

from telehealth.crisis_lines import CRISIS_NEXT_STEPS, HELP_NOW, RESOURCES  # noqa: F401  (the crisis path's words)
from telehealth.extensions import db
from telehealth.models.platform.alerts import ClinicalAlert


def alert_on_call(summary: str, *, patient_id: int | None = None, assessment_id: int | None = None,
                  measure_id: int | None = None, kind: str = "crisis") -> ClinicalAlert:
    """Queue an urgent alert for the on-call physician, in the caller's transaction (`kind`: "crisis",
    or "unclear_reply" for a text not understood around a session)."""
    alert = ClinicalAlert(kind=kind, urgency="urgent", recipient="on_call_physician", summary=summary,
                          patient_id=patient_id, assessment_id=assessment_id, measure_id=measure_id)
    db.session.add(alert)
    return alert
