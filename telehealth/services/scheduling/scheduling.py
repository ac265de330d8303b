"""Scheduling: providers' availability, slot search across providers, booking and cancelling.

Booking is one transaction: the slot is re-checked (the provider's availability, licensing on that
date, notice and horizon), the matching credit is debited and the appointment is written. Two
bookings of one provider's time cannot both succeed: on PostgreSQL the exclusion constraint of
migration 0004 refuses the second; on SQLite transactions run one at a time (BEGIN IMMEDIATE) and
the overlap is checked inside the transaction. The loser gets a 409.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import selectinload

from telehealth.clock import in_zone, now, overlaps, today_in
from telehealth.errors import Conflict, Forbidden, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PhysicianProfile, Role, User
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, ReviewStatus
from telehealth.models.billing.billing import CreditKind
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.scheduling.scheduling import (
    Appointment, AppointmentStatus, AvailabilityException, AvailabilityWindow, ExceptionKind, Reminder,
)
from telehealth.adapters import video
from telehealth.adapters.mail import send_mail
from telehealth.services.accounts import care_team
from telehealth.services.billing import ledger
from telehealth.services.platform import audit
from telehealth.services.platform.authz import deny
from telehealth.services.scheduling.slots import DayException, Window, free_slots
from telehealth.transactions import is_retryable, run_with_retry


@dataclass(frozen=True)
class AppointmentType:
    code: str
    name: str
    minutes: int
    provider_role: Role
    credit: CreditKind
    needs_approved_screening: bool = False


APPOINTMENT_TYPES = {t.code: t for t in (
    AppointmentType("consult", "Initial physician consult", 30, Role.PHYSICIAN, CreditKind.CONSULT, True),
    AppointmentType("follow_up", "Physician follow-up", 20, Role.PHYSICIAN, CreditKind.FOLLOW_UP),
    AppointmentType("coaching_30", "Integration coaching, 30 minutes", 30, Role.COACH, CreditKind.COACHING_30),
    AppointmentType("coaching_60", "Integration coaching, 60 minutes", 60, Role.COACH, CreditKind.COACHING_60),
)}
# The physician encounters (a consult, a follow-up) and the integration coaching sessions.
PHYSICIAN_TYPES = tuple(code for code, t in APPOINTMENT_TYPES.items() if t.provider_role is Role.PHYSICIAN)
COACHING_TYPES = tuple(code for code, t in APPOINTMENT_TYPES.items() if t.provider_role is Role.COACH)
REMINDER_LEADS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


class SlotTaken(Conflict):
    code = "slot_taken"


# Said when another booking holds the time: the slot was offered a moment ago, and someone was quicker.
JUST_TAKEN = "That time was just taken, pick another."
NEEDS_APPROVAL = "A physician must approve your screening before you book a consult."


class VideoNotOpen(Conflict):
    """The video room is not open now: `too_early` (it opens at `opens_at`) or over (it closed at
    `closes_at`); pages say which, with the time in the viewer's zone."""

    code = "video_not_open"

    def __init__(self, message: str, *, opens_at: datetime, closes_at: datetime, too_early: bool):
        super().__init__(message)
        self.opens_at, self.closes_at, self.too_early = opens_at, closes_at, too_early


def _cfg(name: str) -> int:
    return current_app.config[name]


def appointment_type(code: str) -> AppointmentType:
    try:
        return APPOINTMENT_TYPES[code]
    except KeyError:
        raise ValidationFailed("Unknown appointment type.",
                               fields={"type": [f"Use one of: {', '.join(APPOINTMENT_TYPES)}."]}) from None


# ------------------------------------------------------------------ availability (providers)


def set_weekly_windows(provider: User, windows: list[tuple[int, time, time]]) -> list[AvailabilityWindow]:
    """Replace the provider's weekly windows (wall-clock times in their own zone). A window that
    does not end after it starts, or that overlaps another of the same weekday, is refused (field
    `windows.<index>`) and nothing is saved."""
    for i, (_weekday, start, end) in enumerate(windows):
        if not start < end:
            raise ValidationFailed("A window must end after it starts.", fields={f"windows.{i}": ["End after start."]})
    clashes: dict[str, list[str]] = {}
    for i, (weekday, start, end) in enumerate(windows):
        for other_day, other_start, other_end in windows[:i]:
            if weekday == other_day and overlaps(start, end, other_start, other_end):
                clashes[f"windows.{i}"] = ["Overlaps another window of the same day."]
                break
    if clashes:
        raise ValidationFailed("Windows of the same day must not overlap.", fields=clashes)
    db.session.execute(AvailabilityWindow.__table__.delete().where(AvailabilityWindow.provider_id == provider.id))
    rows = [AvailabilityWindow(provider_id=provider.id, weekday=w, start_time=s, end_time=e) for w, s, e in windows]
    db.session.add_all(rows)
    audit.record(provider, "update", "availability", provider.id)
    db.session.commit()
    return rows


