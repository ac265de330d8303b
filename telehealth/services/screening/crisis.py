"""The crisis path: resources shown at once, the case made urgent, the on-call physician alerted.

Nothing in this path sells anything: callers return `RESOURCES` and next steps only about safety.
"""
from __future__ import annotations

from telehealth.extensions import db
from telehealth.models.platform.alerts import ClinicalAlert

RESOURCES: tuple[dict[str, str], ...] = (
    {"name": "988 Suicide & Crisis Lifeline", "how": "Call or text 988, any time, free and confidential.",
     "phone": "988", "sms": "988"},
    {"name": "Crisis Text Line", "how": "Text HOME to 741741 to reach a trained crisis counselor.",
     "phone": "", "sms": "741741"},
    {"name": "Emergency services", "how": "If you are in immediate danger, call 911 now.", "phone": "911", "sms": ""},
)

HELP_NOW = ("If you are thinking about ending your life, call or text 988 now, or text HOME to 741741. "
            "If you are in danger, call 911.")

CRISIS_NEXT_STEPS = (
    "Please reach out now: call or text 988, or text HOME to 741741. If you are in danger, call 911.",
    "A physician on our clinical team has been alerted and will review your answers urgently.",
)


def alert_on_call(summary: str, *, patient_id: int | None = None, assessment_id: int | None = None,
                  measure_id: int | None = None, kind: str = "crisis") -> ClinicalAlert:
    """Queue an urgent alert for the on-call physician, in the caller's transaction (`kind`: "crisis",
    or "unclear_reply" for a text not understood around a session)."""
    alert = ClinicalAlert(kind=kind, urgency="urgent", recipient="on_call_physician", summary=summary,
                          patient_id=patient_id, assessment_id=assessment_id, measure_id=measure_id)
    db.session.add(alert)
    return alert
