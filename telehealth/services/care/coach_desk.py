"""The integration coach's desk: their day, their patients, and one patient as a coach may see them.

- `coach_day`: the coach's coaching sessions today (in the coach's own zone) with their video room
  and their note's state, the sessions of the edit window still without a note, and the next days.
- `my_patients`: the patients the coach looks after now, by the rule every read of a patient checks
  (`authz.is_assigned`): a current coach assignment made by admin or ops, or one made by the
  patient booking coaching with them while that coaching continues (`care_team.join_by_booking`).
  Paged and searchable by name, in a fixed number of queries whatever the page holds.
- `sessions_and_moods`: the patient's at-home sessions (date and status) with the mood answered in
  each check-in, read through the timeline's own sources for the coach audience
  (`timeline.SOURCES`), so a coach sees here exactly what the timeline lets them see and nothing
  clinical (no readings, side effects, gates, prescriptions or scores).
- `coaching_history`: the patient's coaching sessions (any coach's date and status, through the
  timeline's appointment source) with this coach's own notes (`coaching.notes_for_patient`).

Every read is authorized by `authz.authorize_patient` and audited in the patient's trail, as the
services it builds on do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from telehealth.clock import UTC, day_bounds, now, today_in
from telehealth.errors import ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.care.care_notes import CoachingNote
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.policy import current_policy
from telehealth.services.accounts import care_team
from telehealth.services.care import coaching, timeline
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, booking_continues, require_role
from telehealth.services.scheduling.scheduling import APPOINTMENT_TYPES, COACHING_TYPES, video_window

COACH = (Role.COACH,)
DAYS_AHEAD = 7
TO_WRITE_LIMIT = 20
PER_PAGE = 25
MAX_QUERY = 100
SESSIONS_SHOWN = 24


# ------------------------------------------------------------------ the day


@dataclass(frozen=True)
class NoteState:
    """Where a session's note stands: `to_write`, `open` (written, still editable), `locked`
    (written, the edit window closed), `not_started` or `not_held` (nothing to write)."""
    code: str
    editable_until: datetime
    note_id: int | None = None
    revision: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CoachSession:
    appointment: Appointment
    patient_name: str
    minutes: int
    status: str          # in words: Upcoming, Room open, In progress, Finished, Held, Missed, Cancelled
    room_opens: datetime
    room_closes: datetime
    room_open: bool
    note: NoteState


@dataclass(frozen=True)
class CoachDay:
    day: date
    zone: str
    today: list[CoachSession]
    to_write: list[CoachSession]      # earlier sessions in the edit window with no note yet
    ahead: list[CoachSession]         # the next days, cancelled ones left out
    days_ahead: int = DAYS_AHEAD
    edit_days: int = 7                # how long a note stays editable after its session (policy)


def _status(appointment: Appointment, opens: datetime, at: datetime) -> str:
    if appointment.status is AppointmentStatus.CANCELLED:
        return "Cancelled"
    if appointment.status is AppointmentStatus.NO_SHOW:
        return "Missed"
    if appointment.status is AppointmentStatus.COMPLETED:
        return "Held"
    if at < opens:
        return "Upcoming"
    if at < appointment.starts_at:
        return "Room open"
    if at < appointment.ends_at:
        return "In progress"
    return "Finished"


def _note_state(appointment: Appointment, note: CoachingNote | None) -> NoteState:
    until = coaching.edit_deadline(appointment)
    if note is not None:
        code = "open" if coaching.not_editable(appointment) is None else "locked"
        return NoteState(code, until, note.id, note.revision, note.updated_at)
    refused = coaching.not_writable(appointment)
    if refused is not None:
        return NoteState(refused.code.removeprefix("session_"), until)
    return NoteState("to_write", until)


def _sessions(rows: list[Appointment]) -> list[CoachSession]:
    """Each appointment with its patient's name and its note, in two queries for the whole list."""
    if not rows:
        return []
    ids = [a.id for a in rows]
    names = dict(db.session.execute(select(User.id, User.display_name)
                                    .where(User.id.in_({a.patient_id for a in rows}))).all())
    notes = {n.appointment_id: n for n in db.session.execute(
        select(CoachingNote.id, CoachingNote.appointment_id, CoachingNote.revision, CoachingNote.updated_at)
        .where(CoachingNote.appointment_id.in_(ids))).all()}
    moment = now()
    out = []
    for a in rows:
        opens, closes = video_window(a)
        kind = APPOINTMENT_TYPES.get(a.appointment_type)
        out.append(CoachSession(
            appointment=a, patient_name=names.get(a.patient_id, ""), minutes=kind.minutes if kind else 0,
            status=_status(a, opens, moment), room_opens=opens, room_closes=closes,
            room_open=a.status is AppointmentStatus.BOOKED and opens <= moment <= closes,
            note=_note_state(a, notes.get(a.id))))
    return out


