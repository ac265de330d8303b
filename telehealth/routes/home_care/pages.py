"""The patient's at-home session pages, on the services the API's /me/sessions routes call
(services/home_care/home_sessions.py):

- /sessions: every session (planned, in progress, done), and whether a new one can be planned;
- /sessions/new: plan one (the time read in the patient's own zone, the sitter);
- /sessions/<id>: before the start, the live checklist of every gate with the service's reason
  (htmx polls /sessions/<id>/checklist; without JavaScript, a Refresh link), the blood-pressure
  reading, the sitter and the check-in before, and Start (the service refuses it, naming every
  gate not passed); while it runs, a calm screen (what to expect, elapsed time, when to call for
  help, no driving) with "I'm done"; afterwards the check-in after the session and the next day,
  with side effects (the only way the API lets a patient report one).

Every refusal is the service's, shown next to the form it concerns.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict

from telehealth.clock import UTC, in_zone, now
from telehealth.errors import ServiceError, ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.models.home_care.home_sessions import TAKEN, BpBand, CheckInKind, CheckInStatus, SessionStatus
from telehealth.pages import done, form_body, local_time, page, refusal
from telehealth.policy import current_policy
from telehealth.schemas.home_care.home_sessions import BloodPressureIn, CheckInIn, SessionIn, SitterIn
from telehealth.services.home_care import home_sessions
from telehealth.services.home_care.session_gates import bp_bands_in_words
from telehealth.services.home_care.side_effects import COMMON_CHOICES
from telehealth.services.screening import crisis
from telehealth.sessions import BACKGROUND_HEADER

bp = Blueprint("home_care_pages", __name__)
PATIENT = (Role.PATIENT,)

# Each gate of services/home_care/session_gates.py by name; its reason is always the service's own.
GATE_NAMES = {
    "prescription": "Prescription",
    "medication_delivered": "Medication delivered",
    "interval": "Time since your last session",
    "within_prescription": "Sessions left on your prescription",
    "consult": "Physician follow-up",
    "consult_after_gap": "Recent visit",
    "adverse_event": "Side effects reviewed",
    "crisis_alert": "Messages answered",
    "pause": "Treatment not paused",
    "sitter": "Sitter with you",
    "blood_pressure": "Blood pressure",
}
# The gates the patient clears on this page, and where the form for each is.
YOURS = {"sitter": "sitter", "blood_pressure": "blood-pressure"}

STATUS_WORDS = {
    SessionStatus.SCHEDULED: "Planned",
    SessionStatus.STARTED: "In progress",
    SessionStatus.COMPLETED: "Done",
    SessionStatus.ENDED_EARLY: "Stopped early",
    SessionStatus.CANCELLED: "Cancelled",
    SessionStatus.MISSED: "Not held",
}
CHECK_IN_TITLES = {CheckInKind.PRE: "Check-in before your session", CheckInKind.POST: "Check-in after your session",
                   CheckInKind.NEXT_DAY: "Next-day check-in"}
KINDS = {k.value: k for k in CheckInKind}
# The fields a refusal may name, as the forms label them (the summary says which field each message is about).
FIELD_LABELS = {"scheduled_for": "Date and time", "sitter_name": "Their name", "sitter_phone": "Their phone number",
                "systolic": "Top number", "diastolic": "Bottom number", "confirmed": "Your sitter",
                "name": "Their name", "phone": "Their phone number", "mood": "Mood", "sleep_quality": "Sleep",
                "side_effects": "Side effects"}
# A refusal is summed up at the top of the page; its links lead to the fields of the form it concerns.
ERROR_PREFIX = {"bp": "field", "sitter": "sitter", "pre": "pre", "post": "post", "next_day": "next_day"}
BAND_NOTICE = {BpBand.GO: "success", BpBand.NO_GO: "warning", BpBand.URGENT: "error"}


# ----------------------------------------------------------------------------- helpers


def _zone() -> ZoneInfo:
    return ZoneInfo(current_user.time_zone)


def _local_input(moment: datetime) -> str:
    """A moment as a datetime-local input's value, in the patient's zone."""
    return in_zone(moment, current_user.time_zone).strftime("%Y-%m-%dT%H:%M")


def _moment_from_local(value: str) -> datetime | None:
    """A wall-clock date and time typed in the patient's zone ("2026-12-05T10:00", or with a space),
    as UTC; None when it is not one, or names a time the clocks skip that day."""
    try:
        naive = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return None
    local = naive.replace(tzinfo=_zone())
    try:
        if local.astimezone(UTC).astimezone(_zone()).replace(tzinfo=None) != naive:
            return None
        return local.astimezone(UTC)
    except OverflowError:  # a year at the edge of the calendar (9999-12-31T23:59 in a zone west of UTC)
        return None


def _without(*names: str) -> ImmutableMultiDict:
    return ImmutableMultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in names])


def _elapsed_words(delta: timedelta) -> str:
    """"12 minutes", "1 hour 5 minutes" (as static/js/session_timer.js writes it)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    words = []
    if hours:
        words.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        words.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(words)


