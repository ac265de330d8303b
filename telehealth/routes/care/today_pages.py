"""The physician's Today page (their start page after signing in) and the alert list.

Today, in the order a physician reads it: open alerts (urgent first) with their age and what happened
since each was raised, then the review queue with each screening's SLA counting down, the day's
appointments in the physician's own zone (with "Join" once the video room is open), and the work
list with the reasons each patient is on it. Every part comes from services/care/today.py (which
calls the services the API calls); a link to another area's page shows once that page exists.
"""
from __future__ import annotations


from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from telehealth.clock import now
from telehealth.errors import Conflict
from telehealth.models.accounts.accounts import Role
from telehealth.pages import ago, due_words, sla_words, page, safe_next
from telehealth.services.care import today as today_service

bp = Blueprint("today_pages", __name__)
PHYSICIAN = (Role.PHYSICIAN,)


def link(endpoint: str, **values) -> str | None:
    """The address of another area's page, or None while that page does not exist (or names its
    arguments otherwise): the row is shown without a link rather than failing."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _page_arg(name: str) -> int:
    """A page number from the address; anything else (hand-edited) is the first page."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 10_000 else 1


def _helpers() -> dict:
    return {"link": link, "ago": ago, "sla_words": sla_words, "due_words": due_words,
            "here": request.full_path.rstrip("?")}


@bp.get("/today")
@page(roles=PHYSICIAN)
def today():
    day = today_service.today(current_user, review_page=_page_arg("reviews"), work_list_page=_page_arg("work"))
    return render_template("care/today.html", day=day, at=day.at, **_helpers())


@bp.get("/alerts")
@page(roles=PHYSICIAN)
def alerts():
    status = "acknowledged" if request.args.get("status") == "acknowledged" else "open"
    before = request.args.get("before_id", "")
    before_id = int(before) if before.isdigit() and len(before) < 12 else None
    result = today_service.alert_page(current_user, status=status, before_id=before_id)
    return render_template("care/alerts.html", result=result, at=now(), before_id=before_id, **_helpers())


@bp.post("/alerts/<int:alert_id>/acknowledge")
@page(roles=PHYSICIAN)
def acknowledge(alert_id: int):
    """Acknowledge, then back to where the physician was; a second acknowledgement is refused in
    words naming who acknowledged first (and when), so the patient is not called twice."""
    back = safe_next(request.form.get("next"), url_for("today_pages.today"))
    try:
        alert = today_service.acknowledge(current_user, alert_id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(f"Acknowledged: the {today_service.kind_label(alert.kind).lower()} alert is yours. Others see that "
              "you have it.", "success")
    return redirect(back)
