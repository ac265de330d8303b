"""The portal's page plumbing, shared by every domain's page blueprint (as `api.py` is by the API).

A page view is a plain Flask view under `@page(...)`: it reads a form into the same pydantic schema
the API uses (`form_body`), calls the same service, and renders a template. A `ServiceError` the
view does not catch is shown by `errors.py` as a page in words, with the same message the API gives;
a view that shows a form catches it and re-renders the form with `refusal(exc)`.

- `page(roles=..., public=...)`: signs the visitor in first (redirect to /login?next=<path>), says
  when they were signed out for inactivity, and refuses other roles with 403.
- `form_body(Model)`: request.form -> Model, or ValidationFailed with the API's field messages.
- `allow_csp(script=..., connect=..., frame=...)`: outside origins this one page may use (Stripe.js on
  the payment page, Twilio in the video room); every other page loads from the app alone.
- `safe_next(url)`: a same-site path to return to after signing in, never another site.
"""
from __future__ import annotations

import types
import typing
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from telehealth.clock import now
from telehealth.errors import Forbidden, ServiceError, ValidationFailed

LOGIN_ENDPOINT = "accounts_pages.login"


def page(*, roles: Iterable[Any] | None = None, public: bool = False) -> Callable:
    """A portal page. `public`: anyone may open it; otherwise the visitor must be signed in, and
    with `roles` must hold one of them."""
    allowed = tuple(roles) if roles else None

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def view(*args, **kwargs):
            if not public:
                if not current_user.is_authenticated:
                    if g.get("session_expired"):
                        flash("You were signed out after a period of inactivity. Sign in again to go on.",
                              "info")
                    return redirect(url_for(LOGIN_ENDPOINT, next=request.path))
                if allowed and current_user.role not in allowed:
                    raise Forbidden("This page is not part of your account.")
                if must_enrol_first():
                    return redirect(url_for(ENROL_ENDPOINT))
            return fn(*args, **kwargs)

        view.page_spec = {"public": public, "roles": allowed}  # type: ignore[attr-defined]
        return view

    return decorate


# A physician or admin without a second factor is sent to set one up from every staff page but these
# (and the enrolment pages themselves): signing out, and their account.
ENROL_ENDPOINT = "two_factor_pages.enrol"
BEFORE_ENROLMENT = frozenset({"accounts_pages.logout", "accounts_pages.account", "accounts_pages.change_password"})


def must_enrol_first() -> bool:
    from flask import current_app

    if not current_user.is_staff or request.blueprint == ENROL_ENDPOINT.split(".")[0]:
        return False
    if request.endpoint in BEFORE_ENROLMENT or ENROL_ENDPOINT not in current_app.view_functions:
        return False
    from telehealth.services.accounts import two_factor

    return two_factor.needs_enrolment(current_user)


def _wants_list(annotation) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_wants_list(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set)


def form_values(model: type[BaseModel], form=None) -> dict[str, Any]:
    """The model's fields from a submitted form: empty inputs count as not given, and a field
    declared as a list takes every value of its name (a group of checkboxes)."""
    form = request.form if form is None else form
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if _wants_list(field.annotation):
            values = [v for v in form.getlist(key) if v.strip() != ""]
            if values or key in form:
                data[key] = values
        elif key in form and form[key].strip() != "":
            data[key] = form[key]
    return data


