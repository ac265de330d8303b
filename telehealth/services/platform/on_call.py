"""The on-call rota: admin says which physician is on call from when to when, at which phone; the
rest of the code asks who is on call now and who is next.

Shifts are half-open [starts_at, ends_at) and never overlap (one person is on call at a time, so a
page always has one first recipient): a shift overlapping another is refused with a 409. Ending a
shift keeps it as history (it ends now); a shift that has not started yet is deleted. With nobody
on call, urgent alerts page every active physician and ON_CALL_FALLBACK_PHONE
(services/messaging/notifications.py) and /readyz reports `degraded`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telehealth.clock import now, overlaps
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PhysicianProfile, Role, User
from telehealth.models.platform.alerts import OnCallShift
from telehealth.services.platform import audit

# A listing covers at most this much (a quarter): the rota is read a few weeks at a time.
MAX_LIST_DAYS = 92
DEFAULT_LIST_DAYS = 14


def _active_shifts():
    return select(OnCallShift).join(User, User.id == OnCallShift.physician_id).where(User.active.is_(True))


def on_call_at(at: datetime | None = None) -> list[OnCallShift]:
    """The shifts under way at `at` (now by default) of physicians still active: one, or none."""
    at = at or now()
    return list(db.session.scalars(_active_shifts().where(OnCallShift.starts_at <= at, OnCallShift.ends_at > at)
                                   .order_by(OnCallShift.starts_at)))


def is_on_call(user: User, at: datetime | None = None) -> bool:
    return any(shift.physician_id == user.id for shift in on_call_at(at))


def next_shift(at: datetime | None = None) -> OnCallShift | None:
    """The first shift (of an active physician) starting after `at`: who takes over next."""
    at = at or now()
    return db.session.scalar(_active_shifts().where(OnCallShift.starts_at > at)
                             .order_by(OnCallShift.starts_at).limit(1))


def who_is_on_call() -> tuple[list[OnCallShift], OnCallShift | None]:
    """The shift under way now (none: nobody is on call) and the next one."""
    at = now()
    return on_call_at(at), next_shift(at)


def fallback_phone() -> str | None:
    return current_app.config.get("ON_CALL_FALLBACK_PHONE")


def list_shifts(since: datetime | None, until: datetime | None) -> list[OnCallShift]:
    """Shifts overlapping [since, until): by default the next two weeks from now."""
    since = since or now()
    until = until or since + timedelta(days=DEFAULT_LIST_DAYS)
    if until <= since:
        raise ValidationFailed("Some fields are missing or invalid.", fields={"until": ["Must be after since."]})
    if until - since > timedelta(days=MAX_LIST_DAYS):
        raise ValidationFailed("Some fields are missing or invalid.",
                               fields={"until": [f"List at most {MAX_LIST_DAYS} days at a time."]})
    return list(db.session.scalars(select(OnCallShift).where(
        overlaps(OnCallShift.starts_at, OnCallShift.ends_at, since, until)).order_by(OnCallShift.starts_at)))


def _overlapping(starts_at: datetime, ends_at: datetime) -> OnCallShift | None:
    return db.session.scalar(select(OnCallShift).where(
        overlaps(OnCallShift.starts_at, OnCallShift.ends_at, starts_at, ends_at)).order_by(OnCallShift.starts_at)
        .limit(1))


def create_shift(actor: User | None, physician_id: int, starts_at: datetime, ends_at: datetime,
                 phone: str | None = None) -> OnCallShift:
    """Put a physician on call over [starts_at, ends_at) at `phone` (default: their own phone)."""
    physician = db.session.get(User, physician_id)
    errors: dict[str, list[str]] = {}
    if physician is None or physician.role is not Role.PHYSICIAN or not physician.active:
        errors["physician_id"] = ["Choose an active physician."]
    elif phone is None:
        phone = physician.physician_profile.phone_e164
        if phone is None:
            errors["phone"] = ["This physician has no phone on file: give the number to page."]
    if ends_at <= starts_at:
        errors["ends_at"] = ["A shift ends after it starts."]
    elif ends_at <= now():
        errors["ends_at"] = ["A shift must end in the future."]
    if errors:
        raise ValidationFailed("Some fields are missing or invalid.", fields=errors)
    clash = _overlapping(starts_at, ends_at)
    if clash is not None:
        raise Conflict(f"This shift overlaps shift {clash.id}; end or change that one first.",
                       fields={"starts_at": ["Overlaps another shift."]})
    shift = OnCallShift(physician_id=physician.id, starts_at=starts_at, ends_at=ends_at, phone_e164=phone,
                        created_by=actor.id if actor else None, created_at=now())
    try:
        with db.session.begin_nested():
            db.session.add(shift)
            db.session.flush()
    except IntegrityError:  # PostgreSQL's exclusion constraint: another admin's shift got there first
        raise Conflict("This shift overlaps another one added a moment ago.",
                       fields={"starts_at": ["Overlaps another shift."]}) from None
    audit.record(actor, "create", "on_call_shift", shift.id)
    db.session.commit()
    return shift


def end_shift(actor: User, shift_id: int) -> None:
    """End a shift under way now, or delete one not started yet; a shift already over is history."""
    shift = db.session.get(OnCallShift, shift_id)
    if shift is None:
        raise NotFound("No such shift.")
    at = now()
    if shift.ends_at <= at:
        raise Conflict("This shift is already over.")
    if shift.starts_at >= at:
        db.session.delete(shift)
        audit.record(actor, "delete", "on_call_shift", shift_id)
    else:
        shift.end(at)
        audit.record(actor, "update", "on_call_shift", shift_id, fields=["ends_at"])
    db.session.commit()


# Demo numbers (555-01xx are fictional) for demo physicians who have no phone on file.
_DEMO_PHONES = tuple(f"+1212555{n:04d}" for n in range(150, 160))


def seed_on_call_rota(days: int = 14, shift_hours: int = 24) -> int:
    """A demo rota: from this hour to `days` ahead, shifts of up to `shift_hours` taken in turn by
    the active physicians (each reached at their own phone, else a demo number), filling only the
    hours no shift covers (run again, it adds nothing or tops up the end). How many it added."""
    physicians = list(db.session.scalars(select(User).join(PhysicianProfile, PhysicianProfile.user_id == User.id)
                                         .where(User.role == Role.PHYSICIAN, User.active.is_(True))
                                         .order_by(User.id)))
    if not physicians:
        return 0
    cursor = now().replace(minute=0, second=0, microsecond=0)
    horizon = cursor + timedelta(days=days)
    added = 0
    while cursor < horizon:
        covering = db.session.scalar(select(OnCallShift).where(OnCallShift.starts_at <= cursor,
                                                               OnCallShift.ends_at > cursor).limit(1))
        if covering is not None:
            cursor = covering.ends_at
            continue
        following = db.session.scalar(select(OnCallShift.starts_at).where(OnCallShift.starts_at > cursor)
                                      .order_by(OnCallShift.starts_at).limit(1))
        ends_at = min(cursor + timedelta(hours=shift_hours), following or horizon + timedelta(hours=shift_hours))
        turn = added % len(physicians)
        physician = physicians[turn]
        phone = physician.physician_profile.phone_e164 or _DEMO_PHONES[turn % len(_DEMO_PHONES)]
        db.session.add(OnCallShift(physician_id=physician.id, starts_at=cursor, ends_at=ends_at, phone_e164=phone,
                                   created_at=now()))
        db.session.flush()
        added += 1
        cursor = ends_at
    db.session.commit()
    return added