def _instructions() -> dict[str, str]:
    """The service's instructions by part: before, during, after, and when to get help."""
    parts = {}
    for line in home_sessions.instructions().split("\n"):
        head, _, rest = line.partition(": ")
        key = head.lower() if head in ("Before", "During", "After") else "help"
        parts[key] = rest[:1].upper() + rest[1:] if key != "help" else line
    return parts


def _checklist_version(session, gates) -> str:
    """A digest of what the checklist shows: a poll that finds it unchanged swaps nothing (204)."""
    state = repr((session.status.value, [(g.id, g.ok, g.reason) for g in gates]))
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def _checklist_context(session, gates) -> dict:
    items = [{"id": g.id, "ok": g.ok, "reason": g.reason, "name": GATE_NAMES.get(g.id, g.id.replace("_", " ")),
              "form": YOURS.get(g.id)} for g in gates]
    items.sort(key=lambda item: item["ok"])  # what is still to do first, on a phone's first screen
    return {"gates": items, "ready": all(g.ok for g in gates), "blocked": [i for i in items if not i["ok"]],
            "version": _checklist_version(session, gates), "poll_header": BACKGROUND_HEADER}


def _session_context(session, gates, readings) -> dict:
    moment = now()
    check_ins = {c.kind: c for c in session.check_ins}
    latest = readings[-1] if readings else None
    next_day = check_ins.get(CheckInKind.NEXT_DAY)
    return {
        "session": session, "status_words": STATUS_WORDS[session.status], "check_ins": check_ins,
        "CheckInKind": CheckInKind, "CheckInStatus": CheckInStatus, "SessionStatus": SessionStatus,
        "titles": CHECK_IN_TITLES, "readings": readings, "latest": latest,
        "latest_advice": home_sessions.BP_ADVICE[latest.band] if latest else None,
        "band_notice": BAND_NOTICE, "bands": bp_bands_in_words(), "instructions": _instructions(),
        "policy": current_policy(), "choices": COMMON_CHOICES, "resources": crisis.RESOURCES,
        "taken": session.status in TAKEN,
        # the next-day check-in is asked from its time on (the text goes out then too)
        "next_day_due": next_day is not None and next_day.due_at <= moment,
        "elapsed": _elapsed_words(moment - session.started_at) if session.started_at else None,
        "elapsed_seconds": int((moment - session.started_at).total_seconds()) if session.started_at else 0,
        # taken today where the patient lives: no driving until tomorrow
        "session_day": session.started_at is not None and in_zone(session.started_at, current_user.time_zone).date()
        == in_zone(moment, current_user.time_zone).date(),
        "gate_names": GATE_NAMES,
        **(_checklist_context(session, gates) if session.status is SessionStatus.SCHEDULED else {}),
    }


def _render_session(session_id: int, *, errors=None, failed: str | None = None, status: int = 200):
    session, gates, readings = home_sessions.session_detail(current_user, session_id)
    context = _session_context(session, gates, readings)
    return render_template("home_care/session.html", errors=errors, failed=failed,
                           error_prefix=ERROR_PREFIX.get(failed or "", "field"), labels=FIELD_LABELS,
                           values=request.form if errors else {}, **context), status


def _refused(session_id: int, exc: ServiceError, failed: str):
    return _render_session(session_id, errors=refusal(exc), failed=failed, status=exc.status)


