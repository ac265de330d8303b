"""The coach's pages with Flask's test client: the day in the coach's own zone, their patients (paged,
searchable, flat in queries), one patient showing what coaching needs and nothing clinical, the note
editor (write, edit, revisions, the 7-day lock, refusals in words), and who may open what."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    AdverseEvent, Appointment, AppointmentStatus, Assessment, AuditEvent, BloodPressureReading, CareAssignment,
    CareRole, CheckIn, CheckInKind, CheckInStatus, CoachingNote, HomeSession, JournalEntry, Measure,
    SessionStatus,
)
from telehealth.models.home_care.home_sessions import AdverseGrade, BpBand, BpSource
from telehealth.models.screening.assessments import AssessmentStatus, ReviewStatus
from tests import sessions_support
from tests.conftest import PASSWORD
from tests.pages_support import BROWSER, submit, text_of

clock = sessions_support.clock
START = sessions_support.START            # Monday 2026-03-02 15:00 UTC: 9:00 in Chicago
CHICAGO = "America/Chicago"
PRIVATE = "Coach's own observation: revisit the grief about the move."
SUMMARY = "We talked about the move and a grounding practice for mornings."


def _sign_in(client, user):
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()


def _assign(db, patient, coach, *, via_booking=False, ended=False):
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=coach.id, care_role=CareRole.COACH,
                                  via_booking=via_booking, ended_at=now() if ended else None))
    db.session.commit()


def _coaching(db, patient, coach, starts_at, *, status=AppointmentStatus.BOOKED, minutes=30):
    row = Appointment(patient_id=patient.id, provider_id=coach.id, appointment_type=f"coaching_{minutes}",
                      starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=minutes), status=status,
                      credit_kind=f"coaching_{minutes}",
                      video_room=f"room-{patient.id}-{coach.id}-{starts_at.timestamp():.0f}")
    db.session.add(row)
    db.session.commit()
    return row


def _note(db, appointment, *, revision=1, private=PRIVATE, summary=SUMMARY):
    db.session.add(CoachingNote(appointment_id=appointment.id, patient_id=appointment.patient_id,
                                coach_id=appointment.provider_id, private_note=private, patient_summary=summary,
                                created_at=appointment.ends_at, updated_at=appointment.ends_at, revision=revision))
    db.session.commit()


@pytest.fixture
def coach(create_user):
    return create_user("coach", display_name="Jordan Lee", time_zone=CHICAGO)


@pytest.fixture
def patient(db, create_user, coach):
    person = create_user("patient", display_name="Robin Hale")
    _assign(db, person, coach)
    return person


# --------------------------------------------------------------------------- the day


def test_the_day_shows_todays_sessions_in_the_coachs_own_zone(app, client, db, clock, coach, patient,
                                                             create_user):
    other_patient = create_user("patient", display_name="Casey Morgan")
    _assign(db, other_patient, coach)
    held = _coaching(db, patient, coach, START - timedelta(hours=1), status=AppointmentStatus.COMPLETED)  # 8:00
    soon = _coaching(db, other_patient, coach, START + timedelta(minutes=5))        # 9:05, the room is open
    late = _coaching(db, patient, coach, START + timedelta(hours=14, minutes=30))   # 23:30 Chicago, Tuesday in UTC
    # Sunday 23:30 in Chicago is Monday in UTC: not today for the coach, but a note still to write
    sunday = _coaching(db, other_patient, coach, START - timedelta(hours=9, minutes=30))
    _coaching(db, patient, coach, START + timedelta(days=3))                         # Thursday: the days ahead
    cancelled_ahead = _coaching(db, other_patient, coach, START + timedelta(days=2),
                                status=AppointmentStatus.CANCELLED)
    someone_else = create_user("coach")
    _coaching(db, other_patient, someone_else, START + timedelta(hours=2))
    _sign_in(client, coach)

    r = client.get("/coach", headers=BROWSER)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    page = text_of(r)
    assert "Monday, March 2" in page and CHICAGO in page
    today = page.split("Sessions today", 1)[1].split("Notes still to write", 1)[0]
    assert "8:00 AM" in today and "9:05 AM" in today and "11:30 PM" in today
    assert today.count("Robin Hale Held") == 1 and today.count("Robin Hale Upcoming") == 1
    assert "Casey Morgan Room open" in today
    assert "Held" in today and "Room open" in today and "Upcoming" in today
    # the held session asks for its note; the one still ahead does not
    assert f"/coach/sessions/{held.id}/note" in html and f"/coach/sessions/{late.id}/note" not in html
    # Join is the video room's page when it exists; until then the page says the room is open
    if "consult_pages.room" in app.view_functions:
        assert f'href="/consult/{soon.id}' in html or "Join" in today
    else:
        assert "Video room open until 10:05 AM" in today
    # Sunday's session is yesterday for the coach: listed as a note to write, not as today
    to_write = page.split("Notes still to write", 1)[1].split("Next 7 days", 1)[0]
    assert "Mar 1, 2026" in to_write and f"/coach/sessions/{sunday.id}/note" in html
    ahead = page.split("Next 7 days", 1)[1]
    assert "Thursday, March 5" in ahead and "Wednesday, March 4" not in ahead
    assert f"/coach/sessions/{cancelled_ahead.id}" not in html
    # another coach's session is not on this coach's day
    assert "11:00 AM" not in today


def test_a_written_note_shows_its_revision_and_when_on_the_day(client, db, clock, coach, patient):
    held = _coaching(db, patient, coach, START - timedelta(hours=3), status=AppointmentStatus.COMPLETED)
    _note(db, held, revision=2)
    _sign_in(client, coach)
    page = text_of(client.get("/coach", headers=BROWSER))
    assert "Note: revision 2, edited 2 h ago" in page and "Edit note" in page
    assert "Note to write" not in page and "Notes still to write" not in page


def test_the_day_is_flat_in_queries(client, db, clock, coach, create_user, count_queries):
    def fill(n):
        for i in range(n):
            person = create_user("patient")
            _assign(db, person, coach)
            held = _coaching(db, person, coach, START - timedelta(hours=8) + timedelta(minutes=35 * i),
                             status=AppointmentStatus.COMPLETED)
            if i % 2:
                _note(db, held)

    _sign_in(client, coach)
    fill(2)
    with count_queries() as few:
        assert client.get("/coach", headers=BROWSER).status_code == 200
    fill(8)
    with count_queries() as many:
        assert client.get("/coach", headers=BROWSER).status_code == 200
    assert many.count == few.count, many.statements[few.count:]


def test_a_coach_lands_on_the_day_after_signing_in(client, coach):
    r = submit(client, "/login", {"email": coach.email, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/coach")


# --------------------------------------------------------------------------- the patients


def test_the_patients_are_those_the_services_say_are_the_coachs(client, db, clock, coach, patient, create_user):
    booked = create_user("patient", display_name="Avery Booked")
    _assign(db, booked, coach, via_booking=True)
    _coaching(db, booked, coach, START + timedelta(days=2))                          # coaching continues
    lapsed = create_user("patient", display_name="Lee Lapsed")
    _assign(db, lapsed, coach, via_booking=True)
    _coaching(db, lapsed, coach, START - timedelta(days=30), status=AppointmentStatus.COMPLETED)
    ended = create_user("patient", display_name="Eli Ended")
    _assign(db, ended, coach, ended=True)
    theirs = create_user("patient", display_name="Sam Otherwise")
    _assign(db, theirs, create_user("coach"))
    _coaching(db, patient, coach, START - timedelta(days=2), status=AppointmentStatus.COMPLETED)
    _sign_in(client, coach)

    page = text_of(client.get("/coach/patients", headers=BROWSER))
    assert "Avery Booked" in page and "Robin Hale" in page
    assert "Lee Lapsed" not in page and "Eli Ended" not in page and "Sam Otherwise" not in page
    assert "2 patients" in page
    row = page.split("Robin Hale", 1)[1]
    assert row.startswith(" Feb 28, 2026 Nothing booked Assigned")
    assert "While their coaching continues" in page.split("Avery Booked", 1)[1]


def test_the_patients_are_paged_and_searched_by_name(client, db, coach, create_user):
    for i in range(27):
        _assign(db, create_user("patient", display_name=f"Person {i:02d}"), coach)
    _assign(db, create_user("patient", display_name="Zoë 100%_match"), coach)
    _sign_in(client, coach)
    first = text_of(client.get("/coach/patients", headers=BROWSER))
    assert "28 patients" in first and "Page 1 of 2" in first
    assert "Person 00" in first and "Person 24" in first and "Person 25" not in first
    second = text_of(client.get("/coach/patients?page=2", headers=BROWSER))
    assert "Person 25" in second and "Zoë 100%_match" in second and "Person 00" not in second
    # a search goes by POST: a patient's name never sits in the address (history, logs)
    found = text_of(submit(client, "/coach/patients", {"q": "person 1"}, headers=BROWSER))
    assert "10 patients matching" in found and "Person 19" in found and "Person 20" not in found
    assert "28 patients" in text_of(client.get("/coach/patients?q=person 1", headers=BROWSER))  # ignored
    # the search's % and _ are letters, not wildcards
    literal = text_of(submit(client, "/coach/patients", {"q": "%_"}, headers=BROWSER))
    assert "1 patient matching" in literal and "Zoë" in literal
    none = text_of(submit(client, "/coach/patients", {"q": "nobody"}, headers=BROWSER))
    assert "No patient of yours matches" in none
    r = submit(client, "/coach/patients", {"q": "x" * 101}, headers=BROWSER)
    assert r.status_code == 422 and "Search with at most 100 characters." in text_of(r)
    assert text_of(client.get("/coach/patients?page=abc", headers=BROWSER)).count("Page 1 of 2") == 1


def test_the_patients_list_is_flat_in_queries(client, db, clock, coach, create_user, count_queries):
    def fill(n):
        for _ in range(n):
            person = create_user("patient")
            _assign(db, person, coach)
            _coaching(db, person, coach, START - timedelta(days=1, minutes=person.id),
                      status=AppointmentStatus.COMPLETED)
            _coaching(db, person, coach, START + timedelta(days=1, hours=person.id))

    _sign_in(client, coach)
    fill(2)
    with count_queries() as few:
        assert client.get("/coach/patients", headers=BROWSER).status_code == 200
    fill(8)
    with count_queries() as many:
        page = text_of(client.get("/coach/patients", headers=BROWSER))
    assert "10 patients" in page
    assert many.count == few.count, many.statements[few.count:]


# --------------------------------------------------------------------------- one patient


@pytest.fixture
def clinical_patient(db, create_user, coach):
    """A patient in treatment with everything a physician sees, and what a coach may."""
    ready = sessions_support.ready(db, create_user)
    person = ready.patient
    person.display_name = "Robin Hale"
    _assign(db, person, coach)
    db.session.add(Assessment(questionnaire_id="screening", questionnaire_version=1,
                              status=AssessmentStatus.SUBMITTED, patient_id=person.id,
                              answers={"history": {"notes": "SCREENING-ANSWER-SECRET"}}, submitted_at=now(),
                              outcome="likely_candidate", reasons=[], review_status=ReviewStatus.APPROVED,
                              review_due_at=now(), first_reviewed_at=now(), phq9_total=23, phq9_band="severe"))
    db.session.add(Measure(patient_id=person.id, instrument="phq9", questionnaire_version=1, answers={},
                           total=17, band="moderately_severe", taken_at=now() - timedelta(days=3), source="retake"))
    session = HomeSession(patient_id=person.id, prescription_id=ready.prescription.id, number=1,
                          scheduled_for=now() - timedelta(days=2), status=SessionStatus.COMPLETED,
                          sitter_name="Jamie Sitter", sitter_phone="+12125550188",
                          started_at=now() - timedelta(days=2), completed_at=now() - timedelta(days=2),
                          gate_results=[{"id": "blood_pressure", "ok": True, "reason": "GATE-REASON-SECRET"}])
    db.session.add(session)
    db.session.flush()
    for kind, mood, hours in ((CheckInKind.PRE, 4, -1), (CheckInKind.POST, 7, 2), (CheckInKind.NEXT_DAY, 8, 20)):
        db.session.add(CheckIn(session_id=session.id, kind=kind, due_at=session.scheduled_for + timedelta(hours=hours),
                               status=CheckInStatus.ANSWERED,
                               answered_at=session.scheduled_for + timedelta(hours=hours, minutes=5),
                               answers={"mood": mood, "sleep_quality": 3,
                                        "graded": [{"name": "SIDE-EFFECT-SECRET", "grade": "moderate"}]}))
    db.session.add(BloodPressureReading(patient_id=person.id, session_id=session.id, systolic=173, diastolic=109,
                                        taken_at=session.scheduled_for - timedelta(minutes=20), source=BpSource.APP,
                                        band=BpBand.NO_GO))
    db.session.add(AdverseEvent(patient_id=person.id, session_id=session.id, grade=AdverseGrade.MODERATE,
                                description="ADVERSE-EVENT-SECRET", source="check_in",
                                opened_at=now() - timedelta(days=2)))
    mine = _coaching(db, person, coach, now() - timedelta(days=1), status=AppointmentStatus.COMPLETED)
    _note(db, mine)
    other_coach = create_user("coach", display_name="Alex Rivera")
    _assign(db, person, other_coach)
    theirs = _coaching(db, person, other_coach, now() - timedelta(days=5), status=AppointmentStatus.COMPLETED)
    _note(db, theirs, private="OTHER-COACH-PRIVATE", summary="OTHER-COACH-SUMMARY")
    db.session.add(JournalEntry(patient_id=person.id, session_id=session.id, body="I felt the floor hold me.",
                                shared_at=now(), created_at=now() - timedelta(hours=5),
                                updated_at=now() - timedelta(hours=5)))
    db.session.add(JournalEntry(patient_id=person.id, body="PRIVATE-JOURNAL-SECRET", created_at=now(),
                                updated_at=now()))
    db.session.commit()
    return person


FORBIDDEN = ("ketamine", "Dissolve under the tongue", "F33.2", "SCREENING-ANSWER-SECRET", "PHQ", "GAD", "severe",
             "173/109", "173", "Blood-pressure", "SIDE-EFFECT-SECRET", "ADVERSE-EVENT-SECRET", "GATE-REASON-SECRET",
             "Jamie Sitter", "OTHER-COACH-PRIVATE", "OTHER-COACH-SUMMARY", "PRIVATE-JOURNAL-SECRET", "Medication stage",
             "Shipment", "Screening", "Prescription", "Side effect", "sleep", "Follow-up decision")


def test_a_patient_shows_what_coaching_needs_and_nothing_clinical(client, db, coach, clinical_patient):
    _sign_in(client, coach)
    r = client.get(f"/coach/patients/{clinical_patient.id}", headers=BROWSER)
    assert r.status_code == 200
    html, page = r.get_data(as_text=True), text_of(r)
    assert "Robin Hale" in page
    sessions = page.split("Sessions and moods", 1)[1].split("Coaching", 1)[0]
    assert "Completed" in sessions and "4/10" in sessions and "7/10" in sessions and "8/10" in sessions
    assert SUMMARY in page and PRIVATE in page                      # their own note, both parts
    assert "with Alex Rivera" in page and "its notes are theirs" in page
    assert "I felt the floor hold me." in page and "about session 1" in page
    assert "Timeline" in page and "Coaching session summary" in page
    for word in FORBIDDEN:
        assert word not in html, word


def test_opening_a_patient_is_audited_as_the_services_audit(client, db, coach, clinical_patient):
    _sign_in(client, coach)
    assert client.get(f"/coach/patients/{clinical_patient.id}", headers=BROWSER).status_code == 200
    reads = set(db.session.scalars(select(AuditEvent.resource_type).where(
        AuditEvent.actor_id == coach.id, AuditEvent.patient_id == clinical_patient.id, AuditEvent.action == "read")))
    assert {"patient_profile", "home_sessions", "coaching_notes", "journal_entry", "journal_entries",
            "patient_timeline"} <= reads


def _timeline(response) -> str:
    return text_of(response).split("Timeline", 1)[1]


def test_the_timeline_pages_back(client, db, clock, coach, patient):
    for day in range(25):
        _coaching(db, patient, coach, START - timedelta(days=day + 1, hours=1), status=AppointmentStatus.COMPLETED)
    _sign_in(client, coach)
    r = client.get(f"/coach/patients/{patient.id}", headers=BROWSER)
    html = r.get_data(as_text=True)
    assert "Older events" in html and "Feb 5, 8:00 AM" not in _timeline(r)
    [link] = re.findall(r'href="([^"]*before=[^"]*)"', html)
    r = client.get(link.replace("&amp;", "&"), headers=BROWSER)
    assert r.status_code == 200 and "Feb 5, 8:00 AM" in _timeline(r) and "Mar 1, 8:00 AM" not in _timeline(r)
    bad = client.get(f"/coach/patients/{patient.id}?before=nonsense", headers=BROWSER)
    assert bad.status_code == 200 and "That link to older events did not work" in text_of(bad)
    assert "Mar 1, 8:00 AM" in _timeline(bad)


def test_a_coach_not_on_the_team_is_refused_in_words(client, db, coach, create_user):
    stranger = create_user("patient", display_name="Not Yours")
    _sign_in(client, coach)
    r = client.get(f"/coach/patients/{stranger.id}", headers=BROWSER)
    assert r.status_code == 403 and r.mimetype == "text/html"
    assert "You do not have access to this part of the patient's record." in text_of(r)
    assert "Not Yours" not in r.get_data(as_text=True)


# --------------------------------------------------------------------------- the note editor


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_note_is_written_then_edited_with_its_revision_shown(client, db, clock, coach, patient):
    appointment = _coaching(db, patient, coach, START + timedelta(hours=1))
    url = f"/coach/sessions/{appointment.id}/note"
    _sign_in(client, coach)
    early = client.get(url, headers=BROWSER)
    assert "Notes are written once the session has started." in text_of(early)
    assert "<textarea" not in early.get_data(as_text=True)

    clock.move_to(appointment.ends_at + timedelta(minutes=5))
    form = client.get(url, headers=BROWSER)
    assert form.status_code == 200 and "Robin Hale" in text_of(form) and 'name="private_note"' in form.get_data(True)
    r = submit(client, url, {"private_note": "", "patient_summary": "  "})
    assert r.status_code == 422
    assert "Private note: This field is required." in text_of(r) and _count(db, CoachingNote) == 0

    r = submit(client, url, {"private_note": PRIVATE, "patient_summary": SUMMARY})
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    page = text_of(client.get(url, headers=BROWSER))
    assert "Note saved. The patient can read the summary" in page and "Revision 1, written just now" in page
    assert "Save changes" in page

    clock.shift(timedelta(hours=2))
    r = submit(client, url, {"private_note": PRIVATE, "patient_summary": SUMMARY + " And rest."})
    assert r.status_code == 302
    page = text_of(client.get(url, headers=BROWSER))
    assert "Note saved: revision 2." in page and "Revision 2, edited just now" in page
    clock.shift(timedelta(hours=2))
    assert "Revision 2, edited 2 h ago" in text_of(client.get(url, headers=BROWSER))
    db.session.expire_all()
    note = db.session.scalar(select(CoachingNote))
    assert note.revision == 2 and note.patient_summary == SUMMARY + " And rest." and note.private_note == PRIVATE

    # saving the same words again is not a revision
    r = submit(client, url, {"private_note": PRIVATE, "patient_summary": SUMMARY + " And rest."})
    assert "Nothing changed" in text_of(client.get(r.headers["Location"], headers=BROWSER))
    db.session.expire_all()
    assert db.session.get(CoachingNote, note.id).revision == 2

    r = submit(client, url, {"private_note": PRIVATE, "patient_summary": "x" * 2001})
    assert r.status_code == 422 and "Summary for the patient:" in text_of(r)
    db.session.expire_all()
    assert db.session.get(CoachingNote, note.id).revision == 2


def test_a_note_is_read_only_seven_days_after_its_session_with_the_reason(client, db, clock, coach, patient):
    appointment = _coaching(db, patient, coach, START - timedelta(hours=1), status=AppointmentStatus.COMPLETED)
    _note(db, appointment, revision=3)
    url = f"/coach/sessions/{appointment.id}/note"
    _sign_in(client, coach)
    token_page = client.get(url, headers=BROWSER)
    assert 'name="patient_summary"' in token_page.get_data(True)
    clock.move_to(appointment.ends_at + timedelta(days=7, seconds=1))
    r = client.get(url, headers=BROWSER)
    page = text_of(r)
    assert "A note can be edited until 7 days after the session." in page and "Editing closed" in page
    assert "<textarea" not in r.get_data(as_text=True) and SUMMARY in page and PRIVATE in page
    assert "Revision 3" in page
    # a form opened before the window closed is refused in the same words, nothing changed
    r = submit(client, url, {"private_note": PRIVATE, "patient_summary": "Late change"}, token_from="/coach")
    assert r.status_code == 409 and "A note can be edited until 7 days after the session." in text_of(r)
    db.session.expire_all()
    assert db.session.scalar(select(CoachingNote.revision)) == 3


@pytest.mark.parametrize("status, words", [(AppointmentStatus.CANCELLED, "This session was cancelled"),
                                           (AppointmentStatus.NO_SHOW, "This session was missed")])
def test_a_session_not_held_has_nothing_to_note(client, db, clock, coach, patient, status, words):
    appointment = _coaching(db, patient, coach, START - timedelta(hours=2), status=status)
    url = f"/coach/sessions/{appointment.id}/note"
    _sign_in(client, coach)
    r = client.get(url, headers=BROWSER)
    assert f"{words}: there is nothing to note." in text_of(r) and "<textarea" not in r.get_data(as_text=True)
    r = submit(client, url, {"private_note": "a", "patient_summary": "b"}, token_from="/coach")
    assert r.status_code == 409 and words in text_of(r) and _count(db, CoachingNote) == 0


def test_another_coachs_session_note_is_refused_in_words(client, db, clock, coach, patient, create_user):
    other = create_user("coach")
    _assign(db, patient, other)
    appointment = _coaching(db, patient, other, START - timedelta(hours=2), status=AppointmentStatus.COMPLETED)
    _note(db, appointment, private="THEIR-PRIVATE")
    _sign_in(client, coach)
    r = client.get(f"/coach/sessions/{appointment.id}/note", headers=BROWSER)
    assert r.status_code == 403 and "Only the coach of this session keeps its notes." in text_of(r)
    assert "THEIR-PRIVATE" not in r.get_data(as_text=True)
    r = submit(client, f"/coach/sessions/{appointment.id}/note", {"private_note": "x", "patient_summary": "y"},
               token_from="/coach")
    assert r.status_code == 403
    missing = client.get("/coach/sessions/999999/note", headers=BROWSER)
    assert missing.status_code == 404 and "No such coaching session." in text_of(missing)


# --------------------------------------------------------------------------- who may open what

PAGES = ["/coach", "/coach/patients", "/coach/patients/1", "/coach/sessions/1/note"]


@pytest.mark.parametrize("role", ["physician", "patient", "ops", "admin"])
def test_other_roles_get_the_403_page(client, auth, role):
    auth.as_role(role)
    for path in PAGES:
        r = client.get(path, headers=BROWSER)
        assert r.status_code == 403 and r.mimetype == "text/html", path
        assert "not part of your account" in text_of(r), path
    r = submit(client, "/coach/sessions/1/note", {"private_note": "x", "patient_summary": "y"}, token_from="/no-such-page")
    assert r.status_code == 403 and "not part of your account" in text_of(r)


def test_a_coach_is_refused_a_physicians_prescription_page_with_the_403_page(app, client, db, coach, patient):
    _sign_in(client, coach)
    for path in (f"/patients/{patient.id}/prescribe", f"/patients/{patient.id}"):
        r = client.get(path, headers=BROWSER)
        assert r.status_code == 403 and r.mimetype == "text/html" and "<!doctype html>" in r.get_data(as_text=True)
        assert "not part of your account" in text_of(r)


def test_a_coach_gets_the_403_page_for_every_page_of_another_role(app, client, coach):
    """Every page whose roles leave coaches out (the patients' today, the physicians' as they come)."""
    from telehealth.models.accounts.accounts import Role
    from tests.platform.test_page_access import _pages, _path

    _sign_in(client, coach)
    checked = 0
    for method, rule, spec in _pages(app, public=False):
        if method != "GET" or not spec["roles"] or Role.COACH in spec["roles"]:
            continue
        r = client.get(_path(rule), headers=BROWSER)
        assert r.status_code == 403 and r.mimetype == "text/html", rule.rule
        assert "not part of your account" in text_of(r), rule.rule
        checked += 1
    assert checked > 10


def test_ago_says_how_long_ago_in_words(app, clock):
    from telehealth.routes.care.coach_pages import ago

    assert ago(START) == "just now"
    assert ago(START - timedelta(minutes=12)) == "12 min ago"
    assert ago(START - timedelta(hours=2, minutes=59)) == "2 h ago"
    assert ago(START - timedelta(days=1, hours=3)) == "1 day ago"
    assert ago(START - timedelta(days=6)) == "6 days ago"
    assert ago(None) == ""


# --------------------------------------------------------------------------- the demo's coach


def _demo_day(runner):
    from telehealth.services.accounts import accounts
    from telehealth.services.care import coach_desk

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    coach = accounts.find_by_email("coach.lee@demo.telehealth")
    return coach, coach_desk.coach_day(coach)


def test_the_demo_coach_has_a_session_to_write_up_today_one_later_and_a_shared_entry(app, runner, db):
    from telehealth.services.accounts import accounts

    coach, day = _demo_day(runner)
    held = [s for s in day.today if s.status == "Held"]
    ahead = [s for s in day.today if s.status in ("Upcoming", "Room open")]
    assert len(held) == 1 and held[0].note.code == "to_write" and held[0].appointment.ends_at <= now()
    assert len(ahead) == 1 and ahead[0].appointment.starts_at > now()
    patient = accounts.find_by_email("patient.treatment@demo.telehealth")
    assert held[0].appointment.patient_id == ahead[0].appointment.patient_id == patient.id
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"email": coach.email, "password": "demo-password-2026"})
    assert r.status_code == 200
    page = text_of(client.get(f"/coach/patients/{patient.id}", headers=BROWSER))
    assert "I could name it and breathe with it" in page and "not ready to share" not in page
    # a second seed the same day books nothing more
    _, again = _demo_day(runner)
    assert [s.appointment.id for s in again.today] == [s.appointment.id for s in day.today]


@pytest.mark.parametrize("local", ["23:50", "00:10"])
def test_the_demo_coach_day_late_at_night_and_just_after_midnight(app, runner, db, local):
    """The sessions still fit the coach's day when the seed runs at the edges of it (no overlap)."""
    import time_machine
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    hour, minute = map(int, local.split(":"))
    moment = datetime.combine(datetime(2026, 3, 4).date(), time(hour, minute), ZoneInfo(CHICAGO))
    with time_machine.travel(moment, tick=False):
        _, day = _demo_day(runner)
        assert any(s.appointment.starts_at > now() for s in day.today + day.ahead)
        assert any(s.note.code == "to_write" for s in day.today + day.to_write)
