"""The provider's visit page: the appointment's video room for its physician or coach (the patient's
room, joined from the other side), the patient's name, and recording what happened: the encounter
(start, end; by video) with `scheduling.complete`, the service POST /api/v1/appointments/<id>/complete
calls, or a no-show with `scheduling.mark_no_show`. After a physician records an encounter the page
links to the chart and to prescribing; a coach's, to the session's note.

Times are typed in the provider's own zone (a datetime-local input) and read as moments there before
the API's schema validates them.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from telehealth.errors import ServiceError, error_body
from telehealth.models.accounts.accounts import Role
from telehealth.pages import allow_csp, done, form_body, page, refusal
from telehealth.routes.scheduling.pages import TWILIO_CONNECT
from telehealth.schemas.scheduling.scheduling import EncounterIn
from telehealth.services.scheduling import scheduling, visit_views

bp = Blueprint("consult_pages", __name__)
PROVIDERS = (Role.PHYSICIAN, Role.COACH)
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _moment(name: str) -> dict:
    """A datetime-local value ("2026-12-03T14:30") as a moment in the provider's zone; anything else
    goes to the schema as typed, for its own message."""
    value = request.form.get(name, "").strip()
    try:
        wall = datetime.strptime(value, LOCAL_INPUT)
    except ValueError:
        return {}
    return {name: wall.replace(tzinfo=ZoneInfo(current_user.time_zone)).isoformat()}


def _local_input(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(current_user.time_zone)).strftime(LOCAL_INPUT)


def _render(view, errors=None, status: int = 200, form=None):
    if view.room == "open":
        allow_csp(connect=TWILIO_CONNECT, media=["blob:"])
    start, end = view.suggested_times()
    values = {"started_at": _local_input(start), "ended_at": _local_input(end), "notes": ""}
    values.update(form or {})
    return render_template("scheduling/visit.html", view=view, errors=errors, values=values), status


@bp.get("/visits/<int:appointment_id>")
@page(roles=PROVIDERS)
def room(appointment_id: int):
    return _render(visit_views.my_visit(current_user, appointment_id))


@bp.post("/visits/<int:appointment_id>/encounter")
@page(roles=PROVIDERS)
def encounter(appointment_id: int):
    try:
        body = form_body(EncounterIn, extra={**_moment("started_at"), **_moment("ended_at")})
        scheduling.complete(current_user, appointment_id, started_at=body.started_at, ended_at=body.ended_at,
                            notes=body.notes)
    except ServiceError as exc:
        view = visit_views.my_visit(current_user, appointment_id)
        typed = {key: request.form.get(key, "") for key in ("started_at", "ended_at", "notes")}
        return _render(view, refusal(exc), exc.status, typed)
    return done("The encounter is recorded.", "consult_pages.room", appointment_id=appointment_id)


@bp.post("/visits/<int:appointment_id>/no-show")
@page(roles=PROVIDERS)
def no_show(appointment_id: int):
    try:
        scheduling.mark_no_show(current_user, appointment_id)
    except ServiceError as exc:
        view = visit_views.my_visit(current_user, appointment_id)
        return _render(view, refusal(exc), exc.status)
    return done("Marked as a no-show: the patient did not come.", "consult_pages.room", appointment_id=appointment_id)


@bp.post("/visits/<int:appointment_id>/token")
@page(roles=PROVIDERS)
def room_token(appointment_id: int):
    """The room's script fetches its Twilio token here (same origin, CSRF header), as the patient's does."""
    try:
        token, room_name, closes = scheduling.video_token(current_user, appointment_id)
    except ServiceError as exc:
        return jsonify(error_body(exc.code, exc.message)), exc.status
    return jsonify(token=token, room=room_name, expires_at=closes.isoformat())
