"""The prescriber's pages with Flask's test client: the Schedule III checklist (each precondition met
with what satisfies it, or not met with the signing refusal's own words), who may open the pages,
the change page beside the current version, and a prescription's stages sent and released through
forms with their refusals in words (nothing written)."""
from __future__ import annotations

from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import CareAssignment, CareRole, CreditKind, Prescription, Shipment, ShipmentStatus
from telehealth.services.billing import ledger
from tests.conftest import PASSWORD
from tests.pages_support import BROWSER, submit, text_of
from tests.pharmacy.test_prescriptions import _approve, _consult
from tests.sessions_support import deliver, ready as treatment_ready


def _sign_in(app, user):
    browser = app.test_client()
    r = browser.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200
    return browser


def _with_dea(db, physician):
    physician.physician_profile.dea_number = "AB1234563"
    physician.physician_profile.dea_expires_on = date.today() + timedelta(days=365)
    db.session.commit()


@pytest.fixture
def team(db, create_user):
    """A NY patient, approved, seen by video by a NY-licensed physician with a DEA registration who
    is on their care team."""
    patient = create_user("patient", legal_first_name="Jesse", legal_last_name="Prescribe")
    physician = create_user("physician", states=["NY"])
    _with_dea(db, physician)
    _approve(db, patient)
    _consult(db, patient, physician)
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    return patient, physician


def _check(html: str, key: str) -> str:
    """The checklist line `key` (its class and words)."""
    start = html.index(f'id="check-{key}"')
    return unescape(html[html.rindex("<li", 0, start):html.index("</li>", start)])


# ------------------------------------------------------------------ the checklist


def test_with_everything_in_order_each_check_says_met_and_what_satisfies_it(app, team):
    patient, physician = team
    r = _sign_in(app, physician).get(f"/patients/{patient.id}/prescribe", headers=BROWSER)
    html, text = r.get_data(as_text=True), text_of(r)
    assert r.status_code == 200 and "Prescribe for Jesse Prescribe" in text
    assert "All 6 in order." in text and "Not met" not in text
    for key in ("current", "screening", "encounter", "license", "dea", "refills"):
        assert "check-ok" in _check(html, key), key
    assert "NY license NY" in _check(html, "license") and "DEA AB1234563, valid until" in _check(html, "dea")
    assert "Held by video" in _check(html, "encounter")
    assert "At most 5 refills" in _check(html, "refills")
    assert 'name="second_factor_code"' in html and "6-digit code from your authenticator app" in text
    assert "button-primary" in html.split('class="sign-box')[1] and "button-inactive" not in html
    assert "Prescribe" not in html.split("<title>")[1].split("</title>")[0]


@pytest.mark.parametrize("break_it, key, reason", [
    (lambda db, p, d: setattr(d.physician_profile.licenses[0], "expires_on", date.today() - timedelta(days=2)),
     "license", "You hold no license valid today in the patient's state (NY)."),
    (lambda db, p, d: setattr(d.physician_profile, "dea_number", None), "dea",
     "Your DEA registration is not recorded, or has expired."),
    (lambda db, p, d: setattr(d.physician_profile, "dea_expires_on", date.today() - timedelta(days=1)), "dea",
     "Your DEA registration is not recorded, or has expired."),
    (lambda db, p, d: db.session.execute(
        __import__("telehealth.models", fromlist=["Appointment"]).Appointment.__table__.update()
        .values(encounter_ended_at=None)), "encounter",
     "There is no completed, recorded video consult between you and this patient."),
])
def test_each_failing_precondition_shows_its_reason(app, db, team, break_it, key, reason):
    patient, physician = team
    break_it(db, patient, physician)
    db.session.commit()
    r = _sign_in(app, physician).get(f"/patients/{patient.id}/prescribe", headers=BROWSER)
    html, text = r.get_data(as_text=True), text_of(r)
    line = _check(html, key)
    assert r.status_code == 200 and "check-failed" in line and "Not met" in line and reason in line
    assert "Not in order: 1 of 6 not met." in text
    assert "button-inactive" in html and "signing will be refused with the reason" in text
    others = [k for k in ("current", "screening", "encounter", "license", "dea") if k != key]
    assert all("check-ok" in _check(html, k) for k in others)


def test_no_encounter_no_license_no_dea_all_at_once(app, db, create_user):
    patient = create_user("patient", state="TX")
    physician = create_user("physician", states=["NY"])
    _approve(db, patient)
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    text = text_of(_sign_in(app, physician).get(f"/patients/{patient.id}/prescribe"))
    assert "Not in order: 3 of 6 not met." in text
    assert "You hold no license valid today in the patient's state (TX)." in text
    assert "Your DEA registration is not recorded" in text and "no completed, recorded video consult" in text


