"""The program report for admin: the program's own outcome and service figures over a date range,
aggregated (no patient ids, names or scores of anyone in the output), as JSON or CSV.

What is counted (dates inclusive, read in the viewer's time zone):
- the outcome cohort mirrors the published at-home cohort of PRODUCT.md (PHQ-9 after 4 sessions):
  patients with a PHQ-9 baseline (services/care/outcomes.py: the last PHQ-9 at or before their first
  session started) and a PHQ-9 taken after their 4th at-home session (`outcome_after_sessions` of the
  clinical policy; sessions that started, in the order they started; "after" is after the session
  ended: completed, ended early, or else started).
  The outcome measure is the first such PHQ-9, and the patient belongs to the range in which it was
  taken. Response, remission and worsening (services/care/outcomes.py, the clinical policy's thresholds)
  are judged from the baseline to that measure, each rate over the whole cohort (a baseline of 0 is
  never a response).
- days to consult: for patients whose first screening was submitted in the range, the days from
  that submission to their first completed consult with a recorded encounter; the median over those
  consulted so far.
- reviews within the SLA (24 h by default): services/screening/reviews.sla_counts over screenings submitted in
  the range, among those whose outcome is known (reviewed, or still open past due).
- shipments delivered within 5 calendar days (`delivery_promise_days` of the clinical policy: the
  promise patients are made, not the ops SLA in business days): shipments created in the range (not
  cancelled) whose outcome is known (delivered, or more than that many days old), delivered within
  that many days of being created. The JSON key `delivered_within_5_business_days` (and the CSV
  metric) keep their historical name for compatibility: the figure counts calendar days.

Every figure is a bounded number of SQL statements whatever the number of patients: no per-patient
loops.
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select

from telehealth.clock import day_bounds, now
from telehealth.errors import ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, Measure
from telehealth.models.home_care.home_sessions import HomeSession
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.policy import ClinicalPolicy, current_policy
from telehealth.services.platform import audit
from telehealth.services.screening import reviews
from telehealth.services.platform.authz import require_role
from telehealth.services.care.outcomes import is_remission, is_response, is_worsening, rate

MAX_RANGE_DAYS = 3660
# The delivery figure's JSON key and CSV metric, kept for API compatibility: it counts calendar days
# (`delivery_promise_days`), whatever "business" in the name says.
DELIVERY_METRIC = "delivered_within_5_business_days"


def cohort_definition(policy: ClinicalPolicy) -> str:
    n = policy.outcome_after_sessions
    nth = f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
    return ("patients with a PHQ-9 baseline (the last PHQ-9 at or before their first at-home session) "
            f"and a PHQ-9 taken after their {nth} at-home session; the first such measure, taken in the range, "
            "is the outcome")


@dataclass(frozen=True)
class Rate:
    rate: float | None
    numerator: int
    n: int


@dataclass(frozen=True)
class ProgramReport:
    start: date
    end: date
    time_zone: str
    cohort_patients: int
    response: Rate
    remission: Rate
    worsening: Rate
    patients_screened: int
    patients_consulted: int
    median_days_to_consult: float | None
    reviewed_within_sla: Rate
    review_sla_hours: int
    delivered_within_deadline: Rate
    policy: ClinicalPolicy


def _rate(numerator: int, n: int) -> Rate:
    return Rate(rate(numerator, n), numerator, n)


def cohort_rates(pairs: list[tuple[int, int]], policy: ClinicalPolicy) -> tuple[Rate, Rate, Rate]:
    """Response, remission and worsening over (baseline, outcome) PHQ-9 pairs, all on the whole cohort."""
    n = len(pairs)
    responded = sum(1 for b, o in pairs if is_response(b, o, policy))
    remitted = sum(1 for _, o in pairs if is_remission(o, policy))
    worsened = sum(1 for b, o in pairs if is_worsening(b, o, policy))
    return _rate(responded, n), _rate(remitted, n), _rate(worsened, n)


def median_days(waits: list[timedelta]) -> float | None:
    return round(statistics.median(w.total_seconds() for w in waits) / 86400, 2) if waits else None


# ----------------------------------------------------------------------------- the queries


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed("The range is empty.", fields={"end": ["Must be on or after 'start'."]})
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed("The range is too long.", fields={"end": [f"At most {MAX_RANGE_DAYS} days after 'start'."]})


def phq9_pairs(lo: datetime, hi: datetime, outcome_after_sessions: int) -> list[tuple[int, int]]:
    """One statement: (baseline, outcome) PHQ-9 totals of the cohort whose outcome (the first PHQ-9
    after at-home session number `outcome_after_sessions`) falls in [lo, hi)."""
    taken = (select(HomeSession.patient_id, HomeSession.started_at,
                    func.coalesce(HomeSession.completed_at, HomeSession.ended_at, HomeSession.started_at)
                    .label("ended_at"),
                    func.row_number().over(partition_by=HomeSession.patient_id,
                                           order_by=(HomeSession.started_at, HomeSession.id)).label("n"))
             .where(HomeSession.started_at.is_not(None))).cte("taken")
    first = select(taken.c.patient_id, taken.c.started_at).where(taken.c.n == 1).cte("first_session")
    nth = (select(taken.c.patient_id, taken.c.ended_at)
           .where(taken.c.n == outcome_after_sessions).cte("outcome_session"))
    before = (select(Measure.patient_id, Measure.total,
                     func.row_number().over(partition_by=Measure.patient_id,
                                            order_by=(Measure.taken_at.desc(), Measure.id.desc())).label("r"))
              .join(first, first.c.patient_id == Measure.patient_id)
              .where(Measure.instrument == "phq9", Measure.taken_at <= first.c.started_at)).cte("baseline")
    after = (select(Measure.patient_id, Measure.total, Measure.taken_at,
                    func.row_number().over(partition_by=Measure.patient_id,
                                           order_by=(Measure.taken_at, Measure.id)).label("r"))
             .join(nth, nth.c.patient_id == Measure.patient_id)
             .where(Measure.instrument == "phq9", Measure.taken_at > nth.c.ended_at)).cte("outcome")
    rows = db.session.execute(
        select(before.c.total, after.c.total)
        .join_from(before, after, before.c.patient_id == after.c.patient_id)
        .where(before.c.r == 1, after.c.r == 1, after.c.taken_at >= lo, after.c.taken_at < hi)).all()
    return [(b, o) for b, o in rows]


def consult_waits(lo: datetime, hi: datetime) -> tuple[int, list[timedelta]]:
    """One statement: patients whose first screening was submitted in [lo, hi), and for those consulted
    since, the wait from that submission to the first completed, recorded consult."""
    first = (select(Assessment.patient_id, func.min(Assessment.submitted_at).label("submitted_at"))
             .where(Assessment.status == AssessmentStatus.SUBMITTED, Assessment.patient_id.is_not(None))
             .group_by(Assessment.patient_id).subquery())
    seen_at = func.coalesce(Appointment.encounter_started_at, Appointment.starts_at)
    rows = db.session.execute(
        select(first.c.submitted_at, func.min(seen_at))
        .select_from(first)
        .outerjoin(Appointment, and_(
            Appointment.patient_id == first.c.patient_id, Appointment.appointment_type == "consult",
            Appointment.status == AppointmentStatus.COMPLETED, Appointment.encounter_ended_at.is_not(None),
            seen_at >= first.c.submitted_at))
        .where(first.c.submitted_at >= lo, first.c.submitted_at < hi)
        .group_by(first.c.patient_id, first.c.submitted_at)).all()
    return len(rows), [consulted - submitted for submitted, consulted in rows if consulted is not None]


def delivery_counts(lo: datetime, hi: datetime, at: datetime, promise_days: int) -> tuple[int, int]:
    """One statement: (delivered within `promise_days` calendar days of the stage going to the
    pharmacy, outcome known) over shipments created in [lo, hi). The ops SLA counts business days
    (shipping_sla.py); the program's promise to patients ("3 to 5 days", `delivery_promise_days`),
    and this figure, counts calendar days. (The day arithmetic is done here, not in SQL, the same on
    PostgreSQL and SQLite.)"""
    window = timedelta(days=promise_days)
    rows = db.session.execute(select(Shipment.created_at, Shipment.delivered_at).where(
        Shipment.created_at >= lo, Shipment.created_at < hi, Shipment.status != ShipmentStatus.CANCELLED)).all()
    on_time = sum(1 for created, delivered in rows if delivered is not None and delivered - created <= window)
    known = sum(1 for created, delivered in rows if delivered is not None or at - created > window)
    return on_time, known


def program_report(actor: User, start: date, end: date, zone: str) -> ProgramReport:
    """Admin only. Aggregates only; the read is audited (no patient is named in it)."""
    require_role(actor, (Role.ADMIN,))
    _check_range(start, end)
    lo, hi = day_bounds(start, end, zone)
    policy = current_policy()
    response, remission, worsening = cohort_rates(phq9_pairs(lo, hi, policy.outcome_after_sessions), policy)
    screened, waits = consult_waits(lo, hi)
    sla = reviews.sla_counts(lo, hi, end_exclusive=True)
    on_time, known = delivery_counts(lo, hi, now(), policy.delivery_promise_days)
    audit.record(actor, "read", "program_report", f"{start.isoformat()}..{end.isoformat()}")
    db.session.commit()
    return ProgramReport(
        start=start, end=end, time_zone=zone, cohort_patients=response.n,
        response=response, remission=remission, worsening=worsening,
        patients_screened=screened, patients_consulted=len(waits), median_days_to_consult=median_days(waits),
        reviewed_within_sla=_rate(sla["reviewed_within_sla"], sla["decided"]), review_sla_hours=policy.review_sla_hours,
        delivered_within_deadline=_rate(on_time, known), policy=policy)


CSV_COLUMNS = ("metric", "value", "numerator", "denominator", "start", "end")


def report_csv(report: ProgramReport) -> str:
    """One row per figure: rates as decimals beside their numerator and denominator."""
    def blank(value):
        return "" if value is None else value

    rows = [
        ("cohort_patients", report.cohort_patients, None, None),
        ("phq9_response_rate", report.response.rate, report.response.numerator, report.response.n),
        ("phq9_remission_rate", report.remission.rate, report.remission.numerator, report.remission.n),
        ("phq9_worsening_rate", report.worsening.rate, report.worsening.numerator, report.worsening.n),
        ("median_days_screening_to_consult", report.median_days_to_consult, None, report.patients_consulted),
        ("patients_screened", report.patients_screened, None, None),
        ("review_sla_hours", report.review_sla_hours, None, None),
        ("reviewed_within_sla_share", report.reviewed_within_sla.rate, report.reviewed_within_sla.numerator,
         report.reviewed_within_sla.n),
        (f"{DELIVERY_METRIC}_share", report.delivered_within_deadline.rate,
         report.delivered_within_deadline.numerator, report.delivered_within_deadline.n),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for metric, value, numerator, denominator in rows:
        writer.writerow((metric, blank(value), blank(numerator), blank(denominator), report.start.isoformat(),
                         report.end.isoformat()))
    return buffer.getvalue()
