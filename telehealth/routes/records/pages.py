"""The portal's sharing page: releases to the patient's own mental-health provider (read the exact
words, agree; revoke in one step), and the download of the whole record (JSON or FHIR).

The same services as /api/v1/me/releases and /api/v1/me/record (services/records/releases.py,
record_export.py, fhir_export.py), with the same schema for a release and the same per-account limit
on downloads.
"""
from flask import Blueprint, render_template, request
from flask_login import current_user

from telehealth.clock import now
from telehealth.errors import ServiceError
from telehealth.models.accounts.accounts import Role
from telehealth.pages import done, form_body, page, refusal
from telehealth.routes.records.records import record_download, record_export_limit
from telehealth.schemas.records.records import RecordQuery, ReleaseIn
from telehealth.services.records import releases

bp = Blueprint("records_pages", __name__)
PATIENT = (Role.PATIENT,)
# the release form's inputs, as the page names them
FIELDS = ("scope", "recipient_name", "recipient_organization", "contact_phone", "contact_email", "valid_days")


def _release_in() -> ReleaseIn:
    """The form as the API's body: the contact's phone and email go inside `recipient_contact`."""
    contact = {key: request.form[f"contact_{key}"].strip() for key in ("phone", "email")
               if request.form.get(f"contact_{key}", "").strip()}
    return form_body(ReleaseIn, extra={"recipient_contact": contact} if contact else None)


def _refusal(exc: ServiceError) -> dict:
    """The refusal, each message beside the input it is about (`recipient_contact.phone` -> contact_phone)."""
    errors = refusal(exc)
    fields = {k: v for k, v in errors["fields"].items() if k != "recipient_contact"}
    for key, messages in exc.fields.items():
        if key.startswith("recipient_contact"):
            part = key.split(".")[1] if "." in key else "phone"
            fields.setdefault(f"contact_{part}", []).extend(messages)
    errors["fields"] = fields
    return errors


def _sharing(errors=None, values=None, status: int = 200):
    profile = current_user.patient_profile
    provider = (profile.mental_health_provider or {}) if profile else {}
    return render_template("records/sharing.html", releases=releases.list_releases(current_user), at=now(),
                           provider=provider, errors=errors, values=values or {},
                           max_days=releases.MAX_VALID_DAYS, default_days=releases.DEFAULT_VALID_DAYS), status


@bp.get("/sharing")
@page(roles=PATIENT)
def sharing():
    return _sharing()


@bp.post("/sharing/review")
@page(roles=PATIENT)
def review():
    """The exact words of the release as it would be granted, before the patient agrees."""
    try:
        body = _release_in()
        draft = releases.draft(current_user, **_grant_args(body))
    except ServiceError as exc:
        return _sharing(_refusal(exc), request.form, 422 if exc.code == "validation_error" else exc.status)
    return render_template("records/release_review.html", draft=draft,
                           values={k: request.form.get(k, "") for k in FIELDS})


@bp.post("/sharing/releases")
@page(roles=PATIENT)
def grant():
    if request.form.get("change"):
        return _sharing(values=request.form)
    try:
        body = _release_in()
        releases.grant(current_user, **_grant_args(body))
    except ServiceError as exc:
        return _sharing(_refusal(exc), request.form, 422 if exc.code == "validation_error" else exc.status)
    return done("Shared. You can revoke it here at any time, in one step.", "records_pages.sharing")


def _grant_args(body: ReleaseIn) -> dict:
    contact = body.recipient_contact.model_dump(exclude_none=True) if body.recipient_contact else None
    return {"recipient_name": body.recipient_name, "recipient_organization": body.recipient_organization,
            "recipient_contact": contact, "scope": body.scope, "valid_days": body.valid_days}


@bp.post("/sharing/releases/<int:release_id>/revoke")
@page(roles=PATIENT)
def revoke(release_id: int):
    releases.revoke(current_user, release_id)
    return done("Revoked. Nothing more will be shared under it.", "records_pages.sharing")


@bp.get("/sharing/record")
@record_export_limit
@page(roles=PATIENT)
def download():
    """The whole record as an attachment; the file's name says nothing about the patient."""
    query = form_body(RecordQuery, form=request.args)
    return record_download(query.format, "telehealth-record")
