"""Prescribing in the browser, as Dr. Adams with the demo's `patient.prescribe@` (the consult held,
recorded by video): from the visit page to the Schedule III checklist, refused without a code,
signed with one (his second factor enrolled through the service inside the test, then removed so a
newcomer still enrols him from the page), a stage sent, its release refused until the medication
is delivered and the sessions done, then released. And Dr. Brooks's view of the demo consult whose
room is open: the room says in words that it cannot reach Twilio here."""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from telehealth.clock import now
from telehealth.extensions import db as _db
from telehealth.models import Appointment, Shipment, ShipmentStatus, User
from tests.portal.conftest import check_page, sign_in

PHYSICIAN = "dr.adams@demo.telehealth"
PATIENT = "patient.prescribe@demo.telehealth"


def _user(email: str) -> User:
    return _db.session.scalar(select(User).where(User.email == email))


def _consult_of(patient_email: str) -> Appointment:
    return _db.session.scalar(select(Appointment).where(Appointment.patient_id == _user(patient_email).id,
                                                       Appointment.appointment_type == "consult")
                              .order_by(Appointment.id.desc()).limit(1))


def _deliver_and_complete(app, shipment_id: int) -> None:
    """What the pharmacy and the patient do next, as their webhook and sessions would record it."""
    with app.app_context():
        shipment = _db.session.get(Shipment, shipment_id)
        for status in (ShipmentStatus.RECEIVED, ShipmentStatus.FILLED, ShipmentStatus.SHIPPED,
                       ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED):
            details = {"carrier": "UPS", "tracking_number": "1ZPRESCRIBE0001"} if status is ShipmentStatus.SHIPPED \
                else {"signature_name": "Jesse"}
            shipment.apply(status, now(), source="pharmacy", details=details, strict=False)
        shipment.sessions_completed_at = now()
        _db.session.commit()
        _db.session.remove()


def _fill_terms(page) -> None:
    page.get_by_label("Form", exact=True).select_option("sublingual_tablet")
    page.get_by_label("Strength (mg per unit)").fill("100")
    page.get_by_label("Dose per session (mg)").fill("200")
    page.get_by_label("Sessions per fill").fill("6")
    page.get_by_label("Refills").fill("0")
    page.get_by_label("Directions for the patient").fill("Dissolve two 100 mg tablets under the tongue; "
                                                        "do not swallow for 15 minutes.")
    page.get_by_label("Diagnosis code (ICD-10)").fill("F33.2")


def test_a_physician_prescribes_through_the_checklist_and_sends_and_releases_a_stage(page, app, adams_secret):
    with app.app_context():
        consult_id = _consult_of(PATIENT).id
        _db.session.remove()
    sign_in(page, PHYSICIAN)
    page.goto(f"/visits/{consult_id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Video visit with Jesse Prescribe"
    assert "Recorded: held by video" in page.locator(".record-card").inner_text()
    check_page(page, "consult-visit-recorded")

    page.get_by_role("link", name="Prescribe").click()
    checklist = page.get_by_role("region", name="Before you sign")
    assert "All 6 in order." in checklist.inner_text()
    assert checklist.locator(".check-failed").count() == 0
    assert "CA license CA-1000" in checklist.inner_text()
    check_page(page, "pharmacy-prescribe-checklist")

    _fill_terms(page)
    page.get_by_label("Refills").fill("6")
    page.get_by_role("button", name="Sign the prescription").click()
    refills = page.locator("#check-refills")
    assert "Not met" in refills.inner_text() and "button-inactive" not in (page.locator(".sign-box button")
                                                                             .get_attribute("class") or "")
    check_page(page, "pharmacy-prescribe-refills-refused")

    page.get_by_label("Refills").fill("0")
    page.get_by_role("button", name="Sign the prescription").click()
    assert "Enter the 6-digit code from your authenticator app." in page.locator("#form-errors").inner_text()
    assert page.locator("#field-second_factor_code-error").is_visible()
    check_page(page, "pharmacy-prescribe-no-code")

    # the code of the next 30-second step (accepted for clock drift): the current one went on enrolling
    code = pyotp.TOTP(adams_secret).at(now() + timedelta(seconds=30))
    page.get_by_label("6-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign the prescription").click()
    assert re.search(r"/prescriptions/\d+/stages$", page.url)
    assert "Signed: version 1 of the prescription." in page.locator(".flashes").inner_text()
    assert "Left to send\n6" in page.get_by_role("region", name="Sessions").inner_text()
    check_page(page, "pharmacy-stages-signed")

    page.get_by_label("Sessions in this stage").select_option("1")
    stages_url = page.url
    page.get_by_role("button", name="Send to the pharmacy").click()
    assert "Stage 1 (1 session) is sent to the pharmacy." in page.locator(".flashes").inner_text()
    assert "Sent to the pharmacy" in page.get_by_role("region", name="Stages sent").inner_text()
    check_page(page, "pharmacy-stage-sent")

    # neither action would succeed yet: each says why in place of its button
    assert page.get_by_role("button", name="Release after stage 1").count() == 0
    assert page.get_by_role("button", name="Send to the pharmacy").count() == 0
    assert "Release waits until stage 1 is delivered" in page.locator("#release-refusal").inner_text()
    assert "The next stage waits until stage 1 is delivered" in page.locator("#send-refusal").inner_text()
    check_page(page, "pharmacy-release-not-yet")

    with app.app_context():
        shipment_id = _db.session.scalar(select(Shipment.id).where(Shipment.patient_id == _user(PATIENT).id))
        _db.session.remove()
    _deliver_and_complete(app, shipment_id)
    page.goto(stages_url)
    page.get_by_role("button", name="Release after stage 1").click()
    assert "Stage 1 is reviewed: the next stage may be sent." in page.locator(".flashes").inner_text()
    assert "Released" in page.get_by_role("region", name="Stages sent").inner_text()
    check_page(page, "pharmacy-stage-released")


def test_the_provider_joins_the_open_room_and_is_told_in_words_when_it_cannot_connect(page, app, world):
    with app.app_context():
        consult_id = _consult_of("patient.consult@demo.telehealth").id
        _db.session.remove()
    sign_in(page, "dr.brooks@demo.telehealth")
    page.goto(f"/visits/{consult_id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Video visit with Morgan Consult"
    problem = page.locator("#room-problem")
    problem.wait_for(state="visible", timeout=30_000)
    assert "could not connect to the video service" in problem.inner_text()
    record = page.get_by_role("region", name="The encounter")
    assert record.get_by_role("button", name="Record the encounter").is_visible()
    assert record.get_by_role("button", name="Mark as a no-show").is_visible()
    check_page(page, "consult-visit-room")