def form_body(model: type[BaseModel], extra: dict[str, Any] | None = None, form=None) -> BaseModel:
    """Validate a submitted form with the API's schema: the same rules and the same messages."""
    from telehealth.api import field_errors

    data = form_values(model, form)
    data.update(extra or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("Some answers are missing or need a change; see the marked fields.",
                               fields=field_errors(exc)) from None


def refusal(exc: ServiceError) -> dict[str, Any]:
    """What a form template shows for a refusal: the message, and each field's messages."""
    fields = {key.split(".")[0]: messages for key, messages in exc.fields.items()}
    return {"message": exc.message, "fields": fields, "code": exc.code}


def safe_next(target: str | None, default: str) -> str:
    """A path on this site to go to after signing in; anything else (another host, a scheme, a
    protocol-relative URL, a backslash trick) falls back to `default`."""
    if not target:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default  # a line break cannot go into a Location header
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def allow_csp(*, script: Iterable[str] = (), connect: Iterable[str] = (), frame: Iterable[str] = (),
              media: Iterable[str] = ()) -> None:
    """Let this page's policy name outside origins (Stripe.js, Twilio Video); see security_headers."""
    extra = g.setdefault("csp_extra", {})
    for kind, origins in (("script", script), ("connect", connect), ("frame", frame), ("media", media)):
        for origin in origins:
            if origin and origin not in extra.setdefault(kind, []):
                extra[kind].append(origin)


def done(message: str, endpoint: str, **values) -> Any:
    """After a form succeeds: say so on the next page (POST, redirect, GET)."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def not_found() -> None:
    abort(404)


__all__ = ["page", "form_body", "form_values", "refusal", "safe_next", "allow_csp", "done", "not_found",
           "ServiceError"]


# ----------------------------------------------------------------------------- layout context

# The patient's main navigation, in order; an item shows once its page exists (issues add pages).
PATIENT_NAV = (
    ("home.index", "Home"),
    ("scheduling_pages.appointments", "Appointments"),
    ("home_care_pages.sessions", "Sessions"),
    ("pharmacy_pages.medication", "Medication"),
    ("coaching_pages.index", "Coaching"),
    ("screening_pages.progress", "Progress"),
    ("billing_pages.orders", "Billing"),
    ("accounts_pages.account", "Account"),
)
# The care team's navigation by role (issue 15 adds these pages; ops and admin consoles follow).
PHYSICIAN_NAV = (
    ("today_pages.today", "Today"),
    ("review_pages.queue", "Reviews"),
    ("chart_pages.patients", "Patients"),
    ("calendar_pages.calendar", "Calendar"),
    ("calendar_pages.on_call", "On call"),
    ("accounts_pages.account", "Account"),
)
COACH_NAV = (
    ("coach_pages.day", "Today"),
    ("coach_pages.patients", "Patients"),
    ("calendar_pages.calendar", "Calendar"),
    ("calendar_pages.on_call", "On call"),
    ("accounts_pages.account", "Account"),
)
STAFF_NAV = {"physician": PHYSICIAN_NAV, "coach": COACH_NAV}
# Where each role starts after signing in (the first page of its navigation that exists).
HOME_ENDPOINTS = {"patient": ("home.index",), "physician": ("today_pages.today",), "coach": ("coach_pages.day",)}
VISITOR_NAV = (
    ("screening_pages.start", "Free screening"),
    ("accounts_pages.login", "Sign in"),
)


def _role_name(user) -> str:
    role = getattr(user, "role", None)
    return getattr(role, "value", str(role))


def home_endpoint(user) -> str | None:
    """The endpoint a signed-in person starts at, or None while their role has no page yet."""
    from flask import current_app

    for endpoint in HOME_ENDPOINTS.get(_role_name(user), ()):
        if endpoint in current_app.view_functions:
            return endpoint
    return None


def nav_items() -> list[dict[str, Any]]:
    from flask import current_app

    if current_user.is_authenticated:
        entries = PATIENT_NAV if not current_user.is_staff else STAFF_NAV.get(_role_name(current_user), ())
    else:
        entries = VISITOR_NAV
    here = request.endpoint
    return [{"url": url_for(endpoint), "label": label, "current": endpoint == here}
            for endpoint, label in entries if endpoint in current_app.view_functions]


def _layout_context() -> dict[str, Any]:
    from flask import current_app

    idle = 0
    if current_user.is_authenticated:
        from telehealth.services.accounts.login_sessions import idle_limit

        idle = int(idle_limit(current_user).total_seconds())
    # Titles end in the program's discreet name (the one texts use, checked to say nothing clinical):
    # a browser's history, tabs and bookmarks are seen by others.
    return {"clinic_name": current_app.config["CLINIC_NAME"], "title_name": current_app.config["SMS_PROGRAM_NAME"],
            "nav_items": nav_items,
            "view_names": current_app.view_functions, "idle_seconds": idle,
            "idle_warning_seconds": current_app.config["IDLE_WARNING_SECONDS"]}


def viewer_zone() -> str:
    """The zone times are shown in: the signed-in person's own, else the browser's US Eastern default."""
    if getattr(current_user, "is_authenticated", False):
        return current_user.time_zone
    return "America/New_York"


def local_time(moment, style: str = "datetime") -> str:
    """A UTC moment in the viewer's zone, in words a person reads: "Thu, Dec 3, 2:30 PM EST"
    (style "datetime"), "Thursday, December 3" ("day"), "2:30 PM" ("time") or "Dec 3, 2026" ("date")."""
    from datetime import date, datetime

    from telehealth.clock import in_zone

    if moment is None:
        return ""
    if isinstance(moment, date) and not isinstance(moment, datetime):
        return f"{moment:%b} {moment.day}, {moment.year}"
    local = in_zone(moment, viewer_zone())
    clock = f"{local.hour % 12 or 12}:{local:%M} {local:%p}"
    if style == "time":
        return clock
    if style == "day":
        return f"{local:%A, %B} {local.day}"
    if style == "date":
        return f"{local:%b} {local.day}, {local.year}"
    return f"{local:%a, %b} {local.day}, {clock} {local.tzname()}"


def money(cents: int | None, currency: str = "usd") -> str:
    """Integer cents as dollars (19900 -> "$199.00"), as on receipts; empty for none."""
    from telehealth.services.platform.documents import format_cents

    return "" if cents is None else format_cents(cents)


def init_pages(app) -> None:
    app.context_processor(_layout_context)
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(money, "money")


# ----------------------------------------------------------------------------- time in words (staff pages)
# One wording for ages, SLA time left and due times (the Today page, the review queue; the scripts
# static/js/today_clock.js and sla_countdown.js count on in the same words while a page stays open).

def _minutes_words(minutes: int) -> str:
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def ago(moment: datetime | None, at: datetime | None = None) -> str:
    """How long ago, in words: "just now", "12 min ago", "3 h 5 min ago", "4 days ago"
    (static/js/today_clock.js says the same as the page stays open)."""
    if moment is None:
        return ""
    minutes = int(((at or now()) - moment).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{_minutes_words(minutes)} ago"


def sla_words(seconds: int | None) -> str:
    """A review's time left: "5 h 12 min left", "overdue by 20 min" (the script counts down the same)."""
    if seconds is None:
        return "no deadline"
    if seconds < 0:
        return f"overdue by {_minutes_words(int(-seconds // 60))}"
    return f"{_minutes_words(int(seconds // 60))} left"


def due_words(moment: datetime, at: datetime) -> str:
    """When a work-list reason became due: "due 3 days ago", "due in 2 h", "due now"."""
    delta = moment - at
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 1:
        return "due now"
    return f"due in {_minutes_words(minutes)}" if delta > timedelta(0) else f"due {_minutes_words(minutes)} ago"
