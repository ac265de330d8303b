"""Booking in the browser: a consult booked, listed, moved and cancelled (the terms shown first) by
a patient of the test's own; 30-minute coaching booked with a coaching credit; the late-cancellation
terms and a room that is too early, for an appointment starting in a few hours."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from telehealth.clock import now
from telehealth.extensions import db
from tests.portal.conftest import check_page, sign_in


def _own_patient(app, *, approved: bool, product: str) -> str:
    """A new patient in New York: screened (and approved by Dr. Brooks when `approved`), with
    `product` paid; committed, like the demo's stage patients. Returns the email."""
    from telehealth import demo
    from telehealth.models.screening.assessments import Decision
    from telehealth.schemas.accounts.accounts import PatientSignupIn
    from telehealth.services.accounts import accounts
    from telehealth.services.screening import assessments, reviews

    spec = dict(demo.DEMO_PATIENT, email=f"booker-{uuid.uuid4().hex[:8]}@example.org")
    with app.app_context():
        patient = accounts.sign_up_patient(PatientSignupIn.model_validate(spec))
        if approved:
            assessment, _ = assessments.submit(patient, "screening", 1, demo.screening_answers(spec))
            reviews.decide(demo._by_email("dr.brooks"), assessment.id, Decision.APPROVE, message=None, note="Test.")
        demo._paid(patient, product, now())
        db.session.commit()
        db.session.remove()
    return spec["email"]


def _last_day(page) -> None:
    """The week's last day with free times (days away: outside the cancellation cutoff). With htmx
    its times swap in place, the URL follows, and focus moves to the times."""
    page.locator(".day-strip a").last.click()
    page.wait_for_url(re.compile(r"day=\d{4}-\d\d-\d\d"))
    page.locator("#field-slot:focus").wait_for()


def _choose_first_time(page) -> None:
    page.locator("label.slot").first.click()
    assert page.locator("input[name=slot]:checked").count() == 1


def test_a_patient_books_moves_and_cancels_a_consult(page, world, app):
    sign_in(page, _own_patient(app, approved=True, product="starter"))
    page.goto("/appointments")
    assert "You have no appointments coming up." in page.inner_text("main")
    page.get_by_role("link", name="Book an appointment").first.click()
    check_page(page, "scheduling-book-type")
    page.get_by_label(re.compile("Initial physician consult")).check()
    page.get_by_role("button", name="Show free times").click()
    assert "Step 2 of 2" in page.inner_text("main")
    _last_day(page)
    check_page(page, "scheduling-book-slots")
    _choose_first_time(page)
    page.get_by_role("button", name="Book this time").click()
    assert "Your appointment is booked." in page.get_by_role("status").first.inner_text()
    main = page.inner_text("main")
    assert "Initial physician consult" in main and re.search(r"Dr\. (Maya Adams|Samuel Brooks)", main)
    assert re.search(r"[AP]M E[SD]T", main)  # the patient's own zone, New York
    check_page(page, "scheduling-appointment")

    page.goto("/appointments")
    assert "Coming up" in page.inner_text("main") and "Initial physician consult" in page.inner_text("main")
    check_page(page, "scheduling-appointments")

    page.get_by_role("link", name=re.compile("^Move to another time")).first.click()
    check_page(page, "scheduling-reschedule")
    _last_day(page)
    _choose_first_time(page)
    page.get_by_role("button", name="Move to this time").click()
    assert "Your appointment has moved" in page.get_by_role("status").first.inner_text()

    page.get_by_role("link", name=re.compile("^Cancel")).first.click()
    terms = page.locator("#cancel-terms").inner_text()
    assert "its credit comes back to your account" in terms
    check_page(page, "scheduling-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    assert "Its credit is back in your account" in page.get_by_role("status").first.inner_text()
    assert "Past and cancelled" in page.inner_text("main")
    assert "Moved to another time" in page.inner_text("main")


def test_coaching_30_minutes_is_booked_with_a_coaching_credit(page, world, app):
    sign_in(page, _own_patient(app, approved=False, product="coaching_30"))
    page.goto("/appointments/book")
    assert "Initial physician consult: A physician must approve your screening" in page.inner_text("main")
    page.get_by_label(re.compile("Integration coaching, 30 minutes")).check()
    page.get_by_role("button", name="Show free times").click()
    assert re.search(r"With (Jordan Lee|Alex Rivera)", page.inner_text("main"))
    _choose_first_time(page)
    page.get_by_role("button", name="Book this time").click()
    main = page.inner_text("main")
    assert "Integration coaching, 30 minutes" in main and "30 minutes, by video" in main


@pytest.fixture
def soon(app, world):
    """A patient of the test's own with a consult booked to start in three hours (inside the
    cancellation cutoff; its room not open yet), and a coaching session two hours ago (over)."""
    from telehealth import demo
    from telehealth.services.accounts import accounts

    email = _own_patient(app, approved=True, product="starter")
    with app.app_context():
        patient = accounts.find_by_email(email)
        moment = now().replace(second=0, microsecond=0)
        consult = demo._appointment(patient, demo._by_email("dr.adams"), "consult", moment + timedelta(hours=3))
        demo._paid(patient, "coaching_30", moment)
        over = demo._appointment(patient, demo._by_email("coach.lee"), "coaching_30", moment - timedelta(hours=2))
        ids = consult.id, over.id
        db.session.remove()
    return email, *ids


def test_late_cancellation_terms_and_rooms_too_early_and_over(page, soon):
    email, appointment_id, over_id = soon
    sign_in(page, email)
    page.goto("/appointments")
    main = page.inner_text("main")
    assert "The video room opens at" in main and "Past and cancelled" in main and "Ended" in main
    check_page(page, "scheduling-appointments-past")
    page.goto(f"/appointments/{over_id}/room")
    assert "This appointment has ended" in page.inner_text("main")
    check_page(page, "scheduling-room-ended")
    page.goto(f"/appointments/{appointment_id}/room")
    heading = page.get_by_role("heading", name=re.compile("Too early: the room opens at"))
    assert re.fullmatch(r"Too early: the room opens at \d{1,2}:\d\d [AP]M", heading.inner_text())
    check_page(page, "scheduling-room-too-early")
    page.goto(f"/appointments/{appointment_id}/cancel")
    terms = page.locator("#cancel-terms").inner_text()
    assert "If you cancel now, its credit is used and does not come back." in terms
    check_page(page, "scheduling-cancel-late")
    page.goto(f"/appointments/{appointment_id}/reschedule")
    assert "Appointments can be moved until 24 hours before they start" in page.inner_text("main")
