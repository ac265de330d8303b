"""The patient's scheduling pages: their appointments, booking a consult or coaching (slots grouped
by day in their own zone), cancelling and moving (the late-cancellation terms shown before they
confirm), the .ics file, and the video room.

Each view calls the service the API's /appointments endpoints call, and shows its refusals in words.
Forms work without JavaScript; the room needs it (Twilio Video runs in the browser).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, render_template, request
from flask_login import current_user

from telehealth.errors import ServiceError, ValidationFailed, error_body
from telehealth.models.accounts.accounts import Role
from telehealth.pages import allow_csp, done, form_body, page, refusal
from telehealth.schemas.scheduling.scheduling import BookIn, CancelIn, RescheduleIn
from telehealth.services.scheduling import calendars, patient_views, scheduling

bp = Blueprint("scheduling_pages", __name__)
PATIENT = (Role.PATIENT,)
# Twilio Video's signalling, media and insights servers (twilio-video 2.x: wss://global.vss.twilio.com,
# wss://sdkgw.us1.twilio.com), and the blob: URLs a browser may give a media element.
TWILIO_CONNECT = ("https://*.twilio.com", "wss://*.twilio.com")


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.values.get(name, ""))
    except ValueError:
        return None


def _slot_picker(type_code: str) -> dict:
    week = patient_views.slot_week(current_user, type_code, _date_arg("start"), _date_arg("day"))
    return {"week": week, "chosen": request.form.get("slot", "")}


def _chosen_slot() -> dict:
    """The radio's value "<provider id>|<start>" as the API's fields (nothing when none was chosen)."""
    provider_id, _, starts_at = request.form.get("slot", "").partition("|")
    return {"provider_id": provider_id, "starts_at": starts_at} if provider_id and starts_at else {}


def _slot_body(model):
    try:
        return form_body(model, extra=_chosen_slot())
    except ValidationFailed as exc:
        if {"provider_id", "starts_at"} & {key.split(".")[0] for key in exc.fields}:
            raise ValidationFailed("Choose one of the times to go on.", fields={"slot": ["Choose a time."]}) from None
        raise


# ------------------------------------------------------------------ lists and one appointment


@bp.get("/appointments")
@page(roles=PATIENT)
def appointments():
    upcoming, past = patient_views.my_appointments(current_user)
    return render_template("scheduling/appointments.html", upcoming=upcoming, past=past)


@bp.get("/appointments/<int:appointment_id>")
@page(roles=PATIENT)
def appointment(appointment_id: int):
    return render_template("scheduling/appointment.html",
                           view=patient_views.my_appointment(current_user, appointment_id))


@bp.get("/appointments/<int:appointment_id>/calendar.ics")
@page(roles=PATIENT)
def calendar_file(appointment_id: int):
    booked = scheduling.read_appointment(current_user, appointment_id, as_file=True)
    return Response(calendars.appointment_ics(booked), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="appointment-{booked.id}.ics"'})


# ------------------------------------------------------------------ booking


@bp.route("/appointments/book", methods=["GET", "POST"])
@page(roles=PATIENT)
def book():
    choices = patient_views.booking_choices(current_user)
    type_code = request.values.get("type", "")
    choice = next((c for c in choices if c.kind.code == type_code), None)
    if choice is None:  # step 1: what kind of appointment
        if "type" not in request.values:
            return render_template("scheduling/book_type.html", choices=choices, errors=None)
        errors = refusal(ValidationFailed("Choose the kind of appointment.", fields={"type": ["Choose one."]}))
        return render_template("scheduling/book_type.html", choices=choices, errors=errors), 422
    errors, status = None, 200
    if request.method == "POST":
        try:
            body = _slot_body(BookIn)
            booked = scheduling.book(current_user, body.type, body.provider_id, body.starts_at)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            return done("Your appointment is booked. The details are below.", "scheduling_pages.appointment",
                        appointment_id=booked.id)
    picker = _slot_picker(choice.kind.code) if choice.reason is None else None
    return render_template("scheduling/book_slots.html", choice=choice, picker=picker, errors=errors), status


# ------------------------------------------------------------------ cancelling and moving


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
@page(roles=PATIENT)
def cancel(appointment_id: int):
    view = patient_views.my_appointment(current_user, appointment_id)
    errors, status = None, 200
    if request.method == "POST":
        try:
            body = form_body(CancelIn)
            cancelled = scheduling.cancel(current_user, appointment_id, accept_late=body.accept_late)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
            view = patient_views.my_appointment(current_user, appointment_id)  # the terms as they are now
        else:
            message = ("Your appointment is cancelled. As it was less than "
                       f"{view.terms.cutoff_hours} hours away, its credit was used."
                       if cancelled.late_cancellation else
                       "Your appointment is cancelled. Its credit is back in your account for another time.")
            return done(message, "scheduling_pages.appointments")
    return render_template("scheduling/cancel.html", view=view, errors=errors), status


@bp.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@page(roles=PATIENT)
def reschedule(appointment_id: int):
    view = patient_views.my_appointment(current_user, appointment_id)
    errors, status = None, 200
    if request.method == "POST":
        try:
            body = _slot_body(RescheduleIn)
            moved = scheduling.reschedule(current_user, appointment_id, body.starts_at, body.provider_id)
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            return done("Your appointment has moved to the new time. The details are below.",
                        "scheduling_pages.appointment", appointment_id=moved.id)
    picker = _slot_picker(view.kind.code) if view.terms.can_reschedule else None
    return render_template("scheduling/reschedule.html", view=view, picker=picker, errors=errors), status


# ------------------------------------------------------------------ the video room


@bp.get("/appointments/<int:appointment_id>/room")
@page(roles=PATIENT)
def room(appointment_id: int):
    view = patient_views.my_appointment(current_user, appointment_id)
    if view.room == "open":
        allow_csp(connect=TWILIO_CONNECT, media=["blob:"])
    return render_template("scheduling/room.html", view=view)


@bp.post("/appointments/<int:appointment_id>/room/token")
@page(roles=PATIENT)
def room_token(appointment_id: int):
    """The room's script fetches its Twilio token here (same origin, CSRF header): the API's
    video-token service, its refusal as JSON."""
    try:
        token, room_name, closes = scheduling.video_token(current_user, appointment_id)
    except ServiceError as exc:
        return jsonify(error_body(exc.code, exc.message)), exc.status
    return jsonify(token=token, room=room_name, expires_at=closes.isoformat())
