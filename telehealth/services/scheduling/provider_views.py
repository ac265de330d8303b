"""What a provider (physician or coach) sees of their own calendar, read from the rules in
`scheduling`, `slots` and `calendars` (none is restated here): a week of appointments laid out by
day in their own zone with that week's open hours and exceptions, their weekly windows as a grid,
their upcoming exceptions a page at a time, whether a private feed exists, and the on-call rota.

Every view reads a fixed number of statements whatever the number of rows (names come in the same
query as the rows they label).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from telehealth.clock import day_bounds, local_day, now, today_in
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.platform.alerts import OnCallShift
from telehealth.models.scheduling.scheduling import (
    Appointment, AppointmentStatus, AvailabilityException, AvailabilityWindow, CalendarFeed,
)
from telehealth.services.platform import audit, on_call
from telehealth.services.scheduling import scheduling
from telehealth.services.scheduling.scheduling import AppointmentType
from telehealth.services.scheduling.slots import DayException, Window, open_intervals

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The weekly grid offers this many windows a day (more show when a day already has more).
GRID_WINDOWS = 3
EXCEPTIONS_PER_PAGE = 20
# The earliest and latest week a calendar may be asked for (a crafted date is clamped, not an error).
FIRST_WEEK, LAST_WEEK = date(2000, 1, 3), date(2099, 12, 28)


# ------------------------------------------------------------------ the week


@dataclass(frozen=True)
class CalendarEntry:
    appointment: Appointment
    kind: AppointmentType
    patient_name: str
    status: str  # in words: "Booked", "Held", "Missed", "Cancelled", "Moved"

    @property
    def active(self) -> bool:
        return self.appointment.status is AppointmentStatus.BOOKED


@dataclass(frozen=True)
class CalendarDay:
    day: date
    open_hours: list[tuple[datetime, datetime]]  # UTC instants of this day's open hours
    exceptions: list[AvailabilityException]
    entries: list[CalendarEntry]
    today: bool

    @property
    def name(self) -> str:
        return WEEKDAY_NAMES[self.day.weekday()]


@dataclass(frozen=True)
class CalendarWeek:
    start: date  # a Monday in the provider's zone
    days: list[CalendarDay]
    this_week: date
    time_zone: str

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def previous(self) -> date | None:
        earlier = self.start - timedelta(days=7)
        return earlier if earlier >= FIRST_WEEK else None

    @property
    def next(self) -> date | None:
        later = self.start + timedelta(days=7)
        return later if later <= LAST_WEEK else None

    @property
    def is_this_week(self) -> bool:
        return self.start == self.this_week

    @property
    def appointment_count(self) -> int:
        return sum(1 for d in self.days for e in d.entries if e.active)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _status(appointment: Appointment) -> str:
    if appointment.status is AppointmentStatus.CANCELLED:
        return "Moved" if scheduling.moved_to(appointment) else "Cancelled"
    return {AppointmentStatus.COMPLETED: "Held", AppointmentStatus.NO_SHOW: "Missed"}.get(appointment.status,
                                                                                          "Booked")


def calendar_week(provider: User, week_of: date | None = None) -> CalendarWeek:
    """The week (Monday to Sunday in the provider's zone) holding `week_of` (this week by default):
    each day's appointments with their patient's name, open hours and exceptions. The read is
    audited once in each patient's trail, as the appointment list is."""
    zone = provider.time_zone
    this_week = monday_of(today_in(zone))
    start = min(max(monday_of(week_of or this_week), FIRST_WEEK), LAST_WEEK)
    end = start + timedelta(days=6)
    since, until = day_bounds(start, end, zone)
    windows = [Window(w.weekday, w.start_time, w.end_time) for w in db.session.scalars(
        select(AvailabilityWindow).where(AvailabilityWindow.provider_id == provider.id))]
    exceptions = list(db.session.scalars(select(AvailabilityException).where(
        AvailabilityException.provider_id == provider.id, AvailabilityException.day >= start,
        AvailabilityException.day <= end).order_by(AvailabilityException.day, AvailabilityException.start_time)))
    rows = db.session.execute(select(Appointment, User.display_name).join(User, User.id == Appointment.patient_id)
                              .where(Appointment.provider_id == provider.id, Appointment.starts_at >= since,
                                     Appointment.starts_at < until)
                              .order_by(Appointment.starts_at, Appointment.id)).all()
    by_day: dict[date, list[CalendarEntry]] = {start + timedelta(days=i): [] for i in range(7)}
    for appointment, name in rows:
        by_day[local_day(appointment.starts_at, zone)].append(CalendarEntry(
            appointment, scheduling.appointment_type(appointment.appointment_type), name, _status(appointment)))
    day_exceptions = [DayException(e.day, e.kind.value, e.start_time, e.end_time) for e in exceptions]
    today = today_in(zone)
    days = [CalendarDay(day=day, open_hours=open_intervals(day, windows, day_exceptions, zone),
                        exceptions=[e for e in exceptions if e.day == day], entries=entries, today=day == today)
            for day, entries in by_day.items()]
    if rows:
        audit.record_many(provider, "read", "appointment_list", None,
                          [(patient_id, ()) for patient_id in sorted({a.patient_id for a, _ in rows})])
        db.session.commit()
    return CalendarWeek(start=start, days=days, this_week=this_week, time_zone=zone)


# ------------------------------------------------------------------ the weekly grid


@dataclass
class GridWindow:
    start: str = ""  # "HH:MM", as a time input gives and takes it
    end: str = ""


@dataclass
class GridRow:
    weekday: int
    windows: list[GridWindow]
    off: bool = False  # "not available" ticked

    @property
    def name(self) -> str:
        return WEEKDAY_NAMES[self.weekday]

    @property
    def is_empty(self) -> bool:
        return self.off or not any(w.start or w.end for w in self.windows)


def _pad(windows: list[GridWindow]) -> list[GridWindow]:
    return windows + [GridWindow() for _ in range(GRID_WINDOWS - len(windows))]


def availability_grid(provider: User) -> list[GridRow]:
    """The provider's weekly windows as seven rows (Monday first), each with at least GRID_WINDOWS
    windows (the empty ones to fill in); wall-clock times in their own zone."""
    found: dict[int, list[GridWindow]] = {d: [] for d in range(7)}
    for w in scheduling.windows_of(provider.id):
        found[w.weekday].append(GridWindow(f"{w.start_time:%H:%M}", f"{w.end_time:%H:%M}"))
    return [GridRow(d, _pad(found[d]), off=not found[d]) for d in range(7)]


def grid_from_form(form, previous: list[GridRow]) -> list[GridRow]:
    """The grid as submitted (field names `w<weekday>-<n>-start|end` and `w<weekday>-off`), with as
    many windows per day as the page offered."""
    rows = []
    for row in previous:
        d = row.weekday
        count = max(len(row.windows), GRID_WINDOWS)
        windows = [GridWindow(form.get(f"w{d}-{n}-start", "").strip(), form.get(f"w{d}-{n}-end", "").strip())
                   for n in range(count)]
        rows.append(GridRow(d, windows, off=bool(form.get(f"w{d}-off"))))
    return rows


# ------------------------------------------------------------------ exceptions and the feed


@dataclass(frozen=True)
class ExceptionPage:
    items: list[AvailabilityException]
    page: int
    has_next: bool


def upcoming_exceptions(provider: User, page: int = 1) -> ExceptionPage:
    """The provider's exceptions from today on (in their zone), soonest first, a page at a time."""
    page = max(1, min(page, 10_000))
    rows = list(db.session.scalars(select(AvailabilityException).where(
        AvailabilityException.provider_id == provider.id, AvailabilityException.day >= today_in(provider.time_zone))
        .order_by(AvailabilityException.day, AvailabilityException.start_time, AvailabilityException.id)
        .offset((page - 1) * EXCEPTIONS_PER_PAGE).limit(EXCEPTIONS_PER_PAGE + 1)))
    return ExceptionPage(rows[:EXCEPTIONS_PER_PAGE], page, len(rows) > EXCEPTIONS_PER_PAGE)


def feed_created_at(provider: User) -> datetime | None:
    """When the provider's private calendar feed was made, or None when they have none."""
    feed = db.session.get(CalendarFeed, provider.id)
    return feed.created_at if feed else None


# ------------------------------------------------------------------ the on-call rota

ROTA_DAYS = 14


@dataclass(frozen=True)
class RotaEntry:
    starts_at: datetime
    ends_at: datetime
    shift: OnCallShift | None  # None: a gap, nobody on call

    @property
    def is_gap(self) -> bool:
        return self.shift is None


@dataclass(frozen=True)
class OnCallView:
    now: list[OnCallShift]
    next: OnCallShift | None
    rota: list[RotaEntry]
    since: datetime
    until: datetime
    fallback_phone: str | None
    gaps: int = field(default=0)


def on_call_rota(days: int = ROTA_DAYS) -> OnCallView:
    """Who is on call now and next, and the next `days` days of shifts with the gaps between them
    (the hours nobody covers) as entries of their own."""
    since = now()
    until = since + timedelta(days=days)
    current, following = on_call.who_is_on_call()
    entries: list[RotaEntry] = []
    cursor = since
    for shift in on_call.list_shifts(since, until):
        if not shift.physician.active:  # no longer paged: their hours are a gap (as `on_call_at` reads them)
            continue
        if shift.starts_at > cursor:
            entries.append(RotaEntry(cursor, shift.starts_at, None))
        entries.append(RotaEntry(shift.starts_at, shift.ends_at, shift))
        cursor = max(cursor, shift.ends_at)
    if cursor < until:
        entries.append(RotaEntry(cursor, until, None))
    return OnCallView(now=current, next=following, rota=entries, since=since, until=until,
                      fallback_phone=on_call.fallback_phone(), gaps=sum(1 for e in entries if e.is_gap))
