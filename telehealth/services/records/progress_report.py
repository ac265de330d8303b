"""A progress report for the patient's own mental-health provider, shared only under the patient's
release (services/records/releases.py): HTML and PDF, built like the billing documents.

What it holds is what the release's wording promises, no more: the patient's name and date of
birth, when the program started, the sessions taken (dates), PHQ-9 and GAD-7 history (baseline,
latest, change: those of services/care/outcomes.py, so the report says what the app says), the current prescription (medication, dose per session, sessions), adverse events
(grade and date, no descriptions), the physician's name and NPI, and the period covered.

Who may generate it: the patient, or a physician on their care team (clinical data). Without an
active, unexpired, unrevoked release it is refused (409 `no_active_release`, with the reason), and
the refusal is kept in the audit trail like the report itself (who, for which release: the release
names the recipient, the audit row never does).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from sqlalchemy import select

from telehealth.clock import local_day, now, today_in
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.home_care.home_sessions import TAKEN, AdverseEvent, HomeSession
from telehealth.models.pharmacy.prescriptions import Prescription, PrescriptionStatus
from telehealth.models.records.releases import RecordRelease, ReleaseScope
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.policy import current_policy
from telehealth.services.care import outcomes
from telehealth.services.platform import audit
from telehealth.services.records import releases
from telehealth.services.platform.authz import Scope, authorize_patient, require_role
from telehealth.services.platform.documents import (
    clinic_name, format_date, latin1, legal_name, local_date, new_pdf, npi_of, pdf_heading, pdf_line, pdf_pairs,
    pdf_row,
)
from telehealth.services.accounts.care_team import get_patient

GENERATORS = (Role.PATIENT, Role.PHYSICIAN)
INSTRUMENTS = (("phq9", "PHQ-9"), ("gad7", "GAD-7"))
SECTIONS = ("patient", "program_start", "sessions", "measures", "prescription", "adverse_events", "physician")


@dataclass(frozen=True)
class MeasurePoint:
    taken_on: date
    total: int
    band: str


@dataclass(frozen=True)
class ScaleHistory:
    """One scale's history. Baseline, latest and change are the outcomes view's
    (services/care/outcomes.summarize), so the report and the app never disagree: the baseline is the
    last measure at or before the first at-home session; change is None until a measure follows it."""
    instrument: str          # phq9, gad7
    label: str               # PHQ-9, GAD-7
    points: tuple[MeasurePoint, ...]
    baseline: MeasurePoint | None = None
    latest: MeasurePoint | None = None
    change: int | None = None   # latest minus baseline (negative: fewer symptoms)


@dataclass(frozen=True)
class SessionLine:
    number: int
    taken_on: date
    status: str


@dataclass(frozen=True)
class PrescriptionSummary:
    medication: str
    form: str
    strength_mg: int
    dose_per_session_mg: int
    sessions: int
    refills: int
    version: int
    signed_on: date


@dataclass(frozen=True)
class AdverseLine:
    grade: str
    opened_on: date
    cleared_on: date | None


@dataclass(frozen=True)
class Physician:
    name: str
    npi: str


@dataclass(frozen=True)
class ProgressReport:
    clinic_name: str
    release_id: int
    recipient_name: str
    recipient_organization: str
    recipient_label: str             # "name, organisation", as the release's words name them
    release_granted_at: datetime
    release_expires_at: datetime
    patient_id: int
    patient_name: str
    date_of_birth: date
    program_start: date | None
    start: date                      # the period covered, in the patient's zone
    end: date
    sessions: tuple[SessionLine, ...]
    scales: tuple[ScaleHistory, ...]
    prescription: PrescriptionSummary | None
    adverse_events: tuple[AdverseLine, ...]
    physician: Physician | None
    generated_at: datetime
    generated_by: str                # "the patient" or the physician's name
    time_zone: str


def program_start(patient_id: int) -> datetime | None:
    """When the program started: the first completed physician consult, else the first prescription."""
    consult = db.session.scalar(select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.appointment_type == "consult",
        Appointment.status == AppointmentStatus.COMPLETED).order_by(Appointment.starts_at).limit(1))
    if consult is not None:
        return consult.encounter_started_at or consult.starts_at
    return db.session.scalar(select(Prescription.signed_at).where(Prescription.patient_id == patient_id)
                             .order_by(Prescription.signed_at).limit(1))


def _physician(patient_id: int, current: Prescription | None) -> Physician | None:
    """The prescribing physician of the current prescription, else the physician on the care team."""
    physician_id = current.physician_id if current is not None else db.session.scalar(
        select(CareAssignment.staff_id).where(
            CareAssignment.patient_id == patient_id, CareAssignment.care_role == CareRole.PHYSICIAN,
            CareAssignment.ended_at.is_(None)).order_by(CareAssignment.started_at.desc()).limit(1))
    physician = db.session.get(User, physician_id) if physician_id is not None else None
    if physician is None:
        return None
    return Physician(name=physician.display_name, npi=npi_of(physician))


def build(actor: User, patient_id: int, release_id: int | None = None) -> ProgressReport:
    """The report for the release's recipient; refused without a usable release. Audited."""
    require_role(actor, GENERATORS)
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    patient = get_patient(patient_id, require_profile=True)
    with releases.refusal_audited(actor, "progress_report", release_id, patient_id):
        release = releases.usable_release(patient_id, ReleaseScope.PROGRESS_REPORT, release_id)
    report = _assemble(actor, patient, release)
    audit.record(actor, "generate", "progress_report", release.id, patient_id=patient_id, fields=SECTIONS)
    db.session.commit()
    return report