def coach_day(coach: User, *, days_ahead: int = DAYS_AHEAD) -> CoachDay:
    """The coach's coaching sessions today in their own zone, the notes still to write from the edit
    window, and the next `days_ahead` days; read in a fixed number of queries, audited in each
    patient's trail."""
    require_role(coach, COACH)
    zone = coach.time_zone
    today = today_in(zone)
    start, end = day_bounds(today, today, zone)
    _, horizon = day_bounds(today, today + timedelta(days=days_ahead), zone)
    mine = and_(Appointment.provider_id == coach.id, Appointment.appointment_type.in_(COACHING_TYPES))
    rows = list(db.session.scalars(select(Appointment).where(
        mine, Appointment.starts_at < horizon,
        or_(Appointment.starts_at >= start,
            # earlier sessions of the edit window still without a note
            and_(Appointment.ends_at > now() - timedelta(days=current_policy().coaching_note_edit_days),
                 Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)),
                 ~select(CoachingNote.id).where(CoachingNote.appointment_id == Appointment.id).exists())))
        .order_by(Appointment.starts_at, Appointment.id)))
    sessions = _sessions(rows)
    today_rows = [s for s in sessions if start <= s.appointment.starts_at < end]
    ahead = [s for s in sessions if s.appointment.starts_at >= end
             and s.appointment.status is not AppointmentStatus.CANCELLED]
    to_write = [s for s in sessions if s.appointment.starts_at < start and s.note.code == "to_write"]
    to_write = list(reversed(to_write))[:TO_WRITE_LIMIT]  # the most recent first
    audit.record_many(coach, "read", "appointment_list", None,
                      [(patient_id, ()) for patient_id in sorted({s.appointment.patient_id for s in sessions})])
    db.session.commit()
    return CoachDay(today, zone, today_rows, to_write, ahead, days_ahead, current_policy().coaching_note_edit_days)


# ------------------------------------------------------------------ the patients


@dataclass(frozen=True)
class PatientRow:
    patient_id: int
    name: str
    standing: bool                    # assigned by admin or ops (else: by a booking, while it lasts)
    last_session: datetime | None     # with this coach
    next_session: datetime | None