# How far ahead an exception may be given (a year-9999 day is a typing slip, not a plan).
EXCEPTION_HORIZON_DAYS = 730


def add_exception(provider: User, day: date, kind: str, start: time | None, end: time | None) -> AvailabilityException:
    today = today_in(provider.time_zone)
    if day < today:
        raise ValidationFailed("That day has passed: time off and extra hours are for today or later.",
                               fields={"day": ["Today or a later day."]})
    if day > today + timedelta(days=EXCEPTION_HORIZON_DAYS):
        raise ValidationFailed("That day is more than two years ahead.",
                               fields={"day": ["Within two years from today."]})
    if (start is None) != (end is None) or (start and end and not start < end):
        raise ValidationFailed("Give both times, in order, or neither (the whole day).",
                               fields={"end_time": ["End after start, or leave both empty."]})
    if kind == ExceptionKind.EXTRA and start is None:
        raise ValidationFailed("Extra hours need their times.", fields={"start_time": ["Required for extra hours."]})
    row = AvailabilityException(provider_id=provider.id, day=day, kind=ExceptionKind(kind), start_time=start,
                                end_time=end)
    db.session.add(row)
    audit.record(provider, "create", "availability_exception", provider.id)
    db.session.commit()
    return row


def remove_exception(provider: User, exception_id: int) -> None:
    """Take back one of the provider's own exceptions (another's, or none, is a 404)."""
    row = db.session.get(AvailabilityException, exception_id)
    if row is None or row.provider_id != provider.id:
        raise NotFound("No such time off or extra hours.")
    db.session.delete(row)
    audit.record(provider, "delete", "availability_exception", provider.id)
    db.session.commit()


def windows_of(provider_id: int) -> list[AvailabilityWindow]:
    return list(db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.provider_id == provider_id)
                                   .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_time)))


# ------------------------------------------------------------------ slot search (patients)


@dataclass(frozen=True)
class Slot:
    provider: User
    starts_at: datetime
    ends_at: datetime
    preferred: bool  # the patient's assigned coach


def _eligible_providers(patient: User, kind: AppointmentType) -> list[tuple[User, bool]]:
    query = select(User).where(User.role == kind.provider_role, User.active.is_(True))
    if kind.provider_role is Role.PHYSICIAN:
        query = query.options(selectinload(User.physician_profile).selectinload(PhysicianProfile.licenses))
    providers = list(db.session.scalars(query.order_by(User.id)))
    if kind.provider_role is Role.COACH:
        assigned = set(db.session.scalars(select(CareAssignment.staff_id).where(
            CareAssignment.patient_id == patient.id, CareAssignment.care_role == CareRole.COACH,
            CareAssignment.ended_at.is_(None))))
        return sorted(((p, p.id in assigned) for p in providers), key=lambda pair: not pair[1])
    return [(p, False) for p in providers]


def _licensed_on(provider: User, state: str, day: date) -> bool:
    return provider.role is not Role.PHYSICIAN or provider.physician_profile.license_for(state, day) is not None


