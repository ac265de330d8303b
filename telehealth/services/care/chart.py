"""The physician's patient chart, their list of patients, and what the follow-up form shows beside it.

Each is one read of the record, authorized once with the rule every clinical service applies
(`authz.authorize_patient(..., Scope.CLINICAL)`: a physician on the patient's care team) and audited
as one row: opening the chart reads what `outcomes.patient_outcomes`,
`treatment_oversight.patient_overview`, `prescriptions.for_patient`, `coaching.notes_for_patient`,
`follow_ups.decisions_for` and the timeline each read (and audit) on their own, so it calls their
unaudited parts (`outcomes.history` and `summarize`, `follow_ups.treatment_status`,
`timeline_pages.unaudited_page`) and queries the same tables itself, one statement per section,
whatever the length of the patient's history. Its audit row names the sections shown.

The list of patients costs a fixed number of statements per page (the page, its count, the
treatment phases, the open pauses and the latest PHQ-9 of the page's patients), and each patient
listed is audited in their own trail in one INSERT.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload

from telehealth.clock import now, today_in
from telehealth.errors import Forbidden, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PatientProfile, Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.billing.billing import Diagnosis
from telehealth.models.care.care_notes import CoachingNote, FollowUpDecision, PatientTreatmentPhase, TreatmentPhase
from telehealth.models.home_care.home_sessions import (
    AdverseEvent, BloodPressureReading, HomeSession, TreatmentPause,
)
from telehealth.models.pharmacy.prescriptions import Prescription, PrescriptionStatus
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.models.platform.alerts import PHYSICIAN_RECIPIENTS, AlertStatus, ClinicalAlert
from telehealth.models.records.releases import RecordRelease
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.screening.assessments import Measure
from telehealth.policy import ClinicalPolicy, current_policy
from telehealth.services.accounts.care_team import get_patient
from telehealth.services.care import follow_ups, outcomes
from telehealth.services.care import timeline  # noqa: F401  (registers the timeline's sources)
from telehealth.services.care.timeline_pages import Audience, Page, unaudited_page
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient, booking_continues, deny
from telehealth.services.scheduling.scheduling import APPOINTMENT_TYPES
from telehealth.services.screening.eligibility import age_on

PER_PAGE = 25
MAX_SEARCH = 100
TIMELINE_PAGE = 25
LOOSE_READINGS = 20  # readings taken outside a session: the latest few


# ----------------------------------------------------------------------------- the list of patients


@dataclass(frozen=True)
class PatientRow:
    patient_id: int
    name: str
    state: str
    age: int
    status: str                   # active, paused, maintenance or discharged (follow_ups.treatment_status)
    latest_phq9: outcomes.Point | None


@dataclass(frozen=True)
class PatientList:
    rows: list[PatientRow]
    page: int
    per_page: int
    total: int
    search: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _physician_only(actor: User, what: str) -> None:
    if actor.role is not Role.PHYSICIAN:
        raise Forbidden(f"{what} is for physicians.")


def _care_team(physician: User):
    """The patients the physician may read now: the rule of `authz.is_assigned`, as a subquery."""
    return select(CareAssignment.patient_id).where(
        CareAssignment.staff_id == physician.id, CareAssignment.care_role == CareRole.PHYSICIAN,
        CareAssignment.ended_at.is_(None),
        or_(CareAssignment.via_booking.is_(False), booking_continues(now())))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _statuses(patient_ids: list[int]) -> dict[int, str]:
    """`follow_ups.treatment_status` of many patients in two statements."""
    if not patient_ids:
        return {}
    phases = dict(db.session.execute(select(PatientTreatmentPhase.patient_id, PatientTreatmentPhase.phase)
                                     .where(PatientTreatmentPhase.patient_id.in_(patient_ids))).all())
    paused = set(db.session.scalars(select(TreatmentPause.patient_id).where(
        TreatmentPause.patient_id.in_(patient_ids), TreatmentPause.cleared_at.is_(None))))
    result = {}
    for pid in patient_ids:
        phase = phases.get(pid, TreatmentPhase.ACTIVE)
        result[pid] = "paused" if phase is not TreatmentPhase.DISCHARGED and pid in paused else phase.value
    return result


def _latest_phq9(patient_ids: list[int]) -> dict[int, outcomes.Point]:
    if not patient_ids:
        return {}
    rank = func.row_number().over(partition_by=Measure.patient_id,
                                  order_by=(Measure.taken_at.desc(), Measure.id.desc())).label("rank")
    ranked = (select(Measure.patient_id, Measure.taken_at, Measure.total, Measure.band, Measure.source, rank)
              .where(Measure.patient_id.in_(patient_ids), Measure.instrument == "phq9").subquery())
    rows = db.session.execute(select(ranked.c.patient_id, ranked.c.taken_at, ranked.c.total, ranked.c.band,
                                     ranked.c.source).where(ranked.c.rank == 1)).all()
    return {r.patient_id: outcomes.Point(r.taken_at, r.total, r.band, r.source) for r in rows}


def my_patients(physician: User, *, search: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> PatientList:
    """The physician's care-team patients by last name, `search` in their names, a page at a time,
    each with their treatment status and latest PHQ-9; each one listed is audited."""
    _physician_only(physician, "The list of patients")
    search = (search or "").strip()
    if len(search) > MAX_SEARCH:
        raise ValidationFailed("Some query parameters are invalid.",
                               fields={"q": [f"Search with at most {MAX_SEARCH} characters."]})
    page = max(1, page)
    query = (select(User, PatientProfile).join(PatientProfile, PatientProfile.user_id == User.id)
             .where(User.id.in_(_care_team(physician)), User.role == Role.PATIENT))
    if search:
        pattern = _like(search)
        full = func.lower(PatientProfile.legal_first_name + " " + PatientProfile.legal_last_name)
        query = query.where(or_(full.like(pattern, escape="\\"),
                                func.lower(User.display_name).like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(PatientProfile.legal_last_name, PatientProfile.legal_first_name,
                                             User.id).offset((page - 1) * per_page).limit(per_page)).all()
    ids = [user.id for user, _ in rows]
    statuses, phq9 = _statuses(ids), _latest_phq9(ids)
    today = today_in(physician.time_zone)
    listed = [PatientRow(user.id, f"{profile.legal_first_name} {profile.legal_last_name}",
                         profile.state_of_residence, age_on(profile.date_of_birth, today), statuses[user.id],
                         phq9.get(user.id)) for user, profile in rows]
    audit.record_many(physician, "read", "patient_list", None,
                      [(pid, ("name", "treatment_status", "phq9")) for pid in ids])
    db.session.commit()
    return PatientList(listed, page, per_page, total, search)


# ----------------------------------------------------------------------------- the chart


@dataclass(frozen=True)
class Header:
    patient_id: int
    name: str
    preferred_name: str
    state: str
    age: int
    time_zone: str
    status: str
    next_appointment: Appointment | None
    next_appointment_with: str | None
    next_appointment_kind: str | None      # "Physician follow-up", "Integration coaching, 60 minutes"


@dataclass(frozen=True)
class SessionRow:
    session: HomeSession
    gates: list[dict]                      # the gates as they stood at the start: {id, ok, reason}
    readings: list[BloodPressureReading]   # taken for this session, oldest first


@dataclass
class Chart:
    header: Header
    outcomes: list[outcomes.InstrumentOutcome]
    policy: ClinicalPolicy
    treatment_started_at: datetime | None
    sessions: list[SessionRow]
    loose_readings: list[BloodPressureReading]
    adverse_events: list[AdverseEvent]
    pauses: list[TreatmentPause]
    prescriptions: list[Prescription]
    shipments: list[Shipment]
    coaching: list[tuple[CoachingNote, datetime | None]]   # (note, when the session began)
    decisions: list[FollowUpDecision]
    diagnoses: list[Diagnosis]
    releases: list[RecordRelease]
    timeline: Page
    names: dict[int, str] = field(default_factory=dict)    # staff names by id
    at: datetime = field(default_factory=now)
    open_alerts: int = 0                                   # alerts about the patient not yet acknowledged
    latest_alert: ClinicalAlert | None = None              # the newest alert about the patient, open or not

    @property
    def open_adverse_events(self) -> list[AdverseEvent]:
        return [e for e in self.adverse_events if e.cleared_at is None]

    @property
    def open_pauses(self) -> list[TreatmentPause]:
        return [p for p in self.pauses if p.cleared_at is None]

    @property
    def active_prescription(self) -> Prescription | None:
        return next((p for p in self.prescriptions if p.status is PrescriptionStatus.ACTIVE), None)

    @property
    def latest_reading(self) -> BloodPressureReading | None:
        readings = [r for s in self.sessions for r in s.readings] + self.loose_readings
        return max(readings, key=lambda r: (r.taken_at, r.id), default=None)

    def outcome(self, instrument: str) -> outcomes.InstrumentOutcome | None:
        return next((o for o in self.outcomes if o.instrument == instrument), None)


def _authorized(physician: User, patient_id: int, resource: str) -> User:
    """The patient, once the physician is on their care team (the clinical services' rule)."""
    patient = db.session.scalar(select(User).where(User.id == patient_id)
                                .options(joinedload(User.patient_profile)))
    if patient is None or patient.role is not Role.PATIENT or patient.patient_profile is None:
        get_patient(-1)  # the one "No such patient." refusal
    if physician.role is not Role.PHYSICIAN:
        deny(physician, resource, patient_id, patient_id=patient_id, message=f"The {resource.replace('_', ' ')} "
             "is for the physicians on the patient's care team.")
    authorize_patient(physician, patient_id, Scope.CLINICAL)
    return patient


def _header(patient: User, physician: User) -> Header:
    profile = patient.patient_profile
    provider = aliased(User)
    upcoming = db.session.execute(
        select(Appointment, provider.display_name).join(provider, provider.id == Appointment.provider_id)
        .where(Appointment.patient_id == patient.id, Appointment.status == AppointmentStatus.BOOKED,
               Appointment.ends_at > now())
        .order_by(Appointment.starts_at, Appointment.id).limit(1)).first()
    return Header(patient.id, f"{profile.legal_first_name} {profile.legal_last_name}", patient.display_name,
                  profile.state_of_residence, age_on(profile.date_of_birth, today_in(physician.time_zone)),
                  patient.time_zone, follow_ups.treatment_status(patient.id),
                  upcoming[0] if upcoming else None, upcoming[1] if upcoming else None,
                  _kind_name(upcoming[0].appointment_type) if upcoming else None)


def _kind_name(code: str) -> str:
    kind = APPOINTMENT_TYPES.get(code)
    return kind.name if kind else code.replace("_", " ").capitalize()


def _outcomes(patient_id: int) -> tuple[list[outcomes.InstrumentOutcome], ClinicalPolicy, datetime | None]:
    series, started = outcomes.history(patient_id)
    policy = current_policy()
    return [outcomes.summarize(name, series[name], started, policy) for name in series], policy, started


def _sessions(patient_id: int) -> tuple[list[SessionRow], list[BloodPressureReading]]:
    sessions = list(db.session.scalars(select(HomeSession).where(HomeSession.patient_id == patient_id)
                                       .order_by(HomeSession.scheduled_for.desc(), HomeSession.id.desc())))
    ids = [s.id for s in sessions]
    by_session: dict[int, list[BloodPressureReading]] = {sid: [] for sid in ids}
    if ids:
        for reading in db.session.scalars(select(BloodPressureReading).where(
                BloodPressureReading.session_id.in_(ids))
                .order_by(BloodPressureReading.taken_at, BloodPressureReading.id)):
            by_session[reading.session_id].append(reading)
    loose = list(db.session.scalars(select(BloodPressureReading).where(
        BloodPressureReading.patient_id == patient_id, BloodPressureReading.session_id.is_(None))
        .order_by(BloodPressureReading.taken_at.desc(), BloodPressureReading.id.desc()).limit(LOOSE_READINGS)))
    rows = [SessionRow(s, [{"id": g.get("id"), "ok": bool(g.get("ok")), "reason": g.get("reason")}
                           for g in (s.gate_results or [])], by_session[s.id]) for s in sessions]
    return rows, loose


def _all(model, patient_id: int, *order):
    return list(db.session.scalars(select(model).where(model.patient_id == patient_id).order_by(*order)))


def _alerts(patient_id: int) -> tuple[int, ClinicalAlert | None]:
    """How many alerts about the patient are open, and the newest one (two statements, however many)."""
    about = (ClinicalAlert.patient_id == patient_id, ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS))
    open_count = db.session.scalar(select(func.count()).select_from(ClinicalAlert).where(
        *about, ClinicalAlert.status != AlertStatus.ACKNOWLEDGED))
    latest = db.session.scalar(select(ClinicalAlert).where(*about)
                               .order_by(ClinicalAlert.created_at.desc(), ClinicalAlert.id.desc()).limit(1))
    return open_count or 0, latest