def test_only_the_patients_physicians_open_the_prescribing_pages(app, db, team, create_user):
    patient, _ = team
    stranger = create_user("physician", states=["NY"])
    _with_dea(db, stranger)
    for user in (stranger, create_user("coach"), create_user("ops"), patient):
        r = _sign_in(app, user).get(f"/patients/{patient.id}/prescribe", headers=BROWSER)
        assert r.status_code == 403 and r.mimetype == "text/html", user.role
        assert "Jesse" not in r.get_data(as_text=True)
    assert _sign_in(app, stranger).get("/patients/999999/prescribe", headers=BROWSER).status_code == 404


# ------------------------------------------------------------------ signing


FORM = {"medication": "ketamine", "form": "sublingual_tablet", "strength_mg": "100", "dose_per_session_mg": "200",
        "sessions": "6", "refills": "1", "directions": "Dissolve under the tongue with your sitter present.",
        "diagnosis_code": "F33.2"}


def _prescriptions(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Prescription))


def test_signing_with_a_code_writes_the_prescription_and_goes_to_its_stages(app, db, team, totp):
    patient, physician = team
    browser = _sign_in(app, physician)
    url = f"/patients/{patient.id}/prescribe"
    r = submit(browser, url, {**FORM, "second_factor_code": totp.code(physician)})
    assert r.status_code == 302, text_of(r)
    signed = db.session.scalar(select(Prescription))
    assert r.headers["Location"].endswith(f"/prescriptions/{signed.id}/stages")
    assert signed.physician_id == physician.id and signed.version == 1 and signed.sessions == 6
    page = text_of(browser.get(r.headers["Location"]))
    assert "Signed: version 1 of the prescription." in page and "Left to send 12" in page


@pytest.mark.parametrize("code, status, words", [
    ("", 403, "Enter the 6-digit code from your authenticator app."),
    ("000000", 403, "That code is not right."),
])
def test_without_the_right_code_signing_is_refused_and_nothing_is_written(app, db, team, code, status, words):
    patient, physician = team
    browser = _sign_in(app, physician)
    url = f"/patients/{patient.id}/prescribe"
    r = submit(browser, url, {**FORM, "second_factor_code": code})
    html, text = r.get_data(as_text=True), text_of(r)
    assert r.status_code == status and words in text
    assert 'href="#field-second_factor_code"' in html and 'id="field-second_factor_code-error"' in html
    assert 'value="200"' in html and "Dissolve under the tongue" in html  # the terms stay as typed
    assert 'name="second_factor_code" type="text" value=""' in html  # never the code
    assert _prescriptions(db) == 0


def test_a_failing_precondition_refuses_signing_with_the_checklists_reason(app, db, team, totp):
    patient, physician = team
    physician.physician_profile.dea_number = None
    db.session.commit()
    browser = _sign_in(app, physician)
    r = submit(browser, f"/patients/{patient.id}/prescribe", {**FORM, "second_factor_code": totp.code(physician)})
    html, text = r.get_data(as_text=True), text_of(r)
    reason = "Your DEA registration is not recorded, or has expired."
    alert = unescape(html.split('role="alert"')[1].split("</div>")[0])  # the error summary above the form
    assert r.status_code == 409 and reason in alert and "Not in order: 1 of 6 not met." in text
    assert reason in _check(html, "dea") and "check-failed" in _check(html, "dea")
    assert _prescriptions(db) == 0


def test_bad_terms_are_refused_beside_their_fields_and_refills_in_the_checklist(app, db, team, totp):
    patient, physician = team
    browser = _sign_in(app, physician)
    r = submit(browser, f"/patients/{patient.id}/prescribe",
               {**FORM, "refills": "6", "dose_per_session_mg": "", "second_factor_code": totp.code(physician)})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="field-dose_per_session_mg-error"' in html
    assert "check-failed" in _check(html, "refills") and "Not met" in _check(html, "refills")
    assert _prescriptions(db) == 0


def test_a_dose_not_in_whole_units_is_refused_in_words_without_field_names(app, db, team, totp):
    patient, physician = team
    r = submit(_sign_in(app, physician), f"/patients/{patient.id}/prescribe",
               {**FORM, "dose_per_session_mg": "250", "second_factor_code": totp.code(physician)})
    text = text_of(r)
    assert r.status_code == 422 and "A whole number of units of the strength (e.g. 200 with 100 mg units)." in text
    assert "strength_mg" not in text and _prescriptions(db) == 0