def _htmx_sign_in(fn):
    """A poll from a page whose sign-in has ended: send the whole page to the sign-in form (htmx
    follows HX-Redirect) rather than swap the sign-in form into the checklist."""
    @wraps(fn)
    def view(*args, **kwargs):
        if request.headers.get("HX-Request") and not current_user.is_authenticated:
            target = url_for("home_care_pages.session", session_id=kwargs.get("session_id"))
            return Response(status=204, headers={"HX-Redirect": url_for("accounts_pages.login", next=target)})
        return fn(*args, **kwargs)

    return view


# ----------------------------------------------------------------------------- the list and planning


@bp.get("/sessions")
@page(roles=PATIENT)
def sessions():
    rows = home_sessions.list_sessions(current_user, current_user.id)
    groups = {
        "now": [s for s in rows if s.status is SessionStatus.STARTED],
        "planned": sorted((s for s in rows if s.status is SessionStatus.SCHEDULED), key=lambda s: s.scheduled_for),
        "done": [s for s in rows if s.status in (SessionStatus.COMPLETED, SessionStatus.ENDED_EARLY)],
        "other": [s for s in rows if s.status in (SessionStatus.CANCELLED, SessionStatus.MISSED)],
    }
    moment = now()
    waiting = {s.id: [CHECK_IN_TITLES[c.kind] for c in s.check_ins if c.is_open and (
        c.kind is CheckInKind.POST or (c.kind is CheckInKind.NEXT_DAY and c.due_at <= moment))]
        for s in groups["done"]}
    blocked = home_sessions.scheduling_refusal(current_user)
    return render_template("home_care/sessions.html", groups=groups, status_words=STATUS_WORDS, waiting=waiting,
                           cannot_schedule=blocked.message if blocked else None)


@bp.route("/sessions/new", methods=["GET", "POST"])
@page(roles=PATIENT)
def schedule():
    errors = None
    values = dict(request.form)
    if request.method == "POST":
        raw = request.form.get("scheduled_for", "").strip()
        moment = _moment_from_local(raw) if raw else None
        try:
            problems: dict[str, list[str]] = {}
            try:
                body = form_body(SessionIn, extra={"scheduled_for": moment} if moment else None,
                                 form=_without("scheduled_for"))
            except ValidationFailed as exc:
                problems = dict(exc.fields)
            if raw and moment is None:
                problems["scheduled_for"] = ["Give a date and a time, such as 2026-12-05 10:00 (a time that "
                                             "exists on that day in your time zone)."]
            if problems:
                raise ValidationFailed("Some answers are missing or need a change; see the marked fields.",
                                       fields=problems)
            session = home_sessions.schedule_session(current_user, body.scheduled_for, body.sitter_name,
                                                     body.sitter_phone)
        except ServiceError as exc:
            errors = refusal(exc)
        else:
            return done(f"Session {session.number} is planned for {local_time(session.scheduled_for)}. On the day, "
                        "this page shows what is left to do before you start.", "home_care_pages.session",
                        session_id=session.id)
    blocked = home_sessions.scheduling_refusal(current_user)
    if request.method == "GET":
        previous = home_sessions.list_sessions(current_user, current_user.id)
        if previous:  # the sitter of the last session, to change if someone else comes
            values = {"sitter_name": previous[0].sitter_name, "sitter_phone": previous[0].sitter_phone}
    status = 200 if errors is None else (422 if errors["code"] == "validation_error" else 409)
    return render_template("home_care/schedule.html", errors=errors, values=values, labels=FIELD_LABELS,
                           cannot_schedule=blocked.message if blocked else None,
                           earliest=_local_input(now() + timedelta(minutes=5)), policy=current_policy(),
                           zone=current_user.time_zone), status


# ----------------------------------------------------------------------------- one session


@bp.get("/sessions/<int:session_id>")
@page(roles=PATIENT)
def session(session_id: int):
    return _render_session(session_id)