def _busy(provider_ids: list[int], start: datetime, end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    rows = db.session.execute(select(Appointment.provider_id, Appointment.blocks_from, Appointment.blocks_until).where(
        Appointment.provider_id.in_(provider_ids), Appointment.status == AppointmentStatus.BOOKED,
        overlaps(Appointment.blocks_from, Appointment.blocks_until, start, end))).all()
    busy: dict[int, list[tuple[datetime, datetime]]] = {pid: [] for pid in provider_ids}
    for pid, s, e in rows:
        busy[pid].append((s, e))
    return busy


def booking_bounds() -> tuple[datetime, datetime]:
    """The earliest and latest start a patient may book now: the minimum notice and the horizon."""
    moment = now()
    return moment + timedelta(hours=_cfg("BOOKING_MIN_NOTICE_HOURS")), moment + timedelta(days=_cfg("BOOKING_HORIZON_DAYS"))


def find_slots(patient: User, type_code: str, start: datetime, end: datetime,
               provider_id: int | None = None) -> list[Slot]:
    """Free slots of every eligible provider between `start` and `end` (within notice and horizon):
    physicians licensed in the patient's state on the slot's date; coaches, the assigned one first."""
    kind = appointment_type(type_code)
    earliest, latest = booking_bounds()
    start, end = max(start, earliest), min(end, latest)
    if start >= end:
        return []
    state = patient.patient_profile.state_of_residence
    providers = [(p, pref) for p, pref in _eligible_providers(patient, kind) if provider_id in (None, p.id)]
    ids = [p.id for p, _ in providers]
    windows: dict[int, list[Window]] = {pid: [] for pid in ids}
    for w in db.session.scalars(select(AvailabilityWindow).where(AvailabilityWindow.provider_id.in_(ids))):
        windows[w.provider_id].append(Window(w.weekday, w.start_time, w.end_time))
    exceptions: dict[int, list[DayException]] = {pid: [] for pid in ids}
    for e in db.session.scalars(select(AvailabilityException).where(AvailabilityException.provider_id.in_(ids))):
        exceptions[e.provider_id].append(DayException(e.day, e.kind.value, e.start_time, e.end_time))
    buffer = timedelta(minutes=_cfg("APPOINTMENT_BUFFER_MINUTES"))
    busy = _busy(ids, start - buffer - timedelta(hours=2), end + timedelta(hours=2))
    duration = timedelta(minutes=kind.minutes)
    slots = []
    for provider, preferred in providers:
        for at in free_slots(windows=windows[provider.id], exceptions=exceptions[provider.id],
                             zone=provider.time_zone, busy=busy[provider.id], duration=duration, buffer=buffer,
                             step=timedelta(minutes=_cfg("SLOT_STEP_MINUTES")), earliest=start, latest=end):
            if _licensed_on(provider, state, at.astimezone(ZoneInfo(provider.time_zone)).date()):
                slots.append(Slot(provider, at, at + duration, preferred))
    return sorted(slots, key=lambda s: (not s.preferred, s.starts_at, s.provider.id))


# ------------------------------------------------------------------ booking


def has_approved_screening(patient: User) -> bool:
    return db.session.scalar(select(Assessment.id).where(
        Assessment.patient_id == patient.id, Assessment.status == AssessmentStatus.SUBMITTED,
        Assessment.review_status == ReviewStatus.APPROVED).limit(1)) is not None


def book(patient: User, type_code: str, provider_id: int, starts_at: datetime, *,
         replacing: Appointment | None = None) -> Appointment:
    """Book one slot: credit checked and held, slot re-checked, appointment written and credit debited
    in one transaction. When
    `replacing` an appointment (a reschedule), its credit carries over instead of a new debit."""
    kind = appointment_type(type_code)
    if kind.needs_approved_screening and not has_approved_screening(patient):
        raise Conflict(NEEDS_APPROVAL, code="not_approved")
    provider = db.session.get(User, provider_id)
    if provider is None or provider.role is not kind.provider_role or not provider.active:
        raise ValidationFailed("Choose a provider from the slot search.", fields={"provider_id": ["Not bookable."]})
    if replacing is None:  # the credit first: a patient without one never takes a lock on the slot
        ledger.hold(patient.id, {kind.credit: 1})
    buffer = timedelta(minutes=_cfg("APPOINTMENT_BUFFER_MINUTES"))
    ends_at = starts_at + timedelta(minutes=kind.minutes)
    appointment = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type=kind.code,
                              starts_at=starts_at, ends_at=ends_at, blocks_from=starts_at - buffer,
                              blocks_until=ends_at + buffer, credit_kind=kind.credit.value,
                              video_room=f"appt-{secrets.token_hex(12)}")
    offered = find_slots(patient, type_code, starts_at, starts_at + timedelta(seconds=1), provider_id=provider.id)
    if not any(s.starts_at == starts_at for s in offered):
        if _overlapping(appointment):  # another booking holds it: offered a moment ago, taken since
            raise SlotTaken(JUST_TAKEN)
        # Not licensed for the patient's state, outside availability, too soon or too far.
        raise SlotTaken("This time is not available with this provider; choose another slot.")

    def insert() -> None:
        if db.session.get_bind().dialect.name != "postgresql" and _overlapping(appointment):
            raise IntegrityError("overlap", None, Exception("appointments overlap"))
        db.session.add(appointment)
        db.session.flush()

    try:
        # PostgreSQL may break a deadlock between two bookings checking the constraint at once by
        # aborting one: it tries again, and then meets the winner's row (or a free slot).
        run_with_retry(insert)
    except DBAPIError as exc:
        if not isinstance(exc, IntegrityError) and not is_retryable(exc):
            raise
        raise SlotTaken(JUST_TAKEN) from None
    if replacing is None:
        ledger.debit(patient.id, kind.credit, key=f"appointment:{appointment.id}", note=kind.name)
    else:
        replacing.credit_kind = f"moved:{appointment.id}"  # its credit now belongs to the new time
    for lead, before in REMINDER_LEADS:
        if starts_at - before > now():
            db.session.add(Reminder(appointment_id=appointment.id, lead=lead, due_at=starts_at - before))
    care_team.join_by_booking(patient, provider)  # the coach writes the note, the physician reads and prescribes
    audit.record(patient, "create", "appointment", appointment.id, patient_id=patient.id)
    db.session.commit()
    return appointment


