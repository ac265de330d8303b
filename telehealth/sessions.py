"""Login sessions over HTTP: the Flask session cookie carries a server-side session token.

The cookie is signed (SECRET_KEY), HttpOnly and SameSite; what it proves is checked against the
`login_sessions` table on every request, so logout, automatic logoff, a password change or a
deactivation end a session for every copy of its cookie. See services/accounts/login_sessions.py.
"""
from __future__ import annotations

from flask import g, request, session
from flask_login import login_user, logout_user

from telehealth.extensions import login_manager
from telehealth.models.accounts.accounts import User
from telehealth.services.accounts import login_sessions

_TOKEN = "sid"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user, expired = login_sessions.resolve(session.get(_TOKEN), activity=not background_request())
    if expired:
        g.session_expired = True
    if user is None or str(user.id) != user_id:
        session.clear()
        return None
    return user


BACKGROUND_HEADER = "X-Background-Poll"


def background_request() -> bool:
    """A request a page makes by itself (htmx polling sends this header: `hx-headers`), not the
    person: it does not count as activity for the automatic logoff."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


def start_session(user: User) -> None:
    if hasattr(user, "_get_current_object"):  # `current_user` itself: store the user, not the proxy
        user = user._get_current_object()
    session.clear()  # no state carries over from before login (session fixation)
    login_user(user)
    session[_TOKEN] = login_sessions.open_session(user)


def end_session() -> None:
    login_sessions.end_session(session.get(_TOKEN))
    logout_user()
    session.clear()
