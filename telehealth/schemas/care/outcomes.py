"""Response bodies of a patient's measured outcomes and of the program report (aggregates only)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from telehealth.api import Schema, Timestamp

ReportDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 1, 1))]

# ------------------------------------------------------------------ input


class ProgramReportQuery(Schema):
    start: ReportDate
    end: ReportDate
    format: Literal["json", "csv"] = "json"


# ------------------------------------------------------------------ output


class ThresholdsOut(Schema):
    response_drop_percent: int
    remission_below: int
    worsening_rise: int


class PointOut(Schema):
    taken_at: Timestamp
    total: int
    band: str
    source: str


class InstrumentOutcomeOut(Schema):
    instrument: str
    baseline: PointOut | None
    latest: PointOut | None
    has_follow_up: bool = Field(description="A measure after the baseline exists; until then change and flags are null.")
    change: int | None = Field(description="latest - baseline, in points")
    change_percent: float | None = Field(description="The change as a percent of the baseline (null from a baseline of 0)")
    response: bool | None
    remission: bool | None
    worsening: bool | None
    series: list[PointOut]


class PatientOutcomesOut(Schema):
    patient_id: int
    baseline_rule: str
    treatment_started_at: Timestamp | None
    thresholds: ThresholdsOut
    instruments: list[InstrumentOutcomeOut]


class RateOut(Schema):
    rate: float | None = Field(description="numerator / n as a decimal; null when n is 0")
    numerator: int
    n: int


class ConsultWaitOut(Schema):
    patients_screened: int
    patients_consulted: int
    median_days: float | None


class ReviewShareOut(RateOut):
    sla_hours: int


class ProgramReportOut(Schema):
    start: date
    end: date
    time_zone: str
    cohort_definition: str
    cohort_patients: int
    thresholds: ThresholdsOut
    phq9_response: RateOut
    phq9_remission: RateOut
    phq9_worsening: RateOut
    days_screening_to_consult: ConsultWaitOut
    reviewed_within_sla: ReviewShareOut
    delivered_within_5_business_days: RateOut = Field(
        description="shipments delivered within the promised calendar days (`delivery_promise_days`, 5 by "
                    "default) of going to the pharmacy, among those whose outcome is known; the key's name is "
                    "historical: the figure counts calendar days, not business days")


# ------------------------------------------------------------------ presenters


def thresholds_out(policy) -> ThresholdsOut:
    return ThresholdsOut(response_drop_percent=policy.response_drop_percent, remission_below=policy.remission_below,
                         worsening_rise=policy.worsening_rise)


def _point(p) -> PointOut | None:
    if p is None:
        return None
    return PointOut(taken_at=p.taken_at, total=p.total, band=p.band, source=p.source)


def patient_outcomes_out(result, baseline_rule: str) -> PatientOutcomesOut:
    return PatientOutcomesOut(
        patient_id=result.patient_id, baseline_rule=baseline_rule, treatment_started_at=result.treatment_started_at,
        thresholds=thresholds_out(result.policy),
        instruments=[InstrumentOutcomeOut(
            instrument=o.instrument, baseline=_point(o.baseline), latest=_point(o.latest),
            has_follow_up=o.has_follow_up, change=o.change, change_percent=o.change_percent, response=o.response,
            remission=o.remission, worsening=o.worsening, series=[_point(p) for p in o.series],
        ) for o in result.instruments])


def _rate(r) -> RateOut:
    return RateOut(rate=r.rate, numerator=r.numerator, n=r.n)


def program_report_out(report, cohort_definition: str) -> ProgramReportOut:
    return ProgramReportOut(
        start=report.start, end=report.end, time_zone=report.time_zone, cohort_definition=cohort_definition,
        cohort_patients=report.cohort_patients, thresholds=thresholds_out(report.policy),
        phq9_response=_rate(report.response), phq9_remission=_rate(report.remission),
        phq9_worsening=_rate(report.worsening),
        days_screening_to_consult=ConsultWaitOut(patients_screened=report.patients_screened,
                                                 patients_consulted=report.patients_consulted,
                                                 median_days=report.median_days_to_consult),
        reviewed_within_sla=ReviewShareOut(rate=report.reviewed_within_sla.rate,
                                           numerator=report.reviewed_within_sla.numerator,
                                           n=report.reviewed_within_sla.n, sla_hours=report.review_sla_hours),
        delivered_within_5_business_days=_rate(report.delivered_within_deadline))