def moved_to(appointment: Appointment) -> int | None:
    """The appointment a rescheduled one moved to (its credit went with it), else None."""
    marker, _, target = appointment.credit_kind.partition(":")
    return int(target) if marker == "moved" and target.isdigit() else None


def reschedule(patient: User, appointment_id: int, starts_at: datetime, provider_id: int | None = None) -> Appointment:
    """Move a booking before the cutoff: the new time is booked (checked like any booking) and the
    old one released in the same transaction; the credit moves with it."""
    old = _locked(patient, appointment_id)
    if old.patient_id != patient.id or old.status is not AppointmentStatus.BOOKED:
        raise Conflict(NOT_MOVABLE)
    if is_late(old):
        raise Conflict(LATE_RESCHEDULE.format(hours=_cfg("CANCELLATION_CUTOFF_HOURS")), code="late_reschedule")
    # Released first (uncommitted), so the new time may overlap the old one; if the new booking
    # fails, nothing is committed and the old appointment stands.
    old.cancel(patient.id, now(), late=False)
    _cancel_reminders(old)
    db.session.flush()
    return book(patient, old.appointment_type, provider_id or old.provider_id, starts_at, replacing=old)


def _overlapping(candidate: Appointment) -> bool:
    return db.session.scalar(select(Appointment.id).where(
        Appointment.provider_id == candidate.provider_id, Appointment.status == AppointmentStatus.BOOKED,
        overlaps(Appointment.blocks_from, Appointment.blocks_until, candidate.blocks_from, candidate.blocks_until))
        .limit(1)) is not None


# ------------------------------------------------------------------ reading and cancelling


def get_appointment(actor: User, appointment_id: int, *, lock: bool = False) -> Appointment:
    """The appointment, for its patient and its provider only. Ops and admin have no logistics or
    account need for it (who sees which physician or coach, and when, is clinical-ish): refused,
    like anyone else, and the refusal is audited (`authz.deny`; a patient gets a 404)."""
    appointment = db.session.get(Appointment, appointment_id, with_for_update=lock or None)
    if appointment is None:
        raise NotFound("No such appointment.")
    if actor.id in (appointment.patient_id, appointment.provider_id):
        return appointment
    deny(actor, "appointment", appointment.id, patient_id=appointment.patient_id, message="Not your appointment.",
         not_found="No such appointment.")


def read_appointment(actor: User, appointment_id: int, *, as_file: bool = False) -> Appointment:
    """One appointment (or its .ics file) for its patient or provider; every read is audited, as
    every read of a patient's record is."""
    appointment = get_appointment(actor, appointment_id)
    audit.record(actor, "read", "appointment_ics" if as_file else "appointment", appointment.id,
                 patient_id=appointment.patient_id)
    db.session.commit()
    return appointment


def _locked(actor: User, appointment_id: int) -> Appointment:
    """The appointment read FOR UPDATE (PostgreSQL; SQLite serializes already): two changes to one
    appointment, say two reschedules, run one after the other and the second sees the first."""
    return get_appointment(actor, appointment_id, lock=True)