def _names(ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


SECTIONS = ("header", "outcomes", "measures", "sessions", "blood_pressure", "adverse_events", "pauses",
            "prescriptions", "shipments", "coaching_summaries", "follow_up_decisions", "diagnoses", "releases",
            "alerts", "timeline")


def patient_chart(physician: User, patient_id: int, *, before: str | None = None,
                  limit: int = TIMELINE_PAGE) -> Chart:
    """The whole chart of a patient for a physician on their care team, with one page of the
    timeline (`before`: the cursor of the page to show); one audit row per opening."""
    patient = _authorized(physician, patient_id, "patient_chart")
    page = unaudited_page(patient_id, Audience.PHYSICIAN, physician.id, before=before, limit=limit)
    header = _header(patient, physician)
    measured, policy, started = _outcomes(patient_id)
    sessions, loose = _sessions(patient_id)
    events = _all(AdverseEvent, patient_id, AdverseEvent.opened_at.desc(), AdverseEvent.id.desc())
    pauses = _all(TreatmentPause, patient_id, TreatmentPause.started_at.desc(), TreatmentPause.id.desc())
    versions = _all(Prescription, patient_id, Prescription.signed_at.desc(), Prescription.id.desc())
    stages = _all(Shipment, patient_id, Shipment.created_at.desc(), Shipment.id.desc())
    coaching = [(note, starts) for note, starts in db.session.execute(
        select(CoachingNote, Appointment.starts_at).join(Appointment, Appointment.id == CoachingNote.appointment_id)
        .where(CoachingNote.patient_id == patient_id)
        .order_by(CoachingNote.created_at.desc(), CoachingNote.id.desc())).all()]
    decisions = _all(FollowUpDecision, patient_id, FollowUpDecision.decided_at.desc(), FollowUpDecision.id.desc())
    diagnoses = _all(Diagnosis, patient_id, Diagnosis.recorded_on.desc(), Diagnosis.id.desc())
    releases = _all(RecordRelease, patient_id, RecordRelease.granted_at.desc(), RecordRelease.id.desc())
    open_alerts, latest_alert = _alerts(patient_id)
    staff = ({latest_alert.acknowledged_by if latest_alert else None} | {p.physician_id for p in versions} | {d.physician_id for d in decisions}
             | {n.coach_id for n, _ in coaching} | {e.cleared_by for e in events}
             | {p.started_by for p in pauses} | {p.cleared_by for p in pauses} | {d.physician_id for d in diagnoses}
             | {e.details.get(key) for e in page.items
                for key in ("by", "cleared_by", "physician_id", "coach_id", "acknowledged_by")
                if isinstance(e.details.get(key), int)})
    names = _names(staff)
    audit.record(physician, "read", "patient_chart", patient_id, patient_id=patient_id, fields=SECTIONS)
    db.session.commit()
    return Chart(header=header, outcomes=measured, policy=policy, treatment_started_at=started, sessions=sessions,
                 loose_readings=loose, adverse_events=events, pauses=pauses, prescriptions=versions,
                 shipments=stages, coaching=coaching, decisions=decisions, diagnoses=diagnoses, releases=releases,
                 timeline=page, names=names, open_alerts=open_alerts, latest_alert=latest_alert)


# ----------------------------------------------------------------------------- beside the follow-up form


@dataclass
class FollowUpSummary:
    header: Header
    outcomes: list[outcomes.InstrumentOutcome]
    policy: ClinicalPolicy
    latest_reading: BloodPressureReading | None
    open_adverse_events: list[AdverseEvent]
    open_pauses: list[TreatmentPause]
    active_prescription: Prescription | None
    releasable: list[Shipment]          # stages whose sessions are done, awaiting the next one's release
    visits: list[Appointment]           # the physician's held follow-ups with the patient, newest first
    last_decision: FollowUpDecision | None

    def outcome(self, instrument: str) -> outcomes.InstrumentOutcome | None:
        return next((o for o in self.outcomes if o.instrument == instrument), None)


def follow_up_summary(physician: User, patient_id: int) -> FollowUpSummary:
    """The latest measures and what a decision may name, beside the follow-up form; audited."""
    patient = _authorized(physician, patient_id, "follow_up_summary")
    header = _header(patient, physician)
    measured, policy, _ = _outcomes(patient_id)
    reading = db.session.scalar(select(BloodPressureReading).where(BloodPressureReading.patient_id == patient_id)
                                .order_by(BloodPressureReading.taken_at.desc(), BloodPressureReading.id.desc())
                                .limit(1))
    events = list(db.session.scalars(select(AdverseEvent).where(
        AdverseEvent.patient_id == patient_id, AdverseEvent.cleared_at.is_(None)).order_by(AdverseEvent.opened_at)))
    pauses = list(db.session.scalars(select(TreatmentPause).where(
        TreatmentPause.patient_id == patient_id, TreatmentPause.cleared_at.is_(None))
        .order_by(TreatmentPause.started_at)))
    active = db.session.scalar(select(Prescription).where(
        Prescription.patient_id == patient_id, Prescription.status == PrescriptionStatus.ACTIVE).limit(1))
    releasable = list(db.session.scalars(select(Shipment).where(
        Shipment.patient_id == patient_id, Shipment.status == ShipmentStatus.DELIVERED,
        Shipment.sessions_completed_at.is_not(None), Shipment.next_stage_released_at.is_(None))
        .order_by(Shipment.stage)))
    visits = list(db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.provider_id == physician.id,
        Appointment.appointment_type == "follow_up", Appointment.status == AppointmentStatus.COMPLETED,
        Appointment.encounter_ended_at.is_not(None)).order_by(Appointment.starts_at.desc()).limit(5)))
    last = follow_ups.latest_decision(patient_id)  # the form says it saw this one (seen_latest_id)
    audit.record(physician, "read", "follow_up_summary", patient_id, patient_id=patient_id,
                 fields=("header", "outcomes", "blood_pressure", "adverse_events", "pauses", "prescription",
                         "shipments", "follow_up_decisions"))
    db.session.commit()
    return FollowUpSummary(header, measured, policy, reading, events, pauses, active, releasable, visits, last)


def event_patient(event_id: int) -> int | None:
    """The patient an adverse event belongs to (the page returns there after clearing it)."""
    return db.session.scalar(select(AdverseEvent.patient_id).where(AdverseEvent.id == event_id))