@bp.get("/sessions/<int:session_id>/checklist")
@_htmx_sign_in
@page(roles=PATIENT)
def checklist(session_id: int):
    """The checklist alone, for htmx's poll: 204 (nothing to swap) while it has not changed, a
    reload of the whole page once the session is no longer waiting to start."""
    if not request.headers.get("HX-Request"):  # opened by hand: the whole page
        return redirect(url_for("home_care_pages.session", session_id=session_id))
    session, gates, _ = home_sessions.session_detail(current_user, session_id)
    if session.status is not SessionStatus.SCHEDULED:
        return Response(status=204, headers={"HX-Refresh": "true"})
    context = _checklist_context(session, gates)
    if request.headers.get("X-Checklist-Version") == context["version"]:
        return Response(status=204)
    return render_template("home_care/_checklist.html", session=session, partial=True, **context)


@bp.post("/sessions/<int:session_id>/blood-pressure")
@page(roles=PATIENT)
def blood_pressure(session_id: int):
    try:
        body = form_body(BloodPressureIn)
        reading, band, advice = home_sessions.record_blood_pressure(current_user, session_id, body.systolic,
                                                                    body.diastolic, "app")
    except ServiceError as exc:
        return _refused(session_id, exc, "bp")
    flash(f"Reading {reading.systolic}/{reading.diastolic} saved. {advice}", BAND_NOTICE[band])
    return _back(session_id)


@bp.post("/sessions/<int:session_id>/sitter")
@page(roles=PATIENT)
def sitter(session_id: int):
    try:
        try:
            body = form_body(SitterIn, extra={"confirmed": True} if request.form.get("confirmed") else None,
                             form=_without("confirmed"))
        except ValidationFailed as exc:
            if "confirmed" in exc.fields:
                exc.fields["confirmed"] = ["Tick this box once your sitter is with you."]
            raise
        home_sessions.confirm_sitter(current_user, session_id, body.name, body.phone)
    except ServiceError as exc:
        return _refused(session_id, exc, "sitter")
    flash("Thank you: your sitter is confirmed.", "success")
    return _back(session_id)


@bp.post("/sessions/<int:session_id>/check-ins/<kind>")
@page(roles=PATIENT)
def check_in(session_id: int, kind: str):
    wanted = KINDS.get(kind)
    form_name = kind if wanted else "check-in"
    try:
        extra = None
        if wanted is not CheckInKind.PRE:
            effects = [v.strip() for v in request.form.getlist("side_effects") if v.strip()]
            other = request.form.get("side_effects_other", "").strip()
            extra = {"side_effects": effects + ([other] if other else [])}
        body = form_body(CheckInIn, extra=extra, form=_without("side_effects", "side_effects_other"))
        _, grade, advice = home_sessions.record_check_in(current_user, body.model_dump(exclude_none=True),
                                                         session_id=session_id, kind=kind, source="app")
    except ServiceError as exc:
        return _refused(session_id, exc, form_name)
    if home_sessions.shows_crisis_resources(advice):
        flash(advice, "crisis")
    else:
        flash(advice, {"serious": "error", "moderate": "warning"}.get(grade.value if grade else "", "success"))
    return _back(session_id)


@bp.post("/sessions/<int:session_id>/start")
@page(roles=PATIENT)
def start(session_id: int):
    try:
        home_sessions.start_session(current_user, session_id)
    except ServiceError as exc:
        return _refused(session_id, exc, "start")
    return done("Your session has started. Settle in; this page stays with you.", "home_care_pages.session",
                session_id=session_id)


@bp.post("/sessions/<int:session_id>/complete")
@page(roles=PATIENT)
def complete(session_id: int):
    try:
        home_sessions.complete_session(current_user, session_id)
    except ServiceError as exc:
        return _refused(session_id, exc, "complete")
    return done("Your session is over. Rest, and answer the check-in below when you feel ready.",
                "home_care_pages.session", session_id=session_id)


@bp.post("/sessions/<int:session_id>/cancel")
@page(roles=PATIENT)
def cancel(session_id: int):
    try:
        session = home_sessions.cancel_session(current_user, session_id)
    except ServiceError as exc:
        return _refused(session_id, exc, "cancel")
    return done(f"Session {session.number} is cancelled. You can plan another whenever you are ready.",
                "home_care_pages.sessions")


def _back(session_id: int):
    """Back to the session's page (POST, redirect, GET), its top: where the answer is flashed."""
    return redirect(url_for("home_care_pages.session", session_id=session_id))
