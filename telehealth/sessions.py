"""Login sessions over HTTP: Flask-Login wiring, session generations and automatic logoff.

A session cookie names the user and the generation (`session_version`) it was issued for; a
password change or deactivation bumps the generation and so ends every other session. Staff are
logged off after STAFF_IDLE_TIMEOUT_MINUTES without a request, patients after PATIENT_IDLE_TIMEOUT_MINUTES.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, session
from flask_login import current_user, login_user, logout_user

from telehealth.clock import now
from telehealth.extensions import db, login_manager
from telehealth.models.accounts import User

_LAST_ACTIVE = "last_active"


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    user_id, _, version = token.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def start_session(user: User) -> None:
    if hasattr(user, "_get_current_object"):  # `current_user` itself: store the user, not the proxy
        user = user._get_current_object()
    session.clear()  # no state carries over from before login (session fixation)
    login_user(user)
    session[_LAST_ACTIVE] = now().timestamp()


def end_session() -> None:
    logout_user()
    session.clear()


def _idle_limit(user: User) -> timedelta:
    minutes = current_app.config["STAFF_IDLE_TIMEOUT_MINUTES" if user.is_staff else "PATIENT_IDLE_TIMEOUT_MINUTES"]
    return timedelta(minutes=minutes)


def init_sessions(app: Flask) -> None:
    @app.before_request
    def _enforce_idle_logoff():
        if not current_user.is_authenticated:
            return
        moment = now().timestamp()
        last = session.get(_LAST_ACTIVE)
        if last is None or moment - float(last) > _idle_limit(current_user).total_seconds():
            end_session()
            g.session_expired = True
            return
        session[_LAST_ACTIVE] = moment
