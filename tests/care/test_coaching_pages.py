"""The coaching pages with Flask's test client: the coach's summaries (never the private note), the
journal written, edited, shared, unshared and deleted through forms, refusals in words with nothing
written, crisis words answered with the help lines first, and who may open what."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    Appointment, AppointmentStatus, CareAssignment, CareRole, ClinicalAlert, CoachingNote, JournalEntry,
)
from tests.conftest import PASSWORD
from tests.pages_support import csrf_token, submit, text_of

PRIVATE = "Coach's own observations about the dream imagery."
SUMMARY = "We talked about what came up and a breathing practice for the week."


def _sign_in(client, user):
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200


def _coaching(db, patient, coach, starts_at, status=AppointmentStatus.BOOKED, minutes=30):
    row = Appointment(patient_id=patient.id, provider_id=coach.id, appointment_type=f"coaching_{minutes}",
                      starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=minutes), status=status,
                      credit_kind=f"coaching_{minutes}", video_room=f"room-{patient.id}-{starts_at.timestamp():.0f}")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def pair(db, create_user):
    patient, coach = create_user("patient"), create_user("coach", display_name="Jordan Lee")
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=coach.id, care_role=CareRole.COACH))
    db.session.commit()
    return patient, coach


def _fresh(db, entry_id):
    db.session.expire_all()  # the app wrote through its own requests
    return db.session.get(JournalEntry, entry_id)


def _entries(db) -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


# --------------------------------------------------------------------------- coaching


def test_the_coaching_page_shows_upcoming_sessions_and_the_coachs_summaries_not_the_private_note(
        client, db, pair):
    patient, coach = pair
    held = _coaching(db, patient, coach, now() - timedelta(days=3), status=AppointmentStatus.COMPLETED)
    db.session.add(CoachingNote(appointment_id=held.id, patient_id=patient.id, coach_id=coach.id,
                                private_note=PRIVATE, patient_summary=SUMMARY, created_at=held.ends_at,
                                updated_at=held.ends_at))
    _coaching(db, patient, coach, now() - timedelta(days=1), status=AppointmentStatus.COMPLETED)  # not written up
    _coaching(db, patient, coach, now() + timedelta(days=2), minutes=60)
    db.session.commit()
    _sign_in(client, patient)
    r = client.get("/coaching")
    assert r.status_code == 200
    page = text_of(r)
    assert SUMMARY in page and PRIVATE not in page and "dream" not in r.get_data(as_text=True)
    assert "60 minutes with Jordan Lee" in page
    assert "has not written the summary of this session yet" in page
    assert "You have no coaching session booked" not in page


def test_the_coaching_page_with_nothing_yet_says_what_happens_next(client, auth):
    auth.as_role("patient")
    page = text_of(client.get("/coaching"))
    assert "You have no coaching session booked" in page
    assert "After your first coaching session, your coach's summary will appear here" in page


@pytest.mark.parametrize("path", ["/coaching", "/journal", "/journal/new", "/journal/1"])
def test_anonymous_visitors_are_sent_to_sign_in_first(client, path):
    r = client.get(path)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/login?next={path}")


@pytest.mark.parametrize("role", ["coach", "physician", "ops", "admin"])
def test_other_roles_are_refused_in_words(client, auth, role):
    auth.as_role(role)
    for path in ("/coaching", "/journal", "/journal/new"):
        r = client.get(path)
        assert r.status_code == 403 and "not part of your account" in text_of(r)


# --------------------------------------------------------------------------- the journal


def test_an_entry_written_in_the_form_is_private_then_shared_and_unshared(app, client, db, pair):
    patient, coach = pair
    _sign_in(client, patient)
    r = submit(client, "/journal/new", {"body": "Felt lighter afterwards.\nNoticed the trees."})
    assert r.status_code == 302
    entry = db.session.scalar(select(JournalEntry))
    assert r.headers["Location"].endswith(f"/journal/{entry.id}") and entry.shared_at is None
    page = text_of(client.get(r.headers["Location"]))
    assert "Saved. Only you can read this entry unless you share it." in page and "Private" in page
    assert "Entries you share are read by Jordan Lee, your coach." in page
    coach_client = app.test_client()
    _sign_in(coach_client, coach)
    assert coach_client.get(f"/api/v1/patients/{patient.id}/journal").get_json()["items"] == []
    r = submit(client, f"/journal/{entry.id}/share", {}, token_from=f"/journal/{entry.id}")
    assert r.status_code == 302
    assert "Shared with your coach" in text_of(client.get(f"/journal/{entry.id}"))
    [seen] = coach_client.get(f"/api/v1/patients/{patient.id}/journal").get_json()["items"]
    assert seen["body"] == "Felt lighter afterwards.\nNoticed the trees."
    assert "Shared with your coach" in text_of(client.get("/journal"))
    submit(client, f"/journal/{entry.id}/unshare", {}, token_from=f"/journal/{entry.id}")
    assert _fresh(db, entry.id).shared_at is None
    assert coach_client.get(f"/api/v1/patients/{patient.id}/journal").get_json()["items"] == []


def test_refusals_are_in_words_beside_the_field_and_nothing_is_written(client, db, pair):
    patient, _ = pair
    _sign_in(client, patient)
    r = submit(client, "/journal/new", {"body": "   "})
    assert r.status_code == 422 and "This field is required." in text_of(r)
    assert 'aria-invalid="true"' in r.get_data(as_text=True)
    r = submit(client, "/journal/new", {"body": "x" * 10001})
    assert r.status_code == 422 and "at most 10000 characters" in text_of(r)
    r = submit(client, "/journal/new", {"body": "Kept.", "session_id": "12345"})
    assert r.status_code == 422 and "Choose one of your sessions that has taken place" in text_of(r)
    assert "Kept." in r.get_data(as_text=True)  # what was typed is not lost
    # a form without its CSRF token writes nothing either
    r = client.post("/journal/new", data={"body": "No token."})
    assert r.status_code == 400 and "expired or did not come from this site" in text_of(r)
    assert _entries(db) == 0


def test_crisis_words_show_the_help_lines_first_and_alert_the_on_call_physician(client, db, pair):
    patient, _ = pair
    _sign_in(client, patient)
    r = submit(client, "/journal/new", {"body": "I keep thinking I would be better off dead."})
    assert r.status_code == 302
    page = text_of(client.get(r.headers["Location"]))
    main = page[page.index("Sign out"):]
    assert main.index("Help is here, right now") < main.index("Journal entry")
    assert "Call 988" in main and "Text HOME to 741741" in main and "Call 911" in main
    assert "A physician on our clinical team has been alerted" in main
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency, alert.patient_id) == ("crisis", "urgent", patient.id)
    # shown once, after saving; not every time the entry is opened
    entry = db.session.scalar(select(JournalEntry))
    assert "Help is here, right now" not in text_of(client.get(f"/journal/{entry.id}"))


def test_the_patient_edits_and_deletes_an_entry(client, db, pair):
    patient, _ = pair
    _sign_in(client, patient)
    submit(client, "/journal/new", {"body": "First words."})
    entry = db.session.scalar(select(JournalEntry))
    url = f"/journal/{entry.id}"
    r = submit(client, url, {"body": ""})
    assert r.status_code == 422 and "Write something, or delete the entry." in text_of(r)
    assert _fresh(db, entry.id).body == "First words."
    r = submit(client, url, {"body": "Second thoughts."})
    assert r.status_code == 302 and _fresh(db, entry.id).body == "Second thoughts."
    r = submit(client, f"{url}/delete", {}, token_from=url)  # not confirmed: nothing deleted
    assert r.status_code == 400 and _fresh(db, entry.id) is not None
    r = submit(client, f"{url}/delete", {"confirm": "yes"}, token_from=url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/journal")
    assert _entries(db) == 0
    assert "The entry is deleted." in text_of(client.get("/journal"))


def test_another_patients_entry_is_a_page_not_found(app, client, db, pair, create_user):
    patient, _ = pair
    _sign_in(client, patient)
    submit(client, "/journal/new", {"body": "Mine alone."})
    entry = db.session.scalar(select(JournalEntry))
    intruder = app.test_client()
    _sign_in(intruder, create_user("patient"))
    r = intruder.get(f"/journal/{entry.id}")
    assert r.status_code == 404 and "Mine alone." not in r.get_data(as_text=True)
    token = csrf_token(intruder, "/journal")
    for path, data in ((f"/journal/{entry.id}", {"body": "Taken over."}), (f"/journal/{entry.id}/share", {}),
                       (f"/journal/{entry.id}/delete", {"confirm": "yes"})):
        r = intruder.post(path, data={**data, "csrf_token": token})
        assert r.status_code == 404, path
    row = _fresh(db, entry.id)
    assert row.body == "Mine alone." and row.shared_at is None


def test_an_entry_can_be_about_a_session_that_took_place_and_unlinked_again(client, db, create_user):
    from telehealth.models import HomeSession, SessionStatus
    from tests.sessions_support import ready

    ctx = ready(db, create_user)
    held = HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=1,
                       scheduled_for=now() - timedelta(days=1), status=SessionStatus.COMPLETED, sitter_name="Sam",
                       sitter_phone="+12125550123", started_at=now() - timedelta(days=1),
                       completed_at=now() - timedelta(hours=20))
    db.session.add(held)
    db.session.commit()
    _sign_in(client, ctx.patient)
    assert "Session 1," in text_of(client.get("/journal/new"))  # the sessions to choose from
    r = submit(client, "/journal/new", {"body": "After the first one.", "session_id": str(held.id)})
    assert r.status_code == 302
    entry = db.session.scalar(select(JournalEntry))
    assert entry.session_id == held.id
    assert "About session 1" in text_of(client.get("/journal"))
    r = submit(client, f"/journal/{entry.id}", {"body": "After the first one.", "session_id": ""})
    assert r.status_code == 302 and _fresh(db, entry.id).session_id is None
