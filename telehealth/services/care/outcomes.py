"""Measured outcomes of one patient: PHQ-9 and GAD-7 from baseline to the latest measure, with the
response, remission and worsening flags of PRODUCT.md "Outcomes", and a chart of PHQ-9 over time.

Definitions (thresholds from the clinical policy, `telehealth/policy.py`):
- baseline: the last measure of the instrument taken at or before the start of the patient's first
  at-home session (the pre-treatment score nearest the treatment; usually the screening's, or a retake
  asked before the first session, which describes the state treated better than an old screening).
  Before any session has started every measure is pre-treatment, so the baseline is the latest one;
  a patient whose sessions began with no measure before them has no baseline.
- latest: the most recent measure of the instrument.
- change, response, remission, worsening: judged only once there is a measure after the baseline (a
  follow-up); until then they are None ("not measured yet"), never a guess.
  change = latest - baseline (points) and as a percent of the baseline (None when the baseline is 0);
  response: a drop of `response_drop_percent` (50) % of the baseline or more (None when the baseline
  is 0: nothing can drop); remission: latest below `remission_below` (5); worsening: a rise of
  `worsening_rise` (5) points or more. PRODUCT.md defines them on PHQ-9; GAD-7 is judged the same way
  (its minimal band is also 0-4), and the program report (services/care/program_report.py) uses PHQ-9 only.

The arithmetic is pure (`baseline_of`, `change_of`, `is_response`, `is_remission`, `is_worsening`,
`summarize`, `phq9_svg`) and separate from the queries (`patient_outcomes`, `phq9_chart`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.screening.assessments import Measure
from telehealth.models.home_care.home_sessions import HomeSession
from telehealth.policy import ClinicalPolicy, current_policy
from telehealth.services.platform import audit
from telehealth.services.screening import scoring
from telehealth.services.screening.assessments import MEASURED_INSTRUMENTS
from telehealth.services.platform.authz import Scope, authorize_patient

BASELINE_RULE = ("the last measure taken at or before the start of the first at-home session "
                 "(before any session: the latest measure)")
PHQ9_MAX = 27
PHQ9_BANDS = tuple(reversed(scoring.PHQ9_BANDS))  # (floor, name), lowest first: 0, 5, 10, 15, 20


@dataclass(frozen=True)
class Point:
    taken_at: datetime
    total: int
    band: str = ""
    source: str = ""


@dataclass(frozen=True)
class InstrumentOutcome:
    instrument: str
    baseline: Point | None
    latest: Point | None
    has_follow_up: bool            # a measure after the baseline exists: the flags below are judged
    change: int | None
    change_percent: float | None
    response: bool | None
    remission: bool | None
    worsening: bool | None
    series: list[Point]


@dataclass(frozen=True)
class PatientOutcomes:
    patient_id: int
    treatment_started_at: datetime | None
    instruments: list[InstrumentOutcome]
    policy: ClinicalPolicy


# ----------------------------------------------------------------------------- the arithmetic


def baseline_of(series: Sequence[Point], treatment_started_at: datetime | None) -> Point | None:
    """The last point at or before the first session's start (`series` oldest first); with no session
    started, the latest point; None when there is none."""
    eligible = [p for p in series if treatment_started_at is None or p.taken_at <= treatment_started_at]
    return eligible[-1] if eligible else None


def change_of(baseline: int, latest: int) -> tuple[int, float | None]:
    """(points, percent of the baseline rounded to 0.1); no percent of a baseline of 0."""
    points = latest - baseline
    return points, (round(points * 100 / baseline, 1) if baseline else None)


def is_response(baseline: int, latest: int, policy: ClinicalPolicy) -> bool | None:
    """A drop of `response_drop_percent` % of the baseline or more; undefined from a baseline of 0.
    Compared in integers, so exactly 50 % is a response and 49.9 % is not, with no rounding."""
    if baseline <= 0:
        return None
    return (baseline - latest) * 100 >= policy.response_drop_percent * baseline


def is_remission(latest: int, policy: ClinicalPolicy) -> bool:
    return latest < policy.remission_below


def is_worsening(baseline: int, latest: int, policy: ClinicalPolicy) -> bool:
    return latest - baseline >= policy.worsening_rise


def summarize(instrument: str, series: Sequence[Point], treatment_started_at: datetime | None,
              policy: ClinicalPolicy) -> InstrumentOutcome:
    """Baseline, latest, change and flags of one instrument's history (`series` oldest first)."""
    series = list(series)
    baseline = baseline_of(series, treatment_started_at)
    latest = series[-1] if series else None
    follow_up = baseline is not None and latest is not None and latest is not baseline
    if not follow_up:
        return InstrumentOutcome(instrument, baseline, latest, False, None, None, None, None, None, series)
    points, percent = change_of(baseline.total, latest.total)
    return InstrumentOutcome(
        instrument, baseline, latest, True, points, percent,
        is_response(baseline.total, latest.total, policy), is_remission(latest.total, policy),
        is_worsening(baseline.total, latest.total, policy), series)


