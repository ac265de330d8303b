"""Login sessions kept on the server: opened at login, checked on every request, ended by logout,
by inactivity (automatic logoff), by a password change or by deactivation.

Nothing here knows about cookies; `telehealth.sessions` carries the token in the Flask session.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import LoginSession, PhysicianProfile, User
from telehealth.tokens import new_token, token_hash

# last_seen_at is written at most this often: enough for a 15-minute idle limit, not a write per request.
TOUCH_EVERY = timedelta(seconds=30)


def idle_limit(user: User) -> timedelta:
    key = "STAFF_IDLE_TIMEOUT_MINUTES" if user.is_staff else "PATIENT_IDLE_TIMEOUT_MINUTES"
    return timedelta(minutes=current_app.config[key])


def open_session(user: User) -> str:
    """A new session for `user`; returns the token the client keeps."""
    token, hashed = new_token()
    db.session.add(LoginSession(token_hash=hashed, user_id=user.id))
    db.session.commit()
    return token


def resolve(token: str | None, *, activity: bool = True) -> tuple[User | None, bool]:
    """The user of an open session, and whether the session just ended for inactivity.
    `activity=False`: a page polling in the background (a live checklist) reads with the session but
    does not keep it alive, so automatic logoff still comes after the person stops using it."""
    if not token:
        return None, False
    # One statement for the session, its user and whichever profile the user has.
    user = joinedload(LoginSession.user)
    row = db.session.execute(
        select(LoginSession).where(LoginSession.token_hash == token_hash(token))
        .options(user.joinedload(User.patient_profile), user.joinedload(User.coach_profile),
                 user.joinedload(User.physician_profile).joinedload(PhysicianProfile.licenses))
    ).unique().scalar_one_or_none()
    if row is None or not row.is_open or not row.user.active:
        return None, False
    moment = now()
    if row.is_idle(moment, idle_limit(row.user)):
        row.end(moment, "idle")
        db.session.commit()
        return None, True
    if activity and moment - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = moment
        db.session.commit()
    return row.user, False


def end_session(token: str | None, reason: str = "logout") -> None:
    if not token:
        return
    row = db.session.get(LoginSession, token_hash(token))
    if row is not None:
        row.end(now(), reason)
        db.session.commit()


def end_all(user: User, reason: str) -> None:
    """End every open session of `user` (in the caller's transaction)."""
    db.session.execute(
        update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=now(), ended_reason=reason))
