"""The whole journey of a new patient in the browser, as a newcomer to `make run` would take it: the
landing page, the free screening, sign-up claiming it, the physician's approval, Starter paid by card
through the stand-in Stripe.js, the consult booked (and its .ics), the consult held and medication
delivered, a first session with its gates refused then passed and its check-ins, coaching booked,
a PHQ-9/GAD-7 retake with the chart, and the whole record downloaded.

What a person does, the browser does, by clicking and typing. The physician's side (approving the
screening) goes through the API as the demo physician, since the care team's pages come next; the
clinical steps between booking and the first session (the consult held, the prescription, the
pharmacy's delivery) are written as stage data through the demo's own builders (services, at past
times): the real clock never moves.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

from playwright.sync_api import expect

from telehealth.clock import in_zone, now
from telehealth.extensions import db
from tests.portal.conftest import DEMO_PASSWORD, check_page
from tests.portal.test_accounts_signup import fill_sign_up
from tests.portal.test_billing_purchase import GOOD_CARD, fill_card
from tests.portal.test_screening_wizard import FREQUENCY, run_to_result

EMAIL = "river.journey@example.org"
PHYSICIAN = "dr.adams@demo.telehealth"


def answer_frequency(page, values: list[int]) -> None:
    for number, value in enumerate(values, 1):
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_label(FREQUENCY[value], exact=True).check()


def sign_up(page) -> None:
    fill_sign_up(page, email=EMAIL, first="River", last="Journey", phone="(212) 555-0142", zip_code="11201",
                 password=DEMO_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/home")


def approve_as_physician(browser, live_server, app) -> None:
    """Dr. Adams (licensed in NY) approves the patient's screening from the review queue, over the API."""
    from telehealth.services.accounts import accounts

    with app.app_context():
        patient_id = accounts.find_by_email(EMAIL).id
        db.session.remove()
    context = browser.new_context(base_url=live_server)
    api = context.request
    assert api.post("/api/v1/auth/login", data={"email": PHYSICIAN, "password": DEMO_PASSWORD}).ok
    queue = api.get("/api/v1/reviews").json()["items"]
    (mine,) = [item for item in queue if item["patient_id"] == patient_id]
    decided = api.post(f"/api/v1/reviews/{mine['assessment_id']}/decision",
                       data={"decision": "approve", "note": "Approved in the journey test."})
    assert decided.ok, decided.text()
    context.close()


def hold_consult_and_deliver(app) -> None:
    """Stage data: the consult just booked took place nine days ago and was recorded by its
    physician, who prescribed; the pharmacy delivered the first session's medication a week ago."""
    from sqlalchemy import select

    from telehealth import demo
    from telehealth.models.accounts.accounts import User
    from telehealth.models.scheduling.scheduling import Appointment
    from telehealth.services.accounts import accounts
    from telehealth.services.scheduling import scheduling

    with app.app_context():
        patient = accounts.find_by_email(EMAIL)
        consult = db.session.scalar(select(Appointment).where(Appointment.patient_id == patient.id,
                                                              Appointment.appointment_type == "consult"))
        shift = consult.starts_at - demo._ago(9, hour=15)
        for column in ("starts_at", "ends_at", "blocks_from", "blocks_until"):
            setattr(consult, column, getattr(consult, column) - shift)
        consult.created_at = consult.starts_at - timedelta(days=2)
        db.session.commit()
        physician = db.session.get(User, consult.provider_id)
        scheduling.complete(physician, consult.id, started_at=consult.starts_at + timedelta(minutes=1),
                            ended_at=consult.ends_at - timedelta(minutes=2), notes="Consult held; plan agreed.")
        rx = demo._prescribed(physician, patient, demo._ago(9, hour=16))
        demo._delivered(physician, rx, 1, demo._ago(7))  # the Starter pays for one session's medication
        db.session.commit()
        db.session.remove()