def rate(numerator: int, n: int) -> float | None:
    """A share as a decimal rounded to 4 places; None when nobody is counted."""
    return round(numerator / n, 4) if n else None


# ----------------------------------------------------------------------------- the queries


def history(patient_id: int) -> tuple[dict[str, list[Point]], datetime | None]:
    """Each measured instrument's series (oldest first) and the start of the first at-home session, in
    two queries. No authorization here: callers authorize the read (the progress report does its own)."""
    rows = db.session.execute(
        select(Measure.instrument, Measure.taken_at, Measure.total, Measure.band, Measure.source)
        .where(Measure.patient_id == patient_id, Measure.instrument.in_(MEASURED_INSTRUMENTS))
        .order_by(Measure.taken_at, Measure.id)).all()
    series: dict[str, list[Point]] = {name: [] for name in MEASURED_INSTRUMENTS}
    for instrument, taken_at, total, band, source in rows:
        series[instrument].append(Point(taken_at, total, band, source))
    started = db.session.scalar(select(func.min(HomeSession.started_at)).where(
        HomeSession.patient_id == patient_id, HomeSession.started_at.is_not(None)))
    return series, started


def patient_outcomes(actor: User, patient_id: int) -> PatientOutcomes:
    """Clinical data: the patient themself and the physicians on their care team; audited."""
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    series, started = history(patient_id)
    policy = current_policy()
    result = PatientOutcomes(patient_id, started,
                             [summarize(name, series[name], started, policy) for name in MEASURED_INSTRUMENTS],
                             policy)
    audit.record(actor, "read", "outcomes", patient_id, patient_id=patient_id)
    db.session.commit()
    return result


def phq9_chart(actor: User, patient_id: int, zone: str) -> str:
    """The PHQ-9 chart (SVG) with dates in `zone`; same access as the outcomes; audited."""
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    series, started = history(patient_id)
    baseline = baseline_of(series["phq9"], started)
    audit.record(actor, "read", "outcomes_chart", patient_id, patient_id=patient_id)
    db.session.commit()
    return phq9_svg(series["phq9"], zone, baseline=baseline)


# ----------------------------------------------------------------------------- the chart

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 24, 56
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_DATE_LABELS = 6
_BAND_FILLS = ("#eef7ee", "#f7f7e6", "#fbf0e0", "#fbe6dc", "#f8dada")


def y_of(total: float) -> float:
    """The vertical position of a score on the 0-27 scale."""
    return round(TOP + (PHQ9_MAX - total) * PLOT_H / PHQ9_MAX, 2)


def x_of(at: datetime, first: datetime, last: datetime) -> float:
    span = (last - first).total_seconds()
    if span <= 0:
        return round(LEFT + PLOT_W / 2, 2)
    return round(LEFT + (at - first).total_seconds() * PLOT_W / span, 2)


def _date_ticks(points: Sequence[Point]) -> list[datetime]:
    """At most MAX_DATE_LABELS instants: the first, the last and evenly spaced ones between."""
    if not points:
        return []
    first, last = points[0].taken_at, points[-1].taken_at
    if first == last:
        return [first]
    count = min(MAX_DATE_LABELS, len(points))
    step = (last - first) / (count - 1)
    return [first + step * i for i in range(count)]


