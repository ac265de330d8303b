"""The sharing page with Flask's test client: a release read (its exact words) then granted, refusals
in words beside their fields with nothing written, revoking in one step, the whole record downloaded
as an attachment whose name holds nothing about the patient, and who may open what."""
from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import func, select

from telehealth.models import AuditEvent, RecordRelease
from tests.conftest import PASSWORD
from tests.pages_support import csrf_token, submit, text_of


def _releases(db) -> list[RecordRelease]:
    db.session.expire_all()
    return list(db.session.scalars(select(RecordRelease).order_by(RecordRelease.id)))


@pytest.fixture
def patient(auth):
    return auth.as_role("patient", legal_first_name="Robin", legal_last_name="Quill")


def _review(client, **fields):
    return submit(client, "/sharing/review", fields, token_from="/sharing")


def _agree(client, **fields):
    return submit(client, "/sharing/releases", fields, token_from="/sharing")


def test_the_exact_words_are_read_first_then_agreed_to_and_kept(client, db, patient):
    form = {"scope": "progress_report", "recipient_name": "Dr. Ada Stone", "recipient_organization": "Hill Clinic",
            "contact_email": "ada@hill.example", "valid_days": "90"}
    r = _review(client, **form)
    assert r.status_code == 200
    page = text_of(r)
    assert "Check the words before you agree" in page and "Dr. Ada Stone, Hill Clinic" in page
    assert _releases(db) == []  # nothing shared until they agree
    body = html.unescape(r.get_data(as_text=True))
    shown = body[body.index("I authorize"):body.index("</p>", body.index("I authorize"))]
    r = _agree(client, **form)
    assert r.status_code == 302 and r.headers["Location"].endswith("/sharing")
    [release] = _releases(db)
    assert release.wording == shown and release.patient_id == patient.id
    assert release.recipient_contact == {"email": "ada@hill.example"} and release.scope == "progress_report"
    assert (release.expires_at - release.granted_at).days == 90
    page = text_of(client.get("/sharing"))
    assert "Shared. You can revoke it here at any time" in page and "Active" in page and "Hill Clinic" in page


def test_change_something_brings_the_form_back_with_what_was_typed(client, db, patient):
    r = _agree(client, change="1", recipient_name="Dr. Ada Stone", valid_days="30")
    assert r.status_code == 200 and 'value="Dr. Ada Stone"' in r.get_data(as_text=True)
    assert _releases(db) == []


def test_refusals_are_beside_their_fields_and_nothing_is_written(client, db, patient):
    # no recipient, and no provider in the profile to fall back on
    r = _review(client, scope="progress_report")
    assert r.status_code == 422 and "your profile names no mental-health provider" in text_of(r)
    r = _review(client, recipient_name="Dr. Ada Stone", contact_email="not an email", contact_phone="12")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="field-contact_email-error"' in page and 'id="field-contact_phone-error"' in page
    assert 'value="Dr. Ada Stone"' in page  # what was typed stays
    r = _review(client, recipient_name="Dr. Ada Stone", valid_days="400")
    assert r.status_code == 422 and 'id="field-valid_days-error"' in r.get_data(as_text=True)
    r = _agree(client, recipient_name="Dr. Ada Stone", scope="everything")
    assert r.status_code == 422 and 'id="field-scope-error"' in r.get_data(as_text=True)
    r = client.post("/sharing/releases", data={"recipient_name": "Dr. Ada Stone"})  # no CSRF token
    assert r.status_code == 400
    assert _releases(db) == []


def test_the_profiles_provider_is_used_when_no_name_is_given(client, db, patient):
    patient.patient_profile.mental_health_provider = {"name": "Dr. Kim Park", "practice": "Park Psychiatry",
                                                      "email": "kim@park.example"}
    db.session.commit()
    assert "Leave empty to share with Dr. Kim Park, Park Psychiatry" in text_of(client.get("/sharing"))
    r = _agree(client, scope="fhir_record", valid_days="365")
    assert r.status_code == 302
    [release] = _releases(db)
    assert release.recipient_label == "Dr. Kim Park, Park Psychiatry" and release.scope == "fhir_record"


def test_revoking_is_one_step(client, db, patient):
    _agree(client, recipient_name="Dr. Ada Stone")
    [release] = _releases(db)
    r = submit(client, f"/sharing/releases/{release.id}/revoke", {}, token_from="/sharing")
    assert r.status_code == 302
    [release] = _releases(db)
    assert release.revoked_at is not None
    page = text_of(client.get("/sharing"))
    assert "Revoked. Nothing more will be shared under it." in page and "Revoke sharing with" not in page
    # revoking again (a resubmitted form) says it is done already
    r = submit(client, f"/sharing/releases/{release.id}/revoke", {}, token_from="/sharing")
    assert r.status_code == 409 and "This release is already revoked" in text_of(r)


def test_another_patients_release_cannot_be_revoked(app, client, db, patient, create_user):
    _agree(client, recipient_name="Dr. Ada Stone")
    [release] = _releases(db)
    intruder = app.test_client()
    other = create_user("patient")
    intruder.post("/api/v1/auth/login", json={"email": other.email, "password": PASSWORD})
    r = intruder.post(f"/sharing/releases/{release.id}/revoke", data={"csrf_token": csrf_token(intruder, "/sharing")})
    assert r.status_code == 404
    assert _releases(db)[0].revoked_at is None
    assert "Ada Stone" not in intruder.get("/sharing").get_data(as_text=True)


def test_the_whole_record_downloads_as_json_and_fhir_named_without_phi(client, db, patient):
    r = client.get("/sharing/record?format=json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"] == 'attachment; filename="telehealth-record.json"'
    assert r.headers["Cache-Control"] == "no-store"
    record = json.loads(r.get_data(as_text=True))
    assert record["profile"]["id"] == patient.id and "journal" in record and "releases" in record
    r = client.get("/sharing/record?format=fhir")
    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    assert r.headers["Content-Disposition"] == 'attachment; filename="telehealth-record.fhir.json"'
    assert json.loads(r.get_data(as_text=True))["resourceType"] == "Bundle"
    for name in ("Robin", "Quill", patient.email):
        assert name not in r.headers["Content-Disposition"]
    assert client.get("/sharing/record?format=xml").status_code == 422
    exports = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "export", AuditEvent.patient_id == patient.id))
    assert exports == 2  # each download is in the patient's audit trail


def test_downloads_from_the_page_and_the_api_share_one_limit(app, client, db, patient, monkeypatch):
    monkeypatch.setitem(app.config, "RECORD_EXPORT_RATE_LIMIT", "2 per hour")
    assert client.get("/sharing/record?format=xml").status_code == 422  # a refused request costs nothing
    assert client.get("/sharing/record").status_code == 200
    assert client.get("/api/v1/me/record").status_code == 200
    r = client.get("/sharing/record?format=fhir")
    assert r.status_code == 429 and "wait a moment" in text_of(r)
    assert client.get("/api/v1/me/record").status_code == 429


def test_anonymous_visitors_sign_in_first_and_staff_are_refused(client, auth):
    for path in ("/sharing", "/sharing/record"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/login?next={path}")
    auth.as_role("physician")
    for path in ("/sharing", "/sharing/record"):
        r = client.get(path)
        assert r.status_code == 403 and "not part of your account" in text_of(r)