# ------------------------------------------------------------------ changing a version


@pytest.fixture
def treated(db, create_user):
    """A patient on a signed prescription (6 sessions) with stage 1 (3 sessions) delivered."""
    world = treatment_ready(db, create_user, sessions=6, stages=(3,))
    _with_dea(db, world.physician)
    return world


def test_the_change_page_shows_the_current_version_and_the_same_checklist(app, db, treated):
    rx = treated.prescription
    r = _sign_in(app, treated.physician).get(f"/prescriptions/{rx.id}/change", headers=BROWSER)
    html, text = r.get_data(as_text=True), text_of(r)
    assert r.status_code == 200 and "The current version" in text and "Version 1, signed" in text
    assert "check-ok" in _check(html, "current") and "All 6 in order." in text
    assert 'value="200"' in html and "F33.2" in html  # the form starts from the current terms
    assert "(kept from the first version)" in _check(html, "refills")


def test_superseding_with_a_code_makes_version_2_and_keeps_version_1(app, db, treated, totp):
    from telehealth.models import PrescriptionStatus

    rx = treated.prescription
    browser = _sign_in(app, treated.physician)
    url = f"/prescriptions/{rx.id}/change"
    refused = submit(browser, url, {**FORM, "second_factor_code": ""})
    assert refused.status_code == 403 and _prescriptions(db) == 1
    r = submit(browser, url, {**FORM, "dose_per_session_mg": "300", "second_factor_code": totp.code(treated.physician)})
    assert r.status_code == 302, text_of(r)
    db.session.expire_all()
    new = db.session.scalar(select(Prescription).where(Prescription.supersedes_id == rx.id))
    assert new.version == 2 and new.dose_per_session_mg == 300 and r.headers["Location"].endswith(f"/{new.id}/stages")
    assert db.session.get(Prescription, rx.id).status is PrescriptionStatus.SUPERSEDED
    assert "Signed: version 2 replaces version 1." in text_of(browser.get(r.headers["Location"]))
    old_stages = text_of(browser.get(f"/prescriptions/{rx.id}/stages"))
    assert "Version 1 was replaced by version 2" in old_stages


def test_a_new_prescription_while_one_is_active_says_change_it_instead(app, treated):
    r = _sign_in(app, treated.physician).get(f"/patients/{treated.patient.id}/prescribe")
    line = _check(r.get_data(as_text=True), "current")
    assert "check-failed" in line and "already has an active prescription" in line
    assert f"/prescriptions/{treated.prescription.id}/change" in line


def test_an_old_version_cannot_be_changed_and_the_checklist_says_so(app, db, treated):
    from telehealth.models import PrescriptionStatus

    treated.prescription.status = PrescriptionStatus.SUPERSEDED
    db.session.commit()
    r = _sign_in(app, treated.physician).get(f"/prescriptions/{treated.prescription.id}/change")
    assert "Only the current version can be changed." in _check(r.get_data(as_text=True), "current")


# ------------------------------------------------------------------ stages


def _shipments(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Shipment))


def test_the_next_stage_is_refused_until_the_last_is_released_then_sent(app, db, treated):
    rx, stage1 = treated.prescription, treated.stages[0]
    ledger.grant(treated.patient.id, CreditKind.MEDICATION_SESSION, 6, key=f"test:med:{treated.patient.id}")
    db.session.commit()
    browser = _sign_in(app, treated.physician)
    url = f"/prescriptions/{rx.id}/stages"
    got = browser.get(url)
    page, html = text_of(got), got.get_data(as_text=True)
    assert "Stages for Pat" in page and "Left to send 3" in page and "Delivered" in page
    # neither action is offered while the service would refuse it: its reason is shown instead
    waiting = "waits until stage 1's sessions are completed with their check-ins answered"
    assert f"The next stage {waiting} and a physician releases it." in page
    assert "Release waits until stage 1's sessions are completed with their check-ins answered." in page
    assert "Send to the pharmacy</button>" not in html and "Release after stage 1</button>" not in html

    r = submit(browser, f"{url}/send", {"sessions": "2"}, token_from=url)  # the server still refuses
    assert r.status_code == 409 and f"The next stage {waiting}" in text_of(r)
    assert _shipments(db) == 1

    r = submit(browser, f"{url}/{stage1.id}/release", {}, token_from=url)
    assert r.status_code == 409 and "Release waits until stage 1's sessions are completed" in text_of(r)

    stage1 = db.session.get(Shipment, stage1.id)
    stage1.sessions_completed_at = now()
    db.session.commit()
    got = browser.get(url)
    page, html = text_of(got), got.get_data(as_text=True)
    assert "The next stage waits until a physician reviews stage 1's sessions and releases it." in page
    assert "Release after stage 1</button>" in html and "Send to the pharmacy</button>" not in html
    r = submit(browser, f"{url}/{stage1.id}/release", {}, token_from=url)
    assert r.status_code == 302
    assert "Stage 1 is reviewed: the next stage may be sent." in text_of(browser.get(url))
    db.session.expire_all()
    assert db.session.get(Shipment, stage1.id).next_stage_released_by == treated.physician.id

    r = submit(browser, f"{url}/send", {"sessions": "9"}, token_from=url)
    assert r.status_code == 422 and 'id="send-sessions-error"' in r.get_data(as_text=True)
    assert _shipments(db) == 1
    r = submit(browser, f"{url}/send", {"sessions": "2"}, token_from=url)
    assert r.status_code == 302
    page = text_of(browser.get(url))
    assert "Stage 2 (2 sessions) is sent to the pharmacy." in page and "Left to send 1" in page
    assert _shipments(db) == 2