def phq9_svg(points: Sequence[Point], zone: str, *, baseline: Point | None = None) -> str:
    """A self-contained SVG of PHQ-9 over time: the 0-27 axis, the severity bands (5, 10, 15, 20),
    the measures as points joined by a line, and dates (in `zone`) on the time axis. Each point
    carries its score and local time (`data-total`, `data-taken-at`) and a tooltip."""
    tz = ZoneInfo(zone)
    points = sorted(points, key=lambda p: p.taken_at)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="PHQ-9 over time" '
           'font-family="sans-serif" font-size="11">',
           "<title>PHQ-9 over time</title>"]
    # severity bands, lowest first, each from its floor to the next band's floor
    floors = [floor for floor, _ in PHQ9_BANDS] + [PHQ9_MAX + 1]
    out.append('<g class="bands">')
    for i, (floor, name) in enumerate(PHQ9_BANDS):
        top_value, label = min(floors[i + 1], PHQ9_MAX), escape(name.replace("_", " "))
        y_top, y_bottom = y_of(top_value), y_of(floor)
        out.append(f'<rect class="band" data-from="{floor}" x="{LEFT}" y="{y_top}" width="{PLOT_W}" '
                   f'height="{round(y_bottom - y_top, 2)}" fill="{_BAND_FILLS[i]}">'
                   f"<title>{label}</title></rect>")
        if floor:
            out.append(f'<line class="band-line" data-score="{floor}" x1="{LEFT}" y1="{y_of(floor)}" '
                       f'x2="{LEFT + PLOT_W}" y2="{y_of(floor)}" stroke="#bbbbbb" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{LEFT + PLOT_W - 4}" y="{round(y_top + 12, 2)}" text-anchor="end" '
                   f'fill="#777777">{label}</text>')
    out.append("</g>")
    # axes
    out.append(f'<g class="axes" stroke="#333333"><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + PLOT_H}"/>'
               f'<line x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{LEFT + PLOT_W}" y2="{TOP + PLOT_H}"/></g>')
    out.append('<g class="y-ticks">')
    for value in (0, 5, 10, 15, 20, PHQ9_MAX):
        out.append(f'<text x="{LEFT - 6}" y="{round(y_of(value) + 4, 2)}" text-anchor="end">{value}</text>')
    out.append("</g>")
    out.append(f'<text x="14" y="{TOP + PLOT_H / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {TOP + PLOT_H / 2})">PHQ-9</text>')
    if not points:
        out.append(f'<text x="{LEFT + PLOT_W / 2}" y="{TOP + PLOT_H / 2}" text-anchor="middle">'
                   "No PHQ-9 measures yet</text></svg>")
        return "".join(out)
    first, last = points[0].taken_at, points[-1].taken_at
    out.append('<g class="x-ticks">')
    for tick in _date_ticks(points):
        x = x_of(tick, first, last)
        label = tick.astimezone(tz).date().isoformat()
        out.append(f'<line x1="{x}" y1="{TOP + PLOT_H}" x2="{x}" y2="{TOP + PLOT_H + 4}" stroke="#333333"/>'
                   f'<text class="date" x="{x}" y="{TOP + PLOT_H + 18}" text-anchor="middle">{label}</text>')
    out.append("</g>")
    coords = [(x_of(p.taken_at, first, last), y_of(p.total)) for p in points]
    out.append('<polyline class="series" fill="none" stroke="#1f5fa8" stroke-width="2" points="'
               + " ".join(f"{x},{y}" for x, y in coords) + '"/>')
    out.append('<g class="points">')
    for p, (x, y) in zip(points, coords, strict=True):
        local = p.taken_at.astimezone(tz)
        is_baseline = p is baseline
        out.append(f'<circle cx="{x}" cy="{y}" r="{5 if is_baseline else 4}" fill="#1f5fa8" '
                   f'data-total="{p.total}" data-taken-at={quoteattr(local.isoformat())}'
                   + (' data-baseline="true"' if is_baseline else "")
                   + f"><title>{escape(local.strftime('%Y-%m-%d %H:%M'))}: {p.total}"
                   + (" (baseline)" if is_baseline else "") + "</title></circle>")
    out.append("</g></svg>")
    return "".join(out)
