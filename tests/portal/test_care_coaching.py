"""Coaching and the integration journal in the browser: the coach's summary as the treatment-stage
demo patient reads it (read only), and a patient of our own writing, sharing and unsharing entries,
with crisis words answered by the help lines first."""
from __future__ import annotations

from sqlalchemy import select

from telehealth.extensions import db as _db
from telehealth.models import CareAssignment, CareRole, ClinicalAlert, JournalEntry
from tests.conftest import PASSWORD, _make_user
from tests.portal.conftest import check_page, sign_in


def test_the_coaching_page_shows_the_coachs_summary(page, world):
    sign_in(page, "patient.treatment@demo.telehealth")
    page.get_by_role("link", name="Coaching").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Coaching"
    assert page.get_by_text("We talked about your first session and a grounding practice.").is_visible()
    assert page.get_by_text("with Jordan Lee").first.is_visible()
    check_page(page, "care-coaching")


def test_a_patient_writes_an_entry_shares_it_and_crisis_words_bring_help_first(page, world, app):
    with app.app_context():
        patient = _make_user(_db, "patient", email="journal.writer@example.org", phone="+16465550191")
        coach = _make_user(_db, "coach", email="journal.coach@example.org", display_name="Sam Rowe")
        _db.session.add(CareAssignment(patient_id=patient.id, staff_id=coach.id, care_role=CareRole.COACH))
        _db.session.commit()
        patient_id = patient.id
        _db.session.remove()
    sign_in(page, "journal.writer@example.org", PASSWORD)
    page.goto("/journal")
    assert page.get_by_text("Entries you share are read by Sam Rowe, your coach.").is_visible()
    check_page(page, "care-journal-empty")
    page.get_by_role("link", name="Write an entry").click()
    page.get_by_role("button", name="Save entry").click()  # nothing written: refused in words
    assert "This field is required" in page.get_by_role("alert").inner_text()
    check_page(page, "care-journal-new-refused")
    page.get_by_label("Your entry").fill("The music felt like a wave.\nI want to call my brother this week.")
    page.get_by_role("button", name="Save entry").click()
    assert "Only you can read this entry" in page.get_by_role("status").first.inner_text()
    page.get_by_role("button", name="Share with my coach").click()
    assert page.get_by_text("Shared with your coach", exact=True).first.is_visible()
    check_page(page, "care-journal-entry")
    page.get_by_role("link", name="Back to your journal").click()
    check_page(page, "care-journal")
    with app.app_context():
        [entry] = _db.session.scalars(select(JournalEntry).where(JournalEntry.patient_id == patient_id)).all()
        assert entry.shared_at is not None and "wave" in entry.body
        _db.session.remove()
    # crisis words: the help lines before anything else, and the on-call physician alerted
    page.get_by_role("link", name="Write an entry").click()
    page.get_by_label("Your entry").fill("tonight i feel like i want to end it all")
    page.get_by_role("button", name="Save entry").click()
    help_box = page.get_by_role("alert").filter(has_text="Help is here, right now")
    assert help_box.get_by_role("link", name="Call 988").is_visible()
    assert help_box.get_by_role("link", name="Text HOME to 741741").is_visible()
    box = help_box.bounding_box()
    assert box["y"] < page.get_by_role("heading", name="Journal entry").bounding_box()["y"]
    check_page(page, "care-journal-crisis")
    with app.app_context():
        assert _db.session.scalar(select(ClinicalAlert.kind).where(ClinicalAlert.patient_id == patient_id)) == "crisis"
        _db.session.remove()
