"""The coach's day in the browser: Jordan Lee (the demo coach) signs in and lands on the day, opens
a patient (what coaching needs, the shared journal entry, not the private one), writes the note of
the session held earlier today, edits it (revision 2), and is refused a physician's page with the
403 page in words."""
from __future__ import annotations

from telehealth.extensions import db as _db
from telehealth.services.accounts import accounts
from tests.portal.conftest import check_page, sign_in

COACH = "coach.lee@demo.telehealth"


def _treatment_patient(app):
    with app.app_context():
        patient = accounts.find_by_email("patient.treatment@demo.telehealth")
        found = patient.id, patient.display_name
        _db.session.remove()
    return found


def test_a_coach_works_through_the_day(page, world, app):
    patient_id, name = _treatment_patient(app)
    sign_in(page, COACH)
    assert page.url.endswith("/coach")
    assert page.get_by_role("heading", level=1).inner_text() == "Today"
    today = page.locator("table.sessions")
    assert today.get_by_text("Held").first.is_visible() and today.get_by_text("Upcoming").first.is_visible()
    check_page(page, "care-coach-day")

    # the patients, searched by name, and one patient as a coach sees them
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Search by name").fill(name.split()[0])
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name=name).is_visible()
    check_page(page, "care-coach-patients")
    page.get_by_role("link", name=name).click()
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_text("I could name it and breathe with it", exact=False).is_visible()
    assert page.get_by_text("not ready to share").count() == 0
    assert "ketamine" not in page.content() and "PHQ" not in page.content()
    check_page(page, "care-coach-patient")

    # the note of the session held earlier today: refused empty, written, then edited
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    today = page.locator("table.sessions")
    today.get_by_role("link", name=f"Write note for {name}").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Session note"
    check_page(page, "care-coach-note-new")
    page.get_by_role("button", name="Save note").click()
    assert "Private note: This field is required." in page.get_by_role("alert").first.inner_text()
    check_page(page, "care-coach-note-refused")
    page.get_by_label("Private note").fill("Noticed relief when talking about the garden; explore the tightness.")
    page.get_by_label("Summary for the patient").fill("We talked about the garden and a breathing practice.")
    page.get_by_role("button", name="Save note").click()
    assert "Note saved" in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Revision 1, written just now").is_visible()
    check_page(page, "care-coach-note-saved")
    page.get_by_label("Summary for the patient").fill("We talked about the garden, the tightness and a breathing "
                                                       "practice for the evenings.")
    page.get_by_role("button", name="Save changes").click()
    assert "Note saved: revision 2." in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Revision 2, edited just now").is_visible()
    check_page(page, "care-coach-note-revised")
    page.get_by_role("link", name="Today", exact=True).first.click()
    assert page.locator("table.sessions").get_by_text("Note: revision 2").first.is_visible()

    # a physician's page (prescribing for this patient) is the 403 page, not a JSON error
    response = page.goto(f"/patients/{patient_id}/prescribe")
    assert response.status == 403 and "text/html" in response.headers["content-type"]
    assert "not part of your account" in page.get_by_role("main").inner_text()
    check_page(page, "care-coach-refused")
