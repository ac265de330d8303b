"""The care team's calendar pages (physicians and coaches): the week's appointments in their own
zone, the weekly availability as an editable grid, exceptions (time off, extra hours), the private
calendar feed, and the on-call rota.

Each view calls the services the API's /me/availability and /me/calendar-feed endpoints call, and
shows their refusals in words. Every form works without JavaScript.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from pydantic import ValidationError

from telehealth.api import field_errors
from telehealth.errors import NotFound, ServiceError, ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal
from telehealth.schemas.scheduling.scheduling import ExceptionIn, WindowIn
from telehealth.services.scheduling import calendars, provider_views, scheduling

bp = Blueprint("calendar_pages", __name__)
PROVIDERS = (Role.PHYSICIAN, Role.COACH)
ROOM_ENDPOINT = "consult_pages.room"


def _week_arg() -> date | None:
    try:
        return date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        return None


def _page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _room_endpoint() -> str | None:
    """The video room's page, when it exists and the viewer's role may open it."""
    view = current_app.view_functions.get(ROOM_ENDPOINT)
    roles = getattr(view, "page_spec", {}).get("roles") if view else None
    return ROOM_ENDPOINT if view and (roles is None or current_user.role in roles) else None


# ------------------------------------------------------------------ the week


@bp.get("/calendar")
@page(roles=PROVIDERS)
def calendar():
    week = provider_views.calendar_week(current_user, _week_arg())
    return render_template("scheduling/calendar/week.html", week=week, room_endpoint=_room_endpoint())


# ------------------------------------------------------------------ the weekly grid


def _grid_refusal(rows: list[provider_views.GridRow]) -> tuple[list[tuple[int, int, int | None]], dict]:
    """The submitted grid as the service's windows (weekday, start, end) with where each came from
    (weekday, n), and the per-window messages of the schema (key `w<weekday>-<n>`)."""
    windows, origins, fields = [], [], {}
    for row in rows:
        if row.off:
            continue
        for n, cell in enumerate(row.windows):
            if not (cell.start or cell.end):
                continue
            key = f"w{row.weekday}-{n}"
            if not (cell.start and cell.end):
                fields[key] = ["Give both a start and an end time, or neither."]
                continue
            try:
                parsed = WindowIn.model_validate({"weekday": row.weekday, "start_time": cell.start,
                                                  "end_time": cell.end})
            except ValidationError as exc:
                fields[key] = [message for messages in field_errors(exc).values() for message in messages][:1]
                continue
            windows.append((parsed.weekday, parsed.start_time, parsed.end_time))
            origins.append(key)
    return list(zip(windows, origins)), fields


def _row_messages(fields: dict[str, list[str]]) -> dict[int, list[str]]:
    """Each weekday's messages in words, "Hours 2: End after start.", for the row's own error line."""
    found: dict[int, list[str]] = {}
    for key, messages in fields.items():
        weekday, n = (int(part) for part in key[1:].split("-"))
        found.setdefault(weekday, []).extend(f"Hours {n + 1}: {m}" for m in messages)
    return found


@bp.route("/calendar/availability", methods=["GET", "POST"])
@page(roles=PROVIDERS)
def availability():
    rows = provider_views.availability_grid(current_user)
    errors, status = None, 200
    if request.method == "POST":
        rows = provider_views.grid_from_form(request.form, rows)
        pairs, fields = _grid_refusal(rows)
        try:
            if fields:
                raise ValidationFailed("Some hours need a change; nothing was saved.", fields=fields)
            try:
                scheduling.set_weekly_windows(current_user, [w for w, _ in pairs])
            except ValidationFailed as exc:  # keys `windows.<i>`: back to the row and window they came from
                mapped = {}
                for key, messages in exc.fields.items():
                    index = key.split(".")[1] if "." in key else ""
                    if index.isdigit() and int(index) < len(pairs):
                        mapped.setdefault(pairs[int(index)][1], []).extend(messages)
                raise ValidationFailed(f"{exc.message} Nothing was saved.", fields=mapped) from None
        except ServiceError as exc:
            errors, status = refusal(exc), exc.status
        else:
            return done("Your weekly hours are saved. Patients see the new times when they book.",
                        "calendar_pages.availability")
    labels = {f"w{row.weekday}-{n}": f"{row.name}, hours {n + 1}" for row in rows for n in range(len(row.windows))}
    return render_template("scheduling/calendar/availability.html", rows=rows, errors=errors, labels=labels,
                           row_messages=_row_messages(errors["fields"]) if errors else {}), status


# ------------------------------------------------------------------ exceptions


def _exceptions_page(errors=None, status: int = 200, values=None):
    return render_template("scheduling/calendar/exceptions.html",
                           listing=provider_views.upcoming_exceptions(current_user, _page_arg()),
                           errors=errors, values=values or {}), status


@bp.get("/calendar/exceptions")
@page(roles=PROVIDERS)
def exceptions():
    return _exceptions_page()


@bp.post("/calendar/exceptions")
@page(roles=PROVIDERS)
def add_exception():
    try:
        body = form_body(ExceptionIn)
        scheduling.add_exception(current_user, body.day, body.kind, body.start_time, body.end_time)
    except ServiceError as exc:
        return _exceptions_page(refusal(exc), exc.status, request.form)
    words = "Time off" if body.kind == "off" else "Extra hours"
    return done(f"{words} added for {body.day:%A, %B} {body.day.day}.", "calendar_pages.exceptions")


@bp.post("/calendar/exceptions/<int:exception_id>/remove")
@page(roles=PROVIDERS)
def remove_exception(exception_id: int):
    scheduling.remove_exception(current_user, exception_id)
    return done("Removed. Your weekly hours apply again on that day.", "calendar_pages.exceptions")


# ------------------------------------------------------------------ the private calendar feed


def _feed_page(url: str | None = None, replaced: bool = False):
    return render_template("scheduling/calendar/feed.html", url=url, replaced=replaced,
                           created_at=provider_views.feed_created_at(current_user))


@bp.get("/calendar/feed")
@page(roles=PROVIDERS)
def feed():
    return _feed_page()


@bp.post("/calendar/feed")
@page(roles=PROVIDERS)
def create_feed():
    """A new feed address, shown on this response only (it is kept as a hash): no redirect that
    would carry it in a URL or a cookie."""
    replaced = provider_views.feed_created_at(current_user) is not None
    token = calendars.create_feed(current_user)
    return _feed_page(f"{current_app.config['PUBLIC_BASE_URL']}/calendar/feeds/{token}.ics", replaced)


@bp.post("/calendar/feed/revoke")
@page(roles=PROVIDERS)
def revoke_feed():
    try:
        calendars.revoke_feed(current_user)
    except NotFound:  # sent twice: say so plainly
        return done("Your calendar feed is already off.", "calendar_pages.feed")
    return done("Your calendar feed is turned off: calendars that used its address stop updating.",
                "calendar_pages.feed")


# ------------------------------------------------------------------ on call


@bp.get("/on-call")
@page(roles=PROVIDERS)
def on_call():
    return render_template("scheduling/calendar/on_call.html", view=provider_views.on_call_rota())
