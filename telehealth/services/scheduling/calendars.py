"""Calendars: an .ics file per appointment, and each provider's private feed URL (a token kept
only as its hash; making a new one revokes the old). Events say nothing clinical: calendars are
synced to third parties."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import select

from telehealth.clock import now
from telehealth.errors import NotFound
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus, CalendarFeed
from telehealth.services.platform import audit
from telehealth.tokens import new_token, token_hash

FEED_PAST_DAYS, FEED_FUTURE_DAYS = 30, 90


def _calendar() -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//telehealth//appointments//EN")
    cal.add("version", "2.0")
    return cal


def _event(appointment: Appointment, *, for_provider: bool = False) -> Event:
    """One appointment; its link opens the patient's appointment page, or for the provider (their
    private feed) the visit page, where they hold it."""
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@telehealth")
    event.add("dtstamp", now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", "Video appointment")  # not the clinic's name either: it may name the treatment
    path = f"/visits/{appointment.id}" if for_provider else f"/appointments/{appointment.id}"
    event.add("description", f"Join from your account: {current_app.config['PUBLIC_BASE_URL']}{path}")
    event.add("status", "CANCELLED" if appointment.status is AppointmentStatus.CANCELLED else "CONFIRMED")
    return event


def appointment_ics(appointment: Appointment, *, for_provider: bool = False) -> bytes:
    cal = _calendar()
    cal.add_component(_event(appointment, for_provider=for_provider))
    return cal.to_ical()


def create_feed(provider: User) -> str:
    """A new private feed token for the provider (the previous one stops working)."""
    token, hashed = new_token()
    feed = db.session.get(CalendarFeed, provider.id)
    if feed is None:
        db.session.add(CalendarFeed(provider_id=provider.id, token_hash=hashed))
    else:
        feed.token_hash, feed.created_at = hashed, now()
    audit.record(provider, "update", "calendar_feed", provider.id)
    db.session.commit()
    return token


def revoke_feed(provider: User) -> None:
    feed = db.session.get(CalendarFeed, provider.id)
    if feed is None:
        raise NotFound("You have no calendar feed.")
    db.session.delete(feed)
    audit.record(provider, "delete", "calendar_feed", provider.id)
    db.session.commit()


def feed_ics(token: str) -> bytes:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)))
    if feed is None:
        raise NotFound("No such calendar.")
    moment = now()
    cal = _calendar()
    for appointment in db.session.scalars(select(Appointment).where(
            Appointment.provider_id == feed.provider_id, Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= moment - timedelta(days=FEED_PAST_DAYS),
            Appointment.starts_at <= moment + timedelta(days=FEED_FUTURE_DAYS)).order_by(Appointment.starts_at)):
        cal.add_component(_event(appointment, for_provider=True))
    return cal.to_ical()