def test_a_new_patient_from_the_landing_page_to_the_record_download(page, browser, world, app, live_server):
    # the landing page and the free screening, then the account that claims it
    page.goto("/")
    check_page(page, "journey-landing")
    page.get_by_role("link", name="Start the free screening").first.click()
    run_to_result(page)
    assert "You may be a good fit for the program" in page.inner_text("main")
    page.get_by_role("link", name=re.compile("Create your account")).first.click()
    sign_up(page)
    assert "Waiting for a physician" in page.inner_text("main")
    check_page(page, "journey-home-review")

    # the physician approves; the home's one next step is now a package
    approve_as_physician(browser, live_server, app)
    page.reload()
    page.get_by_role("link", name="See the packages").click()
    page.get_by_role("button", name="Buy Starter for $199.00").click()
    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Pay $199.00").click()
    expect(page.locator("main")).to_contain_text("Paid", timeout=15_000)  # Stripe's webhook reached the app

    # the consult: the earliest time, in the patient's zone, with the physician's name; its .ics
    page.goto("/home")
    check_page(page, "journey-home-book")
    page.get_by_role("link", name="Book your consult").click()
    page.locator("label.slot").first.click()
    assert re.search(r"Dr\. ", page.inner_text("main"))
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator("main")).to_contain_text("Your appointment is booked")
    check_page(page, "journey-appointments")
    with page.expect_download() as ics:
        page.get_by_role("link", name=re.compile("Add to calendar")).first.click()
    assert ics.value.suggested_filename.endswith(".ics")
    assert "BEGIN:VCALENDAR" in open(ics.value.path()).read()

    # the consult held, the prescription signed, the medication delivered (stage data)
    hold_consult_and_deliver(app)
    page.goto("/medication")
    assert "Delivered" in page.inner_text("main")

    # a first session: planned, its gates refused, then passed; started, finished, checked in
    page.goto("/sessions")
    page.get_by_role("link", name="Plan a session").click()
    when = in_zone(now() + timedelta(minutes=30), "America/New_York").strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Date and time").fill(when)
    page.get_by_label("Their name").fill("Sam Journey")
    page.get_by_label("Their phone number").fill("(646) 555-0143")
    page.get_by_role("button", name="Plan this session").click()
    page.get_by_role("button", name="Start my session").click()
    refusal = page.locator("#start-errors").inner_text()
    assert "The session cannot start yet" in refusal and "Blood pressure" in refusal
    page.get_by_label("Top number (systolic)").fill("124")
    page.get_by_label("Bottom number (diastolic)").fill("78")
    page.get_by_role("button", name="Save my reading").click()
    page.get_by_label("My sitter is here with me").check()
    page.get_by_role("button", name="Confirm my sitter").click()
    pre = page.locator("#check-in-pre")
    pre.get_by_text("6", exact=True).click()
    pre.get_by_role("button", name="Send my answer").click()
    check_page(page, "journey-session-ready")
    page.get_by_role("button", name="Start my session").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your session is under way"
    page.get_by_role("button", name="I'm done").click()
    after = page.locator("#check-in-post")
    after.get_by_text("7", exact=True).click()
    after.get_by_role("button", name="Send my answers").click()
    assert "7 out of 10" in after.inner_text()

    # coaching: the Starter's 30 minutes
    page.goto("/appointments/book")
    page.get_by_label(re.compile("30 min", re.I)).first.check()
    page.get_by_role("button", name="Show free times").click()
    page.locator("label.slot").first.click()
    page.get_by_role("button", name="Book this time").click()
    page.goto("/coaching")
    assert re.search(r"30[- ]minute|30 min", page.inner_text("main"))

    # a retake, then the chart with both scores (the screening's and the retake's)
    page.goto("/progress")
    page.get_by_role("link", name="Answer the questions again").click()
    answer_frequency(page, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    page.get_by_role("button", name="Save my answers").click()
    assert "Part 2 of 2" in page.inner_text("main")
    answer_frequency(page, [1, 1, 1, 0, 0, 0, 0])
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_url("**/progress")
    phq9 = page.get_by_role("table", name="Depression (PHQ-9): every score").inner_text()
    assert "8 of 27" in phq9
    check_page(page, "journey-progress")

    # the whole record, as a file named without PHI
    page.goto("/sharing")
    with page.expect_download() as record:
        page.get_by_role("link", name="Download (JSON)").click()
    assert record.value.suggested_filename == "telehealth-record.json"
    exported = json.loads(open(record.value.path()).read())
    assert EMAIL in json.dumps(exported)