def list_for(actor: User) -> list[Appointment]:
    """My appointments (as patient or provider); the read is audited once in each patient's trail."""
    column = Appointment.patient_id if actor.role is Role.PATIENT else Appointment.provider_id
    rows = list(db.session.scalars(select(Appointment).where(column == actor.id).order_by(Appointment.starts_at)))
    audit.record_many(actor, "read", "appointment_list", None,
                      [(patient_id, ()) for patient_id in sorted({a.patient_id for a in rows})])
    db.session.commit()
    return rows


LATE_RESCHEDULE = "Appointments can be moved until {hours} hours before they start; cancel instead."
NOT_MOVABLE = "Only your own booked appointment can be moved."


def cancellation_cutoff(appointment: Appointment) -> datetime:
    """Until this moment the patient may cancel (the credit comes back) or move the appointment."""
    return appointment.starts_at - timedelta(hours=_cfg("CANCELLATION_CUTOFF_HOURS"))


def is_late(appointment: Appointment) -> bool:
    return now() > cancellation_cutoff(appointment)


def has_started(appointment: Appointment) -> bool:
    return now() >= appointment.starts_at


@dataclass(frozen=True)
class CancellationTerms:
    """What cancelling an appointment now means for the patient, stated before they confirm."""

    late: bool              # inside the cutoff: the credit is used, and it can no longer be moved
    cutoff_hours: int
    cutoff_at: datetime     # the last moment to cancel with the credit back (or to move it)
    can_cancel: bool        # booked and not started
    move_refusal: str | None  # why it cannot be moved now (None: it can)

    @property
    def can_reschedule(self) -> bool:
        return self.move_refusal is None


def cancellation_terms(appointment: Appointment) -> CancellationTerms:
    booked = appointment.status is AppointmentStatus.BOOKED
    late = is_late(appointment)
    move_refusal = (NOT_MOVABLE if not booked
                    else LATE_RESCHEDULE.format(hours=_cfg("CANCELLATION_CUTOFF_HOURS")) if late else None)
    return CancellationTerms(late=late, cutoff_hours=_cfg("CANCELLATION_CUTOFF_HOURS"),
                             cutoff_at=cancellation_cutoff(appointment),
                             can_cancel=booked and not has_started(appointment), move_refusal=move_refusal)


def cancel(actor: User, appointment_id: int, *, accept_late: bool = False) -> Appointment:
    """The patient cancels until the cutoff and keeps the credit; after it, only by accepting that
    the credit is used (`accept_late`). The provider may cancel any time: the credit comes back."""
    appointment = _locked(actor, appointment_id)
    if appointment.status is AppointmentStatus.BOOKED and has_started(appointment):
        raise Conflict("This appointment has started: mark it completed or as a no-show instead.")
    by_patient = actor.id == appointment.patient_id
    late = by_patient and is_late(appointment)
    if late and not accept_late:
        raise Conflict(f"It is now less than {_cfg('CANCELLATION_CUTOFF_HOURS')} hours before the start: cancelling "
                       "uses the credit. Confirm that you accept this to cancel anyway.",
                       code="late_cancellation")
    appointment.cancel(actor.id, now(), late=late)
    if not late:
        ledger.restore(appointment.patient_id, CreditKind(appointment.credit_kind),
                       key=f"appointment:{appointment.id}:restore", note="Cancelled in time")
        if not by_patient:
            patient = db.session.get(User, appointment.patient_id)
            send_mail(patient.email, "Your appointment was cancelled",
                      "Your care team had to cancel an appointment. Your credit is back in your account: "
                      "log in to book another time.", kind="appointment_cancelled")
    _cancel_reminders(appointment)
    audit.record(actor, "update", "appointment", appointment.id, patient_id=appointment.patient_id,
                 fields=["status"])
    db.session.commit()
    return appointment


def _cancel_reminders(appointment: Appointment) -> None:
    for reminder in db.session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id,
                                                              Reminder.status == "pending")):
        reminder.status = "cancelled"


def _as_provider(actor: User, appointment_id: int) -> Appointment:
    appointment = _locked(actor, appointment_id)
    if appointment.provider_id != actor.id:
        raise Forbidden("Only the appointment's provider can do this.")
    return appointment


def mark_no_show(provider: User, appointment_id: int) -> Appointment:
    appointment = _as_provider(provider, appointment_id)
    if now() < appointment.starts_at:
        raise Conflict("A no-show can be marked once the appointment has started.")
    appointment.move_to(AppointmentStatus.NO_SHOW)
    _cancel_reminders(appointment)
    audit.record(provider, "update", "appointment", appointment.id, patient_id=appointment.patient_id,
                 fields=["status"])
    db.session.commit()
    return appointment


