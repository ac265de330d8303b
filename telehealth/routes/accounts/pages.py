"""The portal's account pages: sign in, sign out, and the idle-logoff keep-alive.

Each translates a form to the service the API's /auth endpoints call, and shows the same refusals.
"""
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from telehealth.errors import ServiceError
from telehealth.extensions import limiter
from telehealth.pages import form_body, page, refusal, safe_next
from telehealth.schemas.accounts.accounts import LoginIn
from telehealth.services.accounts import accounts
from telehealth.sessions import end_session, start_session

bp = Blueprint("accounts_pages", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def home_url() -> str:
    """Where a signed-in person starts: their own home page once it exists, else the start page."""
    if "home.index" in current_app.view_functions and not current_user.is_staff:
        return url_for("home.index")
    return "/"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@page(public=True)
def login():
    target = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or home_url())
    errors = None
    email = request.form.get("email", "")
    if request.args.get("signed_out") == "idle":
        flash("You were signed out after a period of inactivity, to keep your information private.", "info")
    if request.method == "POST":
        try:
            body = form_body(LoginIn)
            user = accounts.authenticate(body.email, body.password)
        except ServiceError as exc:
            errors = refusal(exc)
        else:
            start_session(user)
            return redirect(target or home_url())
    return render_template("accounts/login.html", errors=errors, email=email, next=target), (
        422 if errors and errors["code"] == "validation_error" else 401 if errors else 200)


@bp.post("/logout")
@page(public=True)
def logout():
    if current_user.is_authenticated:
        end_session()
    flash("You are signed out.", "success")
    return redirect(url_for("accounts_pages.login"))


@bp.post("/session/keepalive")
@page(public=True)
def keepalive():
    """"Stay signed in": any request counts as activity; 401 once the session has already ended."""
    if not current_user.is_authenticated:
        return Response(status=401)
    return Response(status=204)
