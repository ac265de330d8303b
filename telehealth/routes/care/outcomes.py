"""Measured outcomes: a patient's PHQ-9 / GAD-7 from baseline, their PHQ-9 chart, and the program report."""
from flask import Blueprint, Response
from flask_login import current_user

from telehealth.api import endpoint, viewer_zone
from telehealth.models.accounts.accounts import Role
from telehealth.routes.documents import NO_STORE
from telehealth.schemas.care.outcomes import (
    PatientOutcomesOut, ProgramReportOut, ProgramReportQuery, patient_outcomes_out, program_report_out,
)
from telehealth.services.care import outcomes, program_report

bp = Blueprint("outcomes", __name__, url_prefix="/api/v1")
PATIENT_OR_PHYSICIAN = (Role.PATIENT, Role.PHYSICIAN)

# Clinical data and a document drawn by us: never cached, and the SVG may load or run nothing.
_SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


@bp.get("/patients/<int:patient_id>/outcomes")
@endpoint("A patient's PHQ-9 and GAD-7 outcomes: baseline, latest, change, response, remission, worsening",
          tags=["outcomes"], auth=PATIENT_OR_PHYSICIAN, response=PatientOutcomesOut)
def patient_outcomes(patient_id: int):
    """The patient themself and the physicians on their care team (audited). Change and flags are null
    until there is a measure after the baseline."""
    return patient_outcomes_out(outcomes.patient_outcomes(current_user, patient_id), outcomes.BASELINE_RULE)


@bp.get("/patients/<int:patient_id>/outcomes/phq9.svg")
@endpoint("A chart (SVG) of the patient's PHQ-9 over time, with the severity bands, dates in the viewer's zone",
          tags=["outcomes"], auth=PATIENT_OR_PHYSICIAN, content_type="image/svg+xml")
def phq9_chart(patient_id: int):
    svg = outcomes.phq9_chart(current_user, patient_id, viewer_zone())
    return Response(svg, mimetype="image/svg+xml",
                    headers={**NO_STORE, "Content-Security-Policy": _SVG_POLICY})


@bp.get("/admin/reports/outcomes")
@endpoint("The program report over a date range: outcome rates on the 4-session cohort, days to consult, "
          "review and delivery SLAs (aggregates only; `format=csv` for CSV)",
          tags=["outcomes"], auth=(Role.ADMIN,), query=ProgramReportQuery, response=ProgramReportOut,
          alternatives=("text/csv",))
def outcomes_report(query: ProgramReportQuery):
    """Dates are inclusive, in the viewer's time zone. No patient is named or counted by id."""
    report = program_report.program_report(current_user, query.start, query.end, viewer_zone())
    if query.format == "csv":
        return Response(program_report.report_csv(report), mimetype="text/csv",
                        headers={**NO_STORE, "Content-Disposition":
                                 f'attachment; filename="outcomes-{query.start.isoformat()}-to-{query.end.isoformat()}.csv"'})
    return program_report_out(report, program_report.cohort_definition(report.policy))