@dataclass(frozen=True)
class PatientList:
    rows: list[PatientRow]
    page: int
    per_page: int
    total: int
    query: str = ""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _current_assignment(coach: User):
    """SQL: the coach's assignment to the patient holds now (the same rule as `authz.is_assigned`)."""
    return and_(CareAssignment.staff_id == coach.id, CareAssignment.care_role == CareRole.COACH,
                CareAssignment.ended_at.is_(None),
                or_(CareAssignment.via_booking.is_(False), booking_continues(now())))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def my_patients(coach: User, *, query: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> PatientList:
    """The coach's patients now, by name, one page of them, each with their last and next session
    with this coach: four queries whatever the page holds. Audited in each listed patient's trail."""
    require_role(coach, COACH)
    text = (query or "").strip()
    if len(text) > MAX_QUERY:
        raise ValidationFailed("Some query parameters are invalid.",
                               fields={"q": [f"Search with at most {MAX_QUERY} characters."]})
    if page < 1:
        raise ValidationFailed("Some query parameters are invalid.", fields={"page": ["Pages start at 1."]})
    standing = func.max(case((CareAssignment.via_booking.is_(False), 1), else_=0))
    listed = (select(User.id, User.display_name, standing.label("standing"))
              .join(CareAssignment, CareAssignment.patient_id == User.id)
              .where(_current_assignment(coach), User.role == Role.PATIENT)
              .group_by(User.id, User.display_name))
    if text:
        listed = listed.where(User.display_name.ilike(_like(text), escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(listed.subquery()))
    rows = db.session.execute(listed.order_by(func.lower(User.display_name), User.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    ids = [r.id for r in rows]
    last, upcoming = {}, {}
    if ids:
        mine = and_(Appointment.provider_id == coach.id, Appointment.patient_id.in_(ids),
                    Appointment.appointment_type.in_(COACHING_TYPES))
        moment = now()
        last = dict(db.session.execute(
            select(Appointment.patient_id, func.max(Appointment.starts_at))
            .where(mine, Appointment.starts_at <= moment,
                   Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)))
            .group_by(Appointment.patient_id)).all())
        upcoming = dict(db.session.execute(
            select(Appointment.patient_id, func.min(Appointment.starts_at))
            .where(mine, Appointment.starts_at > moment, Appointment.status == AppointmentStatus.BOOKED)
            .group_by(Appointment.patient_id)).all())
    audit.record_many(coach, "read", "coach_patient_list", coach.id, [(pid, ["display_name"]) for pid in ids])
    db.session.commit()
    return PatientList([PatientRow(r.id, r.display_name, bool(r.standing), _aware(last.get(r.id)),
                                   _aware(upcoming.get(r.id))) for r in rows],
                       page, per_page, total or 0, text)


def _aware(moment: datetime | None) -> datetime | None:
    """An aggregate over a UTC column comes back naive from SQLite: the column's own type is not applied."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ one patient, as a coach sees them


@dataclass
class SessionMoods:
    session_id: int
    number: int
    scheduled_for: datetime
    status: str
    moods: dict[str, int | None] = field(default_factory=dict)   # check-in kind (pre, post, next_day) -> mood


def _coach_events(coach: User, patient_id: int, kind: str, limit: int) -> list[timeline.Event]:
    """One timeline source's newest events for the coach audience: the timeline's own restricted view."""
    source = timeline.SOURCES[kind]
    if timeline.Audience.COACH not in source.audiences:  # a source a coach may not read is never asked
        return []
    request = timeline.SourceRequest(kind, patient_id, timeline.Audience.COACH, None, limit, viewer_id=coach.id)
    return list(source.fetch(request))


def sessions_and_moods(coach: User, patient_id: int, *, limit: int = SESSIONS_SHOWN) -> list[SessionMoods]:
    """The patient's newest at-home sessions (number, date, status) with the mood of each check-in:
    what the timeline shows a coach of them, nothing more. Audited."""
    require_role(coach, COACH)
    authorize_patient(coach, patient_id, Scope.COACHING)
    sessions = {e.row_id: SessionMoods(e.row_id, e.details["number"], e.details["scheduled_for"], e.details["status"])
                for e in _coach_events(coach, patient_id, "session", limit)}
    for event in _coach_events(coach, patient_id, "check_in", 3 * limit + 3):
        item = sessions.get(event.details["session_id"])
        if item is not None:
            item.moods[event.details["check_in"]] = event.details.get("mood")
    audit.record(coach, "read", "home_sessions", patient_id, patient_id=patient_id, fields=["status", "mood"])
    db.session.commit()
    return sorted(sessions.values(), key=lambda s: (s.scheduled_for, s.session_id), reverse=True)


@dataclass(frozen=True)
class CoachingItem:
    appointment_id: int
    starts_at: datetime
    status: str
    coach_name: str
    mine: bool
    note: coaching.NoteView | None    # this coach's own note (another coach's is not theirs to read)


def coaching_history(coach: User, patient_id: int, *, limit: int = 50) -> list[CoachingItem]:
    """The patient's coaching sessions, newest first, each with this coach's note when it is theirs."""
    require_role(coach, COACH)
    authorize_patient(coach, patient_id, Scope.COACHING)
    notes = {v.note.appointment_id: v for v in coaching.notes_for_patient(coach, patient_id)}
    items = []
    for event in _coach_events(coach, patient_id, "appointment", limit):
        d = event.details
        if d["type"] not in COACHING_TYPES:
            continue
        items.append(CoachingItem(d["appointment_id"], d["starts_at"], d["status"], d["provider_name"],
                                  d["provider_id"] == coach.id, notes.get(d["appointment_id"])))
    return items


@dataclass(frozen=True)
class CoachPatient:
    patient_id: int
    name: str
    time_zone: str


def patient_for_coach(coach: User, patient_id: int) -> CoachPatient:
    """Who the patient is (name and zone: contact details a coach may know), for a coach assigned to
    them; the read is audited (`care_team.read_patient_record`)."""
    require_role(coach, COACH)
    patient, _ = care_team.read_patient_record(coach, patient_id)
    return CoachPatient(patient.id, patient.display_name, patient.time_zone)


# ------------------------------------------------------------------ the note editor


@dataclass(frozen=True)
class NoteEditor:
    session: CoachSession
    note: CoachingNote | None
    reason: str | None      # why the note cannot be written or edited now, in the service's words


def note_editor(coach: User, appointment_id: int) -> NoteEditor:
    """A session's note as its coach may write or edit it (`coaching.session_note`), with the reason
    the service would refuse a change, so the page says it before anything is typed."""
    require_role(coach, COACH)
    appointment, note = coaching.session_note(coach, appointment_id)
    [session] = _sessions([appointment])
    refused = coaching.not_editable(appointment) if note is not None else coaching.not_writable(appointment)
    return NoteEditor(session, note, refused.message if refused is not None else None)
