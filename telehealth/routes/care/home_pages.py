"""The patient's home page: the one next step and the program's checklist (services/care/next_steps.py).

Each step links to the page that does it when that page exists (`LINKS`); otherwise the step is
shown in words without a link.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from telehealth.clock import now
from telehealth.crisis_lines import RESOURCES
from telehealth.models.accounts.accounts import Role
from telehealth.pages import page
from telehealth.policy import current_policy
from telehealth.services.care import next_steps

bp = Blueprint("home", __name__)

# step code -> (endpoint, link words, url values)
LINKS: dict[str, tuple[str, str, dict]] = {
    "screening": ("screening_pages.start", "Start the free screening", {}),
    "buy_package": ("billing_pages.packages", "See the packages", {}),
    "buy_follow_up": ("billing_pages.packages", "See the packages", {}),
    "book_consult": ("scheduling_pages.book", "Book your consult", {"type": "consult"}),
    "consult_booked": ("scheduling_pages.appointments", "Go to your appointment", {}),
    "follow_up_booked": ("scheduling_pages.appointments", "Go to your appointment", {}),
    "coaching_booked": ("scheduling_pages.appointments", "Go to your appointment", {}),
    "book_follow_up": ("scheduling_pages.book", "Book your follow-up", {"type": "follow_up"}),
    "await_prescription": ("pharmacy_pages.medication", "Your medication", {}),
    "medication_shipping": ("pharmacy_pages.medication", "Track your medication", {}),
    "await_medication": ("pharmacy_pages.medication", "Your medication", {}),
    "schedule_session": ("home_care_pages.sessions", "Schedule a session", {}),
    "session_scheduled": ("home_care_pages.sessions", "Get ready", {}),
    "session_in_progress": ("home_care_pages.sessions", "Back to your session", {}),
    "check_in": ("home_care_pages.sessions", "Answer the check-in", {}),
    "book_coaching": ("coaching_pages.index", "Book coaching", {}),
    "retake": ("screening_pages.retake", "Answer the questionnaires", {}),
}


def step_link(step) -> dict | None:
    """{"url", "label"} of the page that does `step`, or None while that page does not exist."""
    endpoint, label, values = LINKS.get(step.code, (None, None, {}))
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    for attempt in (values, {}):
        try:
            return {"url": url_for(endpoint, **attempt), "label": label}
        except BuildError:  # the page names its arguments differently: its plain address will do
            continue
    return None


def duration(delta: timedelta | None) -> str:
    """A time left in words: "18 h 12 min", "45 min", "less than a minute" (static/js/home.js says
    the same as it counts down)."""
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@bp.route("/home")
@page(roles=(Role.PATIENT,))
def index():
    plan = next_steps.home_plan(current_user)
    step = plan.next
    left = step.due_at - now() if step.due_at and not step.overdue else None
    return render_template("care/home.html", plan=plan, step=step, link=step_link(step), resources=RESOURCES,
                           time_left=duration(left), seconds_left=int(left.total_seconds()) if left else 0,
                           review_hours=current_policy().review_sla_hours)