def _assemble(actor: User, patient: User, release: RecordRelease) -> ProgressReport:
    zone, profile, at = patient.time_zone, patient.patient_profile, now()
    started = program_start(patient.id)
    sessions = db.session.scalars(select(HomeSession).where(
        HomeSession.patient_id == patient.id, HomeSession.status.in_(TAKEN))
        .order_by(HomeSession.started_at, HomeSession.id))
    series, treatment_started = outcomes.history(patient.id)
    first_measured = min((p.taken_at for points in series.values() for p in points), default=None)
    current = db.session.scalar(select(Prescription).where(
        Prescription.patient_id == patient.id, Prescription.status == PrescriptionStatus.ACTIVE)
        .order_by(Prescription.signed_at.desc(), Prescription.id.desc()).limit(1))
    events = db.session.scalars(select(AdverseEvent).where(AdverseEvent.patient_id == patient.id)
                                .order_by(AdverseEvent.opened_at, AdverseEvent.id))
    policy = current_policy()

    def point(p: outcomes.Point | None) -> MeasurePoint | None:
        return MeasurePoint(taken_on=local_day(p.taken_at, zone), total=p.total,
                            band=(p.band or "").replace("_", " ")) if p is not None else None

    scales = []
    for code, label in INSTRUMENTS:
        summary = outcomes.summarize(code, series.get(code, []), treatment_started, policy)
        scales.append(ScaleHistory(instrument=code, label=label, points=tuple(point(p) for p in summary.series),
                                   baseline=point(summary.baseline), latest=point(summary.latest),
                                   change=summary.change))
    scales = tuple(scales)
    firsts = [d for d in (started, first_measured) if d is not None]
    today = today_in(zone)
    return ProgressReport(
        clinic_name=clinic_name(), release_id=release.id, recipient_name=release.recipient_name,
        recipient_organization=release.recipient_organization, recipient_label=release.recipient_label,
        release_granted_at=release.granted_at, release_expires_at=release.expires_at, patient_id=patient.id,
        patient_name=legal_name(patient), date_of_birth=profile.date_of_birth,
        program_start=local_day(started, zone) if started else None,
        start=min(local_day(d, zone) for d in firsts) if firsts else today, end=today,
        sessions=tuple(SessionLine(number=s.number, taken_on=local_day(s.started_at or s.scheduled_for, zone),
                                   status=s.status.value) for s in sessions),
        scales=scales,
        prescription=PrescriptionSummary(
            medication=current.medication, form=str(current.form).replace("_", " "),
            strength_mg=current.strength_mg, dose_per_session_mg=current.dose_per_session_mg,
            sessions=current.sessions, refills=current.refills, version=current.version,
            signed_on=local_day(current.signed_at, zone)) if current is not None else None,
        adverse_events=tuple(AdverseLine(grade=e.grade.value, opened_on=local_day(e.opened_at, zone),
                                         cleared_on=local_day(e.cleared_at, zone) if e.cleared_at else None)
                             for e in events),
        physician=_physician(patient.id, current), generated_at=at,
        generated_by="the patient" if actor.role is Role.PATIENT else actor.display_name, time_zone=zone,
    )