def _clock(moment: datetime, viewer: User) -> str:
    """A moment as the viewer reads it in a message: "2:30 PM EST" in their zone (never an ISO string)."""
    local = in_zone(moment, viewer.time_zone)
    return f"{local.hour % 12 or 12}:{local:%M} {local:%p} {local.tzname()}"


def complete(provider: User, appointment_id: int, *, started_at: datetime, ended_at: datetime,
             notes: str) -> Appointment:
    """Record the video encounter: for a physician's consult, the telemedicine encounter that must
    exist before any prescription. It must have taken place in the appointment's video room while
    it was open and overlap the booked time: started once the room opened and before it closed,
    ended after the appointment began, and not in the future. The physician who held a consult or
    follow-up is the patient's physician from then on (`care_team.hold_encounter`)."""
    appointment = _as_provider(provider, appointment_id)
    opens, closes = video_window(appointment)
    errors: dict[str, list[str]] = {}
    if not started_at < ended_at or ended_at > now():
        errors["ended_at"] = ["After the start, and not in the future."]
    elif ended_at <= appointment.starts_at:
        errors["ended_at"] = [f"After the appointment began ({_clock(appointment.starts_at, provider)})."]
    if started_at < opens:
        errors["started_at"] = [f"Not before the video room opened ({_clock(opens, provider)})."]
    elif started_at >= closes:
        errors["started_at"] = [f"Before the video room closed ({_clock(closes, provider)})."]
    if errors:
        raise ValidationFailed("The encounter must overlap the appointment's booked time, within its video room's "
                               "opening hours, and not be in the future.", fields=errors)
    appointment.move_to(AppointmentStatus.COMPLETED)
    _cancel_reminders(appointment)
    appointment.encounter_started_at, appointment.encounter_ended_at = started_at, ended_at
    appointment.encounter_modality, appointment.encounter_notes = "video", notes
    audit.record(provider, "update", "appointment_encounter", appointment.id, patient_id=appointment.patient_id)
    care_team.hold_encounter(db.session.get(User, appointment.patient_id), provider)
    db.session.commit()
    return appointment


def video_window(appointment: Appointment) -> tuple[datetime, datetime]:
    """When the appointment's video room is open: from VIDEO_OPENS_MINUTES_BEFORE before the start
    until VIDEO_CLOSES_MINUTES_AFTER after the end."""
    return (appointment.starts_at - timedelta(minutes=_cfg("VIDEO_OPENS_MINUTES_BEFORE")),
            appointment.ends_at + timedelta(minutes=_cfg("VIDEO_CLOSES_MINUTES_AFTER")))


def check_video_open(appointment: Appointment) -> datetime:
    """When the room closes, if it is open now; else the refusal that says why: cancelled, too early
    (and when it opens), or over (held, missed, or its time has passed)."""
    opens, closes = video_window(appointment)
    if appointment.status is AppointmentStatus.CANCELLED:
        raise Conflict("This appointment was cancelled, so its video room will not open.")
    moment = now()
    if appointment.status is AppointmentStatus.BOOKED and moment < opens:
        raise VideoNotOpen(f"Too early: the video room opens {_cfg('VIDEO_OPENS_MINUTES_BEFORE')} minutes before "
                           "the appointment starts.", opens_at=opens, closes_at=closes, too_early=True)
    if appointment.status is not AppointmentStatus.BOOKED or moment > closes:
        raise VideoNotOpen(f"This appointment has ended: its video room closes {_cfg('VIDEO_CLOSES_MINUTES_AFTER')} "
                           "minutes after the end.", opens_at=opens, closes_at=closes, too_early=False)
    return closes


def video_token(actor: User, appointment_id: int) -> tuple[str, str, datetime]:
    """A Twilio Video token for the appointment's own room, for its patient or provider only, while
    its room is open (`check_video_open`)."""
    appointment = get_appointment(actor, appointment_id)
    if actor.id not in (appointment.patient_id, appointment.provider_id):
        raise Forbidden("Only the patient and the provider join the video.")
    closes = check_video_open(appointment)
    moment = now()
    token = video.access_token(identity=f"user-{actor.id}", room=appointment.video_room,
                               ttl_seconds=max(60, int((closes - moment).total_seconds())))
    audit.record(actor, "read", "video_token", appointment.id, patient_id=appointment.patient_id)
    db.session.commit()
    return token, appointment.video_room, closes
