"""The sharing page in the browser: a patient of our own reads a release's exact words, agrees,
revokes it in one step, and downloads their whole record (JSON and FHIR)."""
from __future__ import annotations

import json

from sqlalchemy import select

from telehealth.extensions import db as _db
from telehealth.models import RecordRelease
from tests.conftest import PASSWORD, _make_user
from tests.portal.conftest import check_page, sign_in


def test_a_patient_shares_with_their_provider_revokes_and_downloads_their_record(page, world, app, tmp_path):
    with app.app_context():
        patient = _make_user(_db, "patient", email="sharing.patient@example.org", phone="+16465550193")
        patient_id = patient.id
        _db.session.remove()
    sign_in(page, "sharing.patient@example.org", PASSWORD)
    page.goto("/sharing")
    check_page(page, "records-sharing")
    page.get_by_label("Provider's name").fill("Dr. Ada Stone")
    page.get_by_label("Practice or organization").fill("Hill Clinic")
    page.get_by_label("Provider's email").fill("ada@hill.example")
    page.get_by_role("button", name="Read the words").click()
    words = page.locator("blockquote").inner_text().strip()
    assert words.startswith("I authorize") and "Dr. Ada Stone, Hill Clinic" in words
    check_page(page, "records-release-review")
    page.get_by_role("button", name="Agree and share").click()
    assert page.get_by_text("Shared. You can revoke it").is_visible()
    with app.app_context():
        [release] = _db.session.scalars(select(RecordRelease).where(RecordRelease.patient_id == patient_id)).all()
        assert release.wording == words and release.revoked_at is None
        _db.session.remove()
    check_page(page, "records-sharing-active")
    page.get_by_role("button", name="Revoke sharing with Dr. Ada Stone").click()
    assert page.get_by_text("Revoked. Nothing more will be shared under it.").is_visible()
    assert page.locator(".badge", has_text="Revoked").is_visible()
    with app.app_context():
        assert _db.session.get(RecordRelease, release.id).revoked_at is not None
        _db.session.remove()
    for link, filename in (("Download (JSON)", "telehealth-record.json"),
                           ("Download for a clinic (FHIR)", "telehealth-record.fhir.json")):
        with page.expect_download() as info:
            page.get_by_role("link", name=link).click()
        download = info.value
        assert download.suggested_filename == filename
        target = tmp_path / filename
        download.save_as(target)
        document = json.loads(target.read_text())
        if filename.endswith(".fhir.json"):
            assert document["resourceType"] == "Bundle"
        else:
            assert document["profile"]["id"] == patient_id and len(document["releases"]) == 1