def test_sending_beyond_the_prescription_is_refused_in_words(app, db, create_user):
    world = treatment_ready(db, create_user, sessions=3, stages=(3,))
    _with_dea(db, world.physician)
    stage = world.stages[0]
    stage.sessions_completed_at, stage.next_stage_released_at = now(), now()
    db.session.commit()
    browser = _sign_in(app, world.physician)
    url = f"/prescriptions/{world.prescription.id}/stages"
    got = browser.get(url)
    assert "has 0 sessions left to ship" in text_of(got) and "Send to the pharmacy</button>" not in got.get_data(
        as_text=True)
    r = submit(browser, f"{url}/send", {"sessions": "1"}, token_from=url)
    assert r.status_code == 409 and "has 0 sessions left to ship" in text_of(r)
    assert _shipments(db) == 1


def test_a_stage_only_sent_offers_no_release_and_says_it_waits_for_delivery(app, db, treated):
    from telehealth.models.pharmacy.shipments import ShipmentStatus

    stage1 = db.session.get(Shipment, treated.stages[0].id)
    stage1.status, stage1.delivered_at = ShipmentStatus.SENT_TO_PHARMACY, None
    db.session.commit()
    browser = _sign_in(app, treated.physician)
    url = f"/prescriptions/{treated.prescription.id}/stages"
    got = browser.get(url)
    page, html = text_of(got), got.get_data(as_text=True)
    assert "Release waits until stage 1 is delivered" in page and "Release after stage 1</button>" not in html
    assert "The next stage waits until stage 1 is delivered" in page
    r = submit(browser, f"{url}/{stage1.id}/release", {}, token_from=url)
    assert r.status_code == 409 and "Release waits until stage 1 is delivered" in text_of(r)


def test_a_coach_is_refused_the_stages_page(app, treated, create_user):
    r = _sign_in(app, create_user("coach")).get(f"/prescriptions/{treated.prescription.id}/stages", headers=BROWSER)
    assert r.status_code == 403 and "not part of your account" in text_of(r)


def test_the_stage_list_costs_the_same_queries_for_2_and_10_stages(app, db, create_user, count_queries):
    costs = []
    for stages in (2, 10):
        world = treatment_ready(db, create_user, sessions=3, refills=5, stages=())
        for _ in range(stages):
            deliver(db, world.prescription, 1)
        db.session.commit()
        browser = _sign_in(app, world.physician)
        url = f"/prescriptions/{world.prescription.id}/stages"
        browser.get(url)
        with count_queries() as counter:
            r = browser.get(url)
        assert r.status_code == 200 and r.get_data(as_text=True).count('<th scope="row">') == stages
        costs.append(counter.count)
    assert costs[0] == costs[1]


def test_the_stage_list_is_paged(app, db, create_user):
    world = treatment_ready(db, create_user, sessions=3, refills=5, stages=())
    for _ in range(12):
        deliver(db, world.prescription, 1, status=ShipmentStatus.DELIVERED)
    db.session.commit()
    browser = _sign_in(app, world.physician)
    url = f"/prescriptions/{world.prescription.id}/stages"
    first = browser.get(url).get_data(as_text=True)
    assert first.count('<th scope="row">') == 10 and "Page 1 of 2" in first and '<th scope="row">12</th>' in first
    second = browser.get(f"{url}?page=2").get_data(as_text=True)
    assert second.count('<th scope="row">') == 2 and '<th scope="row">1</th>' in second
    assert db.session.scalar(select(func.count()).select_from(Prescription)) == 1
