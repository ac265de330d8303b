"""The portal's coaching pages: the patient's coaching sessions with their coach's summaries, and the
integration journal (write, edit, share with the coach or not, delete).

Each view calls the service the API calls (services/care/coaching.py for GET /api/v1/me/coaching,
services/care/journal.py for /api/v1/me/journal) and shows its refusals in words.
"""
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from telehealth.errors import ServiceError, ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal
from telehealth.schemas.care.journal import JournalEntryEditIn, JournalEntryIn
from telehealth.services.care import coaching, journal

bp = Blueprint("coaching_pages", __name__)
PATIENT = (Role.PATIENT,)
# the entry whose words showed the crisis path, kept in the session across the redirect after saving
_CRISIS_KEY = "journal_crisis_entry"


def _status(errors: dict) -> int:
    return 422 if errors["code"] == "validation_error" else 409


@bp.get("/coaching")
@page(roles=PATIENT)
def index():
    past, upcoming = coaching.my_coaching(current_user)
    return render_template("care/coaching.html", past=past, upcoming=upcoming)


def _journal_context(**extra) -> dict:
    return {"sessions": journal.taken_sessions(current_user), "coaches": journal.coaches_of(current_user),
            "max_body": journal.MAX_BODY, **extra}


@bp.get("/journal", endpoint="journal")
@page(roles=PATIENT)
def journal_index():
    rows = journal.my_entries(current_user)
    return render_template("care/journal.html", entries=rows, numbers=journal.session_numbers(rows),
                           **_journal_context())


@bp.route("/journal/new", methods=["GET", "POST"])
@page(roles=PATIENT)
def new_entry():
    errors, values = None, {}
    if request.method == "POST":
        values = request.form
        try:
            body = form_body(JournalEntryIn)
            saved = journal.write(current_user, body.body, session_id=body.session_id)
        except ServiceError as exc:
            errors = refusal(exc)
        else:
            return _after_save(saved, "Saved. Only you can read this entry unless you share it.")
    return render_template("care/journal_new.html", errors=errors, values=values,
                           **_journal_context()), _status(errors) if errors else 200


def _after_save(saved, message: str):
    if saved.crisis:  # the help lines come first on the next page, before any other word
        session[_CRISIS_KEY] = saved.entry.id
        return redirect(url_for("coaching_pages.entry", entry_id=saved.entry.id))
    return done(message, "coaching_pages.entry", entry_id=saved.entry.id)


def _crisis_for(entry_id: int):
    """The crisis help to show first, once, on the page after an entry with crisis words was saved."""
    if session.get(_CRISIS_KEY) != entry_id:
        return None
    session.pop(_CRISIS_KEY, None)
    return journal.crisis_help()


@bp.route("/journal/<int:entry_id>", methods=["GET", "POST"])
@page(roles=PATIENT)
def entry(entry_id: int):
    """One entry: read and edit it, share it or not, delete it."""
    errors, values = None, None
    if request.method == "POST":
        values = request.form
        extra = {"session_id": None} if request.form.get("session_id", "").strip() == "" else {}
        try:
            body = form_body(JournalEntryEditIn, extra=extra)
            if body.body is None:
                raise ValidationFailed("Some answers are missing or need a change; see the marked fields.",
                                       fields={"body": ["Write something, or delete the entry."]})
            saved = journal.edit(current_user, entry_id, body=body.body, session_id=body.session_id)
        except ServiceError as exc:
            if exc.status == 404:
                raise
            errors = refusal(exc)
        else:
            return _after_save(saved, "Saved.")
    row = journal.entry(current_user, entry_id)
    return render_template("care/journal_entry.html", entry=row, errors=errors, values=values,
                           numbers=journal.session_numbers([row]), crisis_help=_crisis_for(entry_id),
                           **_journal_context()), _status(errors) if errors else 200


@bp.post("/journal/<int:entry_id>/share")
@page(roles=PATIENT)
def share(entry_id: int):
    journal.share(current_user, entry_id)
    return done("Shared with your coach. You can make it private again at any time.", "coaching_pages.entry",
                entry_id=entry_id)


@bp.post("/journal/<int:entry_id>/unshare")
@page(roles=PATIENT)
def unshare(entry_id: int):
    journal.unshare(current_user, entry_id)
    return done("Private again: only you can read this entry.", "coaching_pages.entry", entry_id=entry_id)


@bp.post("/journal/<int:entry_id>/delete")
@page(roles=PATIENT)
def delete(entry_id: int):
    if request.form.get("confirm") != "yes":
        abort(400)
    journal.delete(current_user, entry_id)
    return done("The entry is deleted.", "coaching_pages.journal")
