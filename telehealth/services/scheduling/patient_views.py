"""What a patient sees of scheduling, read from the rules in `scheduling` (none is restated here):
which appointment types they can book now and why not, free slots grouped by day in their own
zone, and each of their appointments with its provider's name and what they may do with it now
(join the video, cancel on which terms, move it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from telehealth.clock import day_bounds, local_day
from telehealth.errors import ServiceError
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.services.billing import ledger
from telehealth.services.scheduling import scheduling
from telehealth.services.scheduling.scheduling import APPOINTMENT_TYPES, AppointmentType, CancellationTerms, Slot


@dataclass(frozen=True)
class BookingChoice:
    kind: AppointmentType
    credits: int
    reason: str | None    # why it cannot be booked now (None: it can)
    code: str | None = None  # the refusal's code: "not_approved" or "insufficient_credits"


def booking_choices(patient: User) -> list[BookingChoice]:
    """Every appointment type with the patient's credits for it, and the refusal `scheduling.book`
    would give before looking at any slot (no approved screening for a consult, no credit)."""
    balances = ledger.balances(patient.id)
    approved = scheduling.has_approved_screening(patient)
    choices = []
    for kind in APPOINTMENT_TYPES.values():
        credits = balances[kind.credit]
        if kind.needs_approved_screening and not approved:
            choices.append(BookingChoice(kind, credits, scheduling.NEEDS_APPROVAL, "not_approved"))
        elif credits < 1:
            choices.append(BookingChoice(kind, credits, "You have no credit left for this; a package that includes "
                                                        "one adds it.", "insufficient_credits"))
        else:
            choices.append(BookingChoice(kind, credits, None))
    return choices


@dataclass(frozen=True)
class ProviderTimes:
    provider: User
    preferred: bool  # the patient's own coach
    slots: list[Slot]


@dataclass(frozen=True)
class SlotDay:
    day: date  # in the patient's own zone
    slots: list[Slot]

    @property
    def by_provider(self) -> list[ProviderTimes]:
        """The day's times per provider: the patient's own coach first, then by name."""
        groups: dict[int, list[Slot]] = {}
        for slot in self.slots:
            groups.setdefault(slot.provider.id, []).append(slot)
        found = [ProviderTimes(times[0].provider, times[0].preferred, times) for times in groups.values()]
        return sorted(found, key=lambda g: (not g.preferred, g.provider.display_name))


def bookable_days(patient: User) -> tuple[date, date]:
    """The first and last day (in the patient's zone) that can hold a bookable slot: from the minimum
    notice to the booking horizon."""
    earliest, latest = scheduling.booking_bounds()
    return local_day(earliest, patient.time_zone), local_day(latest, patient.time_zone)


def slots_by_day(patient: User, type_code: str, first_day: date, days: int = 7) -> list[SlotDay]:
    """The free slots of `days` days from `first_day`, days counted in the patient's own zone (every
    day listed, empty or not), each day's by time."""
    last_day = first_day + timedelta(days=days - 1)
    start, end = day_bounds(first_day, last_day, patient.time_zone)
    grouped: dict[date, list[Slot]] = {first_day + timedelta(days=i): [] for i in range(days)}
    for slot in scheduling.find_slots(patient, type_code, start, end - timedelta(microseconds=1)):
        grouped[local_day(slot.starts_at, patient.time_zone)].append(slot)
    return [SlotDay(day, sorted(found, key=lambda s: s.starts_at)) for day, found in grouped.items()]


@dataclass(frozen=True)
class SlotWeek:
    """What the slot picker shows: a week of days (a phone shows one day's times at a time)."""

    days: list[SlotDay]
    selected: SlotDay       # the day whose times are listed
    start: date
    earlier: date | None    # the start of the week before, if any of it can be booked
    later: date | None


DAYS_SHOWN = 7


def slot_week(patient: User, type_code: str, start: date | None = None, day: date | None = None) -> SlotWeek:
    """The week from `start` (kept within the bookable days; the first one by default) and its day
    `day`, or else its first day with a free time."""
    first, last = bookable_days(patient)
    start = min(max(start or first, first), last)
    days = slots_by_day(patient, type_code, start, min(DAYS_SHOWN, (last - start).days + 1))
    selected = next((d for d in days if d.day == day), None) or next((d for d in days if d.slots), days[0])
    week = timedelta(days=DAYS_SHOWN)
    return SlotWeek(days=days, selected=selected, start=start,
                    earlier=max(start - week, first) if start > first else None,
                    later=start + week if start + week <= last else None)


@dataclass(frozen=True)
class AppointmentView:
    appointment: Appointment
    kind: AppointmentType
    provider_name: str
    terms: CancellationTerms
    opens_at: datetime   # its video room
    closes_at: datetime
    room: str            # "open", "too_early", "ended" or "cancelled" (`scheduling.check_video_open`)
    room_message: str    # the service's refusal when not open
    outcome: str         # "booked", "ended", "held", "missed", "moved", "cancelled" or "cancelled_late"

    @property
    def upcoming(self) -> bool:
        return self.room in ("open", "too_early")


def _room(appointment: Appointment) -> tuple[str, str]:
    try:
        scheduling.check_video_open(appointment)
    except scheduling.VideoNotOpen as exc:
        return ("too_early" if exc.too_early else "ended"), exc.message
    except ServiceError as exc:
        return "cancelled", exc.message
    return "open", ""


def _outcome(appointment: Appointment, room: str) -> str:
    status = appointment.status
    if status is AppointmentStatus.CANCELLED:
        if scheduling.moved_to(appointment):  # rescheduled: its credit went to the new time
            return "moved"
        return "cancelled_late" if appointment.late_cancellation else "cancelled"
    if status is AppointmentStatus.COMPLETED:
        return "held"
    if status is AppointmentStatus.NO_SHOW:
        return "missed"
    return "ended" if room == "ended" else "booked"


def _view(appointment: Appointment, provider_name: str) -> AppointmentView:
    opens, closes = scheduling.video_window(appointment)
    room, message = _room(appointment)
    return AppointmentView(appointment=appointment, kind=scheduling.appointment_type(appointment.appointment_type),
                           provider_name=provider_name, terms=scheduling.cancellation_terms(appointment),
                           opens_at=opens, closes_at=closes, room=room, room_message=message,
                           outcome=_outcome(appointment, room))


def _names(provider_ids: set[int]) -> dict[int, str]:
    if not provider_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(provider_ids))).all())


def my_appointments(patient: User) -> tuple[list[AppointmentView], list[AppointmentView]]:
    """(upcoming, soonest first; past and cancelled, latest first), each with its provider's name."""
    rows = scheduling.list_for(patient)
    names = _names({a.provider_id for a in rows})
    views = [_view(a, names.get(a.provider_id, "")) for a in rows]
    upcoming = [v for v in views if v.upcoming]
    past = sorted((v for v in views if not v.upcoming), key=lambda v: v.appointment.starts_at, reverse=True)
    return upcoming, past


def my_appointment(patient: User, appointment_id: int) -> AppointmentView:
    """One of the patient's appointments (another's is a 404; the read is audited)."""
    appointment = scheduling.read_appointment(patient, appointment_id)
    return _view(appointment, _names({appointment.provider_id}).get(appointment.provider_id, ""))


# The provider's visit page (visit_views) reads the room and the outcome the same way.
room_state, outcome_of = _room, _outcome