# ----------------------------------------------------------------------------- rendering


def _change(scale: ScaleHistory) -> str:
    if scale.change is None:
        return "-"
    return f"{scale.change:+d}"


def _point(p: MeasurePoint | None) -> str:
    return f"{p.total} ({p.band}), {format_date(p.taken_on)}" if p is not None else "None before treatment"


def html(r: ProgressReport) -> str:
    return render_template("records/progress_report.html", r=r, day=format_date, change=_change, point=_point,
                           recipient=r.recipient_label, local_date=lambda m: local_date(m, r.time_zone))


def pdf(r: ProgressReport) -> bytes:
    # The billing documents' PDF helpers: letter size, core fonts only.
    pdf = new_pdf("Progress report", r.clinic_name)
    pdf.set_font("Helvetica", "", 10)
    pdf_pairs(pdf, [("Prepared for", r.recipient_label), ("Period", f"{format_date(r.start)} to {format_date(r.end)}"),
                    ("Prepared on", local_date(r.generated_at, r.time_zone)), ("Prepared by", r.generated_by),
                    ("Authorization", f"Release {r.release_id}, granted "
                                      f"{local_date(r.release_granted_at, r.time_zone)},"
                                      f" expires {local_date(r.release_expires_at, r.time_zone)}")])
    pdf_heading(pdf, "Patient")
    pdf_pairs(pdf, [("Name", r.patient_name), ("Date of birth", format_date(r.date_of_birth)),
                    ("Program start", format_date(r.program_start) if r.program_start else "Not started")])
    pdf_heading(pdf, "Physician")
    if r.physician is not None:
        pdf_pairs(pdf, [("Name", r.physician.name), ("NPI", r.physician.npi)])
    else:
        pdf_line(pdf, "No physician assigned.")
    pdf_heading(pdf, "Current prescription")
    if r.prescription is not None:
        p = r.prescription
        pdf_pairs(pdf, [("Medication", f"{p.medication}, {p.strength_mg} mg {p.form}"),
                        ("Dose per session", f"{p.dose_per_session_mg} mg"),
                        ("Sessions", f"{p.sessions} (refills: {p.refills})"),
                        ("Version", f"{p.version}, signed {format_date(p.signed_on)}")])
    else:
        pdf_line(pdf, "No active prescription.")
    pdf_heading(pdf, f"Sessions taken ({len(r.sessions)})")
    if r.sessions:
        for s in r.sessions:
            pdf_line(pdf, f"Session {s.number}: {format_date(s.taken_on)} ({s.status.replace('_', ' ')})")
    else:
        pdf_line(pdf, "None yet.")
    width = pdf.epw
    for scale in r.scales:
        pdf_heading(pdf, f"{scale.label} history")
        if not scale.points:
            pdf_line(pdf, "Not measured.")
            continue
        pdf_pairs(pdf, [("Baseline", _point(scale.baseline)),
                        ("Latest", _point(scale.latest)),
                        ("Change", _change(scale))])
        pdf_row(pdf, [("Date", width - 80, "L"), ("Score", 30, "R"), ("    Band", 50, "L")], bold=True, border="B")
        for point in scale.points:
            pdf_row(pdf, [(format_date(point.taken_on), width - 80, "L"), (point.total, 30, "R"),
                          ("    " + point.band, 50, "L")])
    pdf_heading(pdf, "Adverse events")
    if r.adverse_events:
        for e in r.adverse_events:
            cleared = f", cleared {format_date(e.cleared_on)}" if e.cleared_on else ", open"
            pdf_line(pdf, f"{e.grade.title()}: {format_date(e.opened_on)}{cleared}")
    else:
        pdf_line(pdf, "None recorded.")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf_line(pdf, latin1(f"Shared with the patient's written authorization (release {r.release_id}). "
                         "Confidential health information: do not disclose further without the patient's consent."),
             height=5)
    return bytes(pdf.output())

