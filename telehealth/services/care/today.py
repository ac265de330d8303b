"""The physician's day on one page (the portal's Today) and the alert list: urgent alerts first, each
with what happened since it was raised; the head of the review queue with its SLA; the day's
appointments in the physician's own zone; the work list.

Each part comes from the service that owns it (`alerts.open_alerts`, `reviews.queue`,
`worklist.worklist`, `scheduling.video_window`); this module adds only what a page needs around
them, and at a fixed number of queries however many rows it shows: the patients' names in one
query, and for the alerts shown, what happened since each was raised in one query per kind of event
(the patient's texts, blood-pressure readings, check-ins answered, who was paged, later alerts about
the same patient and who acknowledged them), each capped per alert by a window function.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from telehealth.clock import UTC, in_zone, now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PatientProfile, User
from telehealth.models.home_care.home_sessions import BloodPressureReading, CheckIn, HomeSession
from telehealth.models.messaging.messaging import InboundMessage
from telehealth.models.platform.alerts import PHYSICIAN_RECIPIENTS, AlertPage, AlertStatus, ClinicalAlert
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.screening.assessments import OPEN_REVIEW, Assessment
from telehealth.services.care import worklist as worklists
from telehealth.services.platform import alerts as alert_service
from telehealth.services.platform import audit
from telehealth.services.scheduling import scheduling
from telehealth.services.screening import reviews

ALERTS_SHOWN = 10        # on Today; /alerts pages through the rest
REVIEWS_PER_PAGE = 10
APPOINTMENTS_SHOWN = 40  # a day's appointments; more than a physician can hold in a day
WORK_PER_PAGE = 25
ALERTS_PER_PAGE = 20
EVENTS_PER_KIND = 5      # of each kind of event since an alert, the latest shown

# What an alert's kind is called on the page (a kind not listed shows its code in words).
ALERT_KINDS = {
    "crisis": "Crisis", "unclear_reply": "Text not understood", "bp_no_go": "Blood pressure: no-go",
    "bp_urgent": "Blood pressure: urgent", "adverse_event": "Serious side effect", "side_effect": "Side effect",
    "side_effect_text": "Side effect texted", "low_mood": "Low mood", "check_in_unanswered": "Check-in unanswered",
    "message_undeliverable": "Text not delivered", "review_overdue": "Review overdue",
}
CHECK_IN_NAMES = {"pre": "before-session", "post": "after-session", "next_day": "next-day"}
PAGE_REASONS = {"on_call": "on call", "everyone": "every physician paged", "care_team": "care team", "next_shift": "on call next"}


def kind_label(kind: str) -> str:
    return ALERT_KINDS.get(kind, kind.replace("_", " ").capitalize())


# ------------------------------------------------------------------ alerts and what happened since


@dataclass(frozen=True)
class Activity:
    """One thing that happened since an alert was raised: `kind` is text, reading, check_in, paged,
    acknowledged or alert (a later alert about the same patient)."""
    at: datetime
    kind: str
    words: str
    quote: str | None = None   # the patient's own words (a text), shown as a quotation


@dataclass
class AlertCard:
    alert: ClinicalAlert
    patient_name: str
    acknowledged_by: str | None = None        # the name of whoever acknowledged it
    activity: list[Activity] = field(default_factory=list)   # oldest first
    more: int = 0                             # events left out (EVENTS_PER_KIND of each kind shown)

    @property
    def label(self) -> str:
        return kind_label(self.alert.kind)

    @property
    def heard_from_patient(self) -> bool:
        """The patient texted, took a reading or answered a check-in since the alert was raised."""
        return any(a.kind in ("text", "reading", "check_in") for a in self.activity)


def _latest(alert_ids: list[int], at_column, *columns, joins, outer=(), from_raising=False
            ) -> tuple[list, dict[int, int]]:
    """Rows of one kind of event per alert (the alert's id as `alert_id`, `at`, then `columns`) after
    the alert was raised, the latest EVENTS_PER_KIND of each alert only, and how many each alert has
    in all: one query. `joins` and `outer` are (target, on) pairs from the alert to the event;
    `from_raising`: events at the very moment it was raised count (its first page goes out then)."""
    rank = func.row_number().over(partition_by=ClinicalAlert.id, order_by=(at_column.desc(),)).label("rank")
    total = func.count().over(partition_by=ClinicalAlert.id).label("total")
    query = select(ClinicalAlert.id.label("alert_id"), at_column.label("at"), *columns, rank, total) \
        .select_from(ClinicalAlert)
    for target, on in joins:
        query = query.join(target, on)
    for target, on in outer:
        query = query.outerjoin(target, on)
    since = at_column >= ClinicalAlert.created_at if from_raising else at_column > ClinicalAlert.created_at
    inner = query.where(ClinicalAlert.id.in_(alert_ids), since).subquery()
    rows = db.session.execute(select(inner).where(inner.c.rank <= EVENTS_PER_KIND)).all()
    totals = {row.alert_id: row.total for row in rows}
    return rows, totals


def _names_of_patients(patient_ids) -> dict[int, str]:
    ids = sorted({p for p in patient_ids if p is not None})
    if not ids:
        return {}
    return {row.user_id: f"{row.legal_first_name} {row.legal_last_name}" for row in db.session.execute(
        select(PatientProfile.user_id, PatientProfile.legal_first_name, PatientProfile.legal_last_name)
        .where(PatientProfile.user_id.in_(ids)))}


def _check_in_words(kind, answers: dict | None) -> str:
    words = f"Answered the {CHECK_IN_NAMES.get(getattr(kind, 'value', kind), 'session')} check-in"
    answers = answers or {}
    details = []
    if answers.get("mood") is not None:
        details.append(f"mood {answers['mood']} of 10")
    effects = [g.get("name", "").replace("_", " ") for g in answers.get("graded") or [] if g.get("name")]
    if effects:
        details.append("side effects: " + ", ".join(effects))
    return words + (f" ({'; '.join(details)})" if details else "")


def alert_cards(viewer: User, alerts: list[ClinicalAlert]) -> list[AlertCard]:
    """Each alert with its patient's name and what happened since it was raised: the patient's texts,
    readings and check-ins answered, who was paged, who acknowledged it, and later alerts about the
    same patient with who acknowledged those. A fixed number of queries for any number of alerts;
    the read of the patients' texts and readings is audited in each patient's trail (one statement)."""
    if not alerts:
        return []
    ids = [a.id for a in alerts]
    names = _names_of_patients(a.patient_id for a in alerts)
    cards = {a.id: AlertCard(a, names.get(a.patient_id, "") if a.patient_id else "") for a in alerts}
    more: dict[int, int] = dict.fromkeys(ids, 0)

    def add(rows, totals, make) -> None:
        for row in rows:
            cards[row.alert_id].activity.append(make(row))
        for alert_id, total in totals.items():
            more[alert_id] += max(0, total - EVENTS_PER_KIND)

    rows, totals = _latest(ids, InboundMessage.received_at, InboundMessage.body,
                           joins=[(InboundMessage, InboundMessage.user_id == ClinicalAlert.patient_id)])
    add(rows, totals, lambda r: Activity(r.at, "text", "The patient texted", quote=(r.body or "")[:500]))

    rows, totals = _latest(ids, BloodPressureReading.taken_at, BloodPressureReading.systolic,
                           BloodPressureReading.diastolic, BloodPressureReading.band,
                           joins=[(BloodPressureReading, BloodPressureReading.patient_id == ClinicalAlert.patient_id)])
    add(rows, totals, lambda r: Activity(
        r.at, "reading", f"Blood pressure {r.systolic}/{r.diastolic} ({getattr(r.band, 'value', r.band).replace('_', ' ')})"))

    rows, totals = _latest(ids, CheckIn.answered_at, CheckIn.kind, CheckIn.answers,
                           joins=[(HomeSession, HomeSession.patient_id == ClinicalAlert.patient_id),
                                  (CheckIn, CheckIn.session_id == HomeSession.id)])
    add(rows, totals, lambda r: Activity(r.at, "check_in", _check_in_words(r.kind, r.answers)))

    pager = aliased(User)
    rows, totals = _latest(ids, AlertPage.paged_at, AlertPage.reason, AlertPage.round, pager.display_name,
                           joins=[(AlertPage, AlertPage.alert_id == ClinicalAlert.id)],
                           outer=[(pager, pager.id == AlertPage.user_id)], from_raising=True)
    add(rows, totals, lambda r: Activity(r.at, "paged", (
        f"Paged {r.display_name} ({PAGE_REASONS.get(r.reason, r.reason.replace('_', ' '))})" if r.display_name
        else "Paged the fallback number")))

    later, by = aliased(ClinicalAlert), aliased(User)
    rank = func.row_number().over(partition_by=ClinicalAlert.id, order_by=(later.created_at.desc(),)).label("rank")
    total = func.count().over(partition_by=ClinicalAlert.id).label("total")
    inner = (select(ClinicalAlert.id.label("alert_id"), later.created_at.label("at"), later.kind, later.urgency,
                    later.acknowledged_at, by.display_name, rank, total)
             .select_from(ClinicalAlert)
             .join(later, (later.patient_id == ClinicalAlert.patient_id) & (later.id != ClinicalAlert.id)
                   & (later.created_at > ClinicalAlert.created_at))
             .outerjoin(by, by.id == later.acknowledged_by)
             .where(ClinicalAlert.id.in_(ids), later.recipient.in_(PHYSICIAN_RECIPIENTS)).subquery())
    rows = db.session.execute(select(inner).where(inner.c.rank <= EVENTS_PER_KIND)).all()

    def later_alert(r) -> Activity:
        words = f"A new {r.urgency} alert: {kind_label(r.kind).lower()}"
        if r.acknowledged_at is not None:
            words += f", acknowledged by {r.display_name or 'a former staff member'}"
        return Activity(r.at, "alert", words)

    add(rows, {r.alert_id: r.total for r in rows}, later_alert)
    for r in rows:  # whoever acknowledged a later alert about the patient did so after this one was raised
        if r.acknowledged_at is not None:
            cards[r.alert_id].activity.append(Activity(
                r.acknowledged_at, "acknowledged",
                f"{r.display_name or 'A former staff member'} acknowledged the {kind_label(r.kind).lower()} alert"))

    acknowledgers = {a.acknowledged_by for a in alerts if a.acknowledged_by is not None}
    staff = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(acknowledgers))).all()) \
        if acknowledgers else {}
    for alert in alerts:
        card = cards[alert.id]
        if alert.acknowledged_at is not None:
            card.acknowledged_by = "you" if alert.acknowledged_by == viewer.id else \
                staff.get(alert.acknowledged_by, "a former staff member")
            card.activity.append(Activity(alert.acknowledged_at, "acknowledged",
                                          f"Acknowledged by {card.acknowledged_by}"))
        card.activity.sort(key=lambda a: a.at)
        card.more = more[alert.id]
    audit.record_many(viewer, "read", "alert_activity", None,
                      [(pid, ("texts", "readings", "check_ins")) for pid in sorted(
                          {a.patient_id for a in alerts if a.patient_id is not None})])
    db.session.commit()
    return [cards[a.id] for a in alerts]


def open_alert_cards(viewer: User, limit: int | None = None) -> list[AlertCard]:
    """The open alerts for Today: urgent ones first (newest first within each), up to `limit`."""
    limit = limit or ALERTS_SHOWN
    return alert_cards(viewer, alert_service.open_alerts(viewer, limit=limit, urgent_first=True))


@dataclass(frozen=True)
class AlertPageOf:
    cards: list[AlertCard]
    status: str
    next_before_id: int | None


def alert_page(viewer: User, *, status: str = "open", before_id: int | None = None,
               limit: int | None = None) -> AlertPageOf:
    """A page of the viewer's alerts (`open` or `acknowledged`), newest first, paged by id."""
    limit = limit or ALERTS_PER_PAGE
    items = alert_service.open_alerts(viewer, before_id=before_id, limit=limit, status=status)
    return AlertPageOf(alert_cards(viewer, items), status, items[-1].id if len(items) == limit else None)


def acknowledge(viewer: User, alert_id: int) -> ClinicalAlert:
    """Acknowledge an alert (services/platform/alerts.acknowledge: a second one is refused, naming
    who acknowledged first)."""
    return alert_service.acknowledge(viewer, alert_id)


# ------------------------------------------------------------------ the review queue


@dataclass(frozen=True)
class ReviewRow:
    assessment: Assessment
    patient_name: str
    due_at: datetime | None
    seconds_left: int | None      # negative: overdue


@dataclass(frozen=True)
class ReviewSummary:
    rows: list[ReviewRow]
    total: int                    # screenings waiting in all
    page: int
    pages: int


def review_summary(viewer: User, page: int = 1, per_page: int | None = None) -> ReviewSummary:
    """A page of the review queue (urgent first, then oldest: `reviews.queue`) with each one's SLA."""
    per_page = per_page or REVIEWS_PER_PAGE
    total = db.session.scalar(select(func.count(Assessment.id)).where(Assessment.review_status.in_(OPEN_REVIEW)))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = reviews.queue(viewer, "open", limit=page * per_page)[(page - 1) * per_page:]
    names = _names_of_patients(a.patient_id for a in items)
    at = now()
    rows = []
    for a in items:
        left = a.time_left(at)
        rows.append(ReviewRow(a, names.get(a.patient_id, ""), a.review_due_at,
                              None if left is None else int(left.total_seconds())))
    return ReviewSummary(rows, total, page, pages)


# ------------------------------------------------------------------ the day's appointments


@dataclass(frozen=True)
class AppointmentRow:
    appointment: Appointment
    patient_name: str
    type_name: str
    opens_at: datetime
    closes_at: datetime
    joinable: bool               # booked and its video room open now


@dataclass(frozen=True)
class DayAppointments:
    day: date
    zone: str
    rows: list[AppointmentRow]
    total: int


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of `day` in `zone`, in UTC (a day of 23 or 25 hours at a DST change)."""
    tz = ZoneInfo(zone)
    return (datetime.combine(day, time(0), tz).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC))


def day_appointments(provider: User, limit: int | None = None) -> DayAppointments:
    """The provider's appointments today in their own zone (not the cancelled ones), in order, each
    with whether its video room is open now; the list is audited once in each patient's trail."""
    limit, at = limit or APPOINTMENTS_SHOWN, now()
    day = in_zone(at, provider.time_zone).date()
    start, end = day_bounds(day, provider.time_zone)
    where = (Appointment.provider_id == provider.id, Appointment.status != AppointmentStatus.CANCELLED,
             Appointment.starts_at >= start, Appointment.starts_at < end)
    total = db.session.scalar(select(func.count(Appointment.id)).where(*where))
    items = list(db.session.scalars(select(Appointment).where(*where).order_by(Appointment.starts_at, Appointment.id)
                                    .limit(limit))) if total else []
    names = _names_of_patients(a.patient_id for a in items)
    rows = []
    for a in items:
        opens, closes = scheduling.video_window(a)
        kind = scheduling.APPOINTMENT_TYPES.get(a.appointment_type)
        rows.append(AppointmentRow(a, names.get(a.patient_id, ""), kind.name if kind else a.appointment_type,
                                   opens, closes, a.status is AppointmentStatus.BOOKED and opens <= at <= closes))
    audit.record_many(provider, "read", "appointment_list", None,
                      [(pid, ()) for pid in sorted({a.patient_id for a in items})])
    db.session.commit()
    return DayAppointments(day, provider.time_zone, rows, total)


# ------------------------------------------------------------------ the work list


@dataclass(frozen=True)
class WorkPage:
    items: list[worklists.WorkItem]
    total: int
    page: int
    pages: int


def work_page(physician: User, page: int = 1, per_page: int | None = None) -> WorkPage:
    """A page of the physician's work list (`worklist.worklist`: urgent first, then the longest due)."""
    per_page = per_page or WORK_PER_PAGE
    page = min(max(1, page), worklists.MAX_LIMIT // per_page)
    result = worklists.worklist(physician, limit=page * per_page)
    pages = max(1, min(-(-result.total // per_page), worklists.MAX_LIMIT // per_page))
    return WorkPage(result.items[(page - 1) * per_page:], result.total, page, pages)


# ------------------------------------------------------------------ the whole page


@dataclass(frozen=True)
class Today:
    at: datetime
    alerts: list[AlertCard]
    reviews: ReviewSummary
    appointments: DayAppointments
    work: WorkPage


def today(physician: User, *, review_page: int = 1, work_list_page: int = 1) -> Today:
    """Everything on the physician's Today page, in the order it is read."""
    return Today(now(), open_alert_cards(physician), review_summary(physician, review_page),
                 day_appointments(physician), work_page(physician, work_list_page))


__all__ = ["Today", "today", "alert_page", "acknowledge", "alert_cards", "kind_label", "AlertStatus"]
