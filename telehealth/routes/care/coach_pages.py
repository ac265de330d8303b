"""The integration coach's pages: the day (a coach's start page), their patients, one patient as a
coach may see them, and the note editor after a session.

Each view calls the services the API calls (services/care/coaching.py for the notes, journal.py for
shared entries, timeline.py for the coach's view of the timeline) through the coach's desk
(services/care/coach_desk.py), and shows their refusals in words. Coaches only: anyone else gets
the 403 page (`@page`).
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from telehealth.clock import now
from telehealth.errors import ServiceError, ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal
from telehealth.schemas.care.coaching import CoachingNoteIn
from telehealth.services.care import coach_desk, coaching, journal, timeline

bp = Blueprint("coach_pages", __name__)
COACH = (Role.COACH,)
TIMELINE_PAGE = 20
# how each part of the note is called on the page (the error summary names the field)
NOTE_LABELS = {"private_note": "Private note", "patient_summary": "Summary for the patient"}


def ago(moment: datetime | None) -> str:
    """How long ago, as a person says it between sessions: "just now", "12 min ago", "2 h ago", "3 days ago"."""
    if moment is None:
        return ""
    seconds = max(0, int((now() - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return "1 day ago" if days == 1 else f"{days} days ago"


@bp.get("/coach")
@page(roles=COACH)
def day():
    return render_template("care/coach_day.html", day=coach_desk.coach_day(current_user), ago=ago)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


@bp.route("/coach/patients", methods=["GET", "POST"])
@page(roles=COACH)
def patients():
    """The list; a search comes by POST (its words never in the address, see macros page_link)."""
    source = request.form if request.method == "POST" else request.args
    query = request.form.get("q", "") if request.method == "POST" else ""
    errors = None
    try:
        listing = coach_desk.my_patients(current_user, query=query, page=_page_number(source.get("page")))
    except ServiceError as exc:
        errors = refusal(exc)
        listing = coach_desk.my_patients(current_user)
    return render_template("care/coach_patients.html", listing=listing, errors=errors, query=query), \
        422 if errors else 200


@bp.get("/coach/patients/<int:patient_id>")
@page(roles=COACH)
def patient(patient_id: int):
    who = coach_desk.patient_for_coach(current_user, patient_id)
    entries = journal.shared_with_coach(current_user, patient_id)
    timeline_note = None
    try:
        events = timeline.patient_timeline(current_user, patient_id, before=request.args.get("before") or None,
                                           limit=TIMELINE_PAGE)
    except ValidationFailed:  # a mistyped or cut link to an older page: the newest events instead
        timeline_note = "That link to older events did not work, so the newest events are shown."
        events = timeline.patient_timeline(current_user, patient_id, limit=TIMELINE_PAGE)
    return render_template(
        "care/coach_patient.html", patient=who,
        sessions=coach_desk.sessions_and_moods(current_user, patient_id),
        history=coach_desk.coaching_history(current_user, patient_id),
        entries=entries, numbers=journal.session_numbers(entries), events=events, timeline_note=timeline_note,
        now=now(), ago=ago)


@bp.route("/coach/sessions/<int:appointment_id>/note", methods=["GET", "POST"])
@page(roles=COACH)
def note(appointment_id: int):
    """Write the session's note once it has started; edit it until the window closes."""
    errors, values = None, None
    if request.method == "POST":
        values = request.form
        editor = coach_desk.note_editor(current_user, appointment_id)
        try:
            body = form_body(CoachingNoteIn)
            if editor.note is None:
                coaching.write_note(current_user, appointment_id, body.private_note, body.patient_summary)
                return done("Note saved. The patient can read the summary on their Coaching page.",
                            "coach_pages.note", appointment_id=appointment_id)
            changed = {name: getattr(body, name) for name in NOTE_LABELS
                       if getattr(body, name) != getattr(editor.note, name)}
            if not changed:
                flash("Nothing changed: the note is as it was.", "info")
                return redirect(url_for("coach_pages.note", appointment_id=appointment_id))
            saved = coaching.edit_note(current_user, editor.note.id, **changed)
            return done(f"Note saved: revision {saved.revision}.", "coach_pages.note", appointment_id=appointment_id)
        except ServiceError as exc:
            if exc.status in (403, 404):
                raise
            errors = refusal(exc)
    editor = coach_desk.note_editor(current_user, appointment_id)
    return render_template("care/coach_note.html", editor=editor, errors=errors, values=values, labels=NOTE_LABELS,
                           max_private=coaching.MAX_PRIVATE, max_summary=coaching.MAX_SUMMARY, ago=ago), \
        (422 if errors["code"] == "validation_error" else 409) if errors else 200
