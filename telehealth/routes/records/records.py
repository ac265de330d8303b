"""Care coordination and the patient's own record: releases of information, the progress report for
the patient's own provider, the FHIR export, and the full record download."""
from flask import Blueprint, Response, current_app
from flask_login import current_user

from telehealth.api import Empty, endpoint, viewer_zone
from telehealth.clock import now, today_in
from telehealth.extensions import limiter
from telehealth.models.accounts.accounts import Role
from telehealth.routes.documents import HTML, NO_STORE, PDF, html_response, pdf_response
from telehealth.schemas.records.records import (
    ProgressReportQuery, RecordOut, RecordQuery, ReleaseIn, ReleaseListOut, ReleaseOut, record_out, release_out,
)
from telehealth.services.records import fhir_export, progress_report, record_export, releases

bp = Blueprint("records", __name__, url_prefix="/api/v1")

PATIENT = (Role.PATIENT,)
CARE = (Role.PATIENT, Role.PHYSICIAN)
FHIR_JSON = "application/fhir+json"


def _fhir(bundle, filename: str | None = None) -> Response:
    headers = dict(NO_STORE)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(fhir_export.to_json(bundle), mimetype=FHIR_JSON, headers=headers)


@bp.post("/me/releases")
@endpoint("Authorize sharing my progress with my own mental-health provider", tags=["records"], auth=PATIENT,
          body=ReleaseIn, response=ReleaseOut, status=201, errors=(409,))
def grant_release(body: ReleaseIn):
    """Without a recipient, the mental-health provider of my profile. The exact words agreed to are
    returned and kept; the release lasts `valid_days` (a year by default) unless revoked."""
    contact = body.recipient_contact.model_dump(exclude_none=True) if body.recipient_contact else None
    release = releases.grant(current_user, recipient_name=body.recipient_name,
                             recipient_organization=body.recipient_organization, recipient_contact=contact,
                             scope=body.scope, valid_days=body.valid_days)
    return release_out(release, now())


@bp.get("/me/releases")
@endpoint("My releases of information (active, expired, revoked)", tags=["records"], auth=PATIENT,
          response=ReleaseListOut)
def list_releases():
    at = now()
    return ReleaseListOut(items=[release_out(r, at) for r in releases.list_releases(current_user)])


@bp.post("/me/releases/<int:release_id>/revoke")
@endpoint("Revoke a release, in one step", tags=["records"], auth=PATIENT, body=Empty, response=ReleaseOut,
          errors=(409,))
def revoke_release(release_id: int, body: Empty):
    return release_out(releases.revoke(current_user, release_id), now())


@bp.get("/patients/<int:patient_id>/progress-report")
@endpoint("A progress report for the patient's own provider, under their release (HTML or PDF)",
          tags=["records"], auth=CARE, query=ProgressReportQuery, errors=(403, 409), content_type=HTML,
          alternatives=(PDF,))
def get_progress_report(patient_id: int, query: ProgressReportQuery):
    """The patient themself or a physician on their care team. 409 `no_active_release` (with the
    reason: none granted, expired or revoked) unless the patient's release is active. `format=pdf`
    answers application/pdf. Audited: who generated a report under which release."""
    report = progress_report.build(current_user, patient_id, query.release_id)
    if query.format == "pdf":
        return pdf_response(progress_report.pdf(report), f"progress-report-{report.end.isoformat()}.pdf")
    return html_response(progress_report.html(report))


@bp.get("/patients/<int:patient_id>/fhir")
@endpoint("The patient's record as a FHIR R4 Bundle (collection)", tags=["records"], auth=CARE,
          errors=(403, 409), content_type=FHIR_JSON)
def get_fhir(patient_id: int):
    """Patient, Practitioner, QuestionnaireResponse (PHQ-9 LOINC 44249-1, GAD-7 LOINC 69737-5),
    Appointment, MedicationRequest (every version, linked by `priorPrescription`) and blood-pressure
    Observations (LOINC 85354-9). The patient themself, at any time, or a physician on their care
    team under the patient's active `fhir_record` release: 409 `no_active_release` (none granted,
    expired or revoked, said which) otherwise. Audited (a physician's export under the release's id)."""
    return _fhir(fhir_export.export(current_user, patient_id))


def _record_limit() -> str:
    return current_app.config["RECORD_EXPORT_RATE_LIMIT"]


def _per_user() -> str:
    # per account, not per address: a clinic network shares one address. Keyed on the user id, never
    # the email: flask-limiter logs the key when the limit is hit, and Redis stores it as a plain key.
    return f"record-export:{getattr(current_user, 'id', None) or 'anonymous'}"


# One count per account for every download of the whole record, from the API or the portal's page.
record_export_limit = limiter.shared_limit(_record_limit, scope="record-export", key_func=_per_user,
                                           deduct_when=lambda response: response.status_code == 200)


def record_download(format_: str, name: str) -> Response:
    """The signed-in patient's whole record as an attachment `name`.json (or `name`.fhir.json for FHIR)."""
    if format_ == "fhir":
        return _fhir(fhir_export.export(current_user, current_user.id), f"{name}.fhir.json")
    document = record_out(record_export.full_record(current_user))
    body = document.model_dump_json(context={"tz": viewer_zone()}, indent=2)
    return Response(body, mimetype="application/json",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}.json"'})


@bp.get("/me/record")
@record_export_limit
@endpoint("Download my whole record (JSON, or `format=fhir` for a FHIR R4 Bundle)", tags=["records"],
          auth=PATIENT, query=RecordQuery, response=RecordOut, errors=(429,), alternatives=(FHIR_JSON,))
def download_record(query: RecordQuery):
    """Everything the program holds about me, as an attachment. Audited; a few downloads an hour
    (`RECORD_EXPORT_RATE_LIMIT`)."""
    return record_download(query.format, f"my-record-{today_in(current_user.time_zone).isoformat()}")
