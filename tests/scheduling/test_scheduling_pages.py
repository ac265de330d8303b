"""The patient's scheduling pages with Flask's test client: slots by day in the patient's zone,
booking and its refusals in words (nothing written), the double-booking race, cancelling inside and
outside the cutoff (the terms stated first), moving, the .ics file, the video room's states, and
who may open what."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth.models import Appointment, AppointmentStatus, Assessment, AssessmentStatus, CreditKind, ReviewStatus
from telehealth.services.billing import ledger
from telehealth.services.scheduling import scheduling
from tests.conftest import PASSWORD, _make_user
from tests.pages_support import submit, text_of

UTC = timezone.utc
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)  # Sunday; New York moves to daylight time on 8 March
MONDAY_10_NY = datetime(2026, 3, 9, 14, tzinfo=UTC)  # 10:00 AM EDT, 7:00 AM PDT
_SLOT = re.compile(r'name="slot" value="([^"]+)"')


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _approve(db, patient):
    db.session.add(Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                              patient_id=patient.id, answers={}, submitted_at=NOW, outcome="likely_candidate",
                              reasons=[], review_status=ReviewStatus.APPROVED, review_due_at=NOW))
    db.session.commit()


def _patient(db, *, consults=2, approved=True, **fields):
    patient = _make_user(db, "patient", **fields)
    if approved:
        _approve(db, patient)
    if consults:
        ledger.grant(patient.id, CreditKind.CONSULT, consults, key=f"test:consult:{patient.id}")
    db.session.commit()
    return patient


def _sign_in(app, user):
    browser = app.test_client()
    r = browser.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200
    return browser


@pytest.fixture
def doctor(db, clock):
    """Licensed in NY; in New York: weekdays 9 to 12, and Tuesday 0:30 to 1:30 (still Monday evening
    in California)."""
    doctor = _make_user(db, "physician", time_zone="America/New_York", states=["NY"], display_name="Dr. Ada Brooks")
    scheduling.set_weekly_windows(doctor, [(d, time(9), time(12)) for d in range(5)] + [(1, time(0, 30), time(1, 30))])
    return doctor


@pytest.fixture
def patient(db, clock):
    """A patient in California (NY resident, so the NY-licensed doctor may see them), two consult credits."""
    return _patient(db, time_zone="America/Los_Angeles")


@pytest.fixture
def browser(app, patient):
    return _sign_in(app, patient)


def _slots(response) -> list[str]:
    return _SLOT.findall(response.get_data(as_text=True))


def _value(provider, moment: datetime) -> str:
    return f"{provider.id}|{moment.isoformat()}"


def _book(browser, provider, moment, type_="consult"):
    return submit(browser, "/appointments/book", {"type": type_, "slot": _value(provider, moment)},
                  token_from=f"/appointments/book?type={type_}")


def _fresh(db, appointment_id: int) -> Appointment:
    db.session.expire_all()  # the pages changed it through their own sessions
    return db.session.get(Appointment, appointment_id)


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


def _booked(db, patient, provider, moment, type_="consult") -> Appointment:
    return scheduling.book(patient, type_, provider.id, moment)


# ------------------------------------------------------------------ who may open what


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for path in ("/appointments", "/appointments/book", "/appointments/1", "/appointments/1/room",
                 "/appointments/1/cancel", "/appointments/1/reschedule", "/appointments/1/calendar.ics"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"] == f"/login?next={path}", path


def test_another_patients_appointment_is_not_found_anywhere(app, db, doctor, patient, browser):
    theirs = _booked(db, patient, doctor, MONDAY_10_NY)
    stranger = _sign_in(app, _patient(db))
    for path in ("", "/room", "/cancel", "/reschedule", "/calendar.ics"):
        assert stranger.get(f"/appointments/{theirs.id}{path}").status_code == 404, path
    r = submit(stranger, f"/appointments/{theirs.id}/cancel", {}, token_from="/appointments")
    assert r.status_code == 404
    r = submit(stranger, f"/appointments/{theirs.id}/room/token", {}, token_from="/appointments")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert db.session.get(Appointment, theirs.id).status is AppointmentStatus.BOOKED


def test_staff_are_refused_the_patients_pages(app, db, doctor):
    r = _sign_in(app, doctor).get("/appointments/book")
    assert r.status_code == 403 and "not part of your account" in text_of(r)


# ------------------------------------------------------------------ choosing a type and a slot


def test_the_first_step_offers_what_the_patient_can_book_and_says_why_not_the_rest(app, db, clock):
    patient = _patient(db, consults=0, approved=False)
    ledger.grant(patient.id, CreditKind.COACHING_30, 1, key="t:c30")
    db.session.commit()
    text = text_of(_sign_in(app, patient).get("/appointments/book"))
    assert "Step 1 of 2" in text and "Integration coaching, 30 minutes 30 minutes by video · 1 credit left" in text
    assert "Initial physician consult: A physician must approve your screening before you book a consult." in text
    assert "Integration coaching, 60 minutes: You have no credit left for this" in text


def test_an_unknown_type_asks_again(browser):
    r = browser.get("/appointments/book?type=massage")
    assert r.status_code == 422 and "Choose the kind of appointment." in text_of(r) and "Step 1 of 2" in text_of(r)


def test_slots_are_grouped_by_day_in_the_patients_own_zone(doctor, browser):
    r = browser.get("/appointments/book?type=consult&start=2026-03-09")
    assert r.status_code == 200
    text = text_of(r)
    assert "Step 2 of 2" in text and "America/Los Angeles" in text
    # the week's days in California: Monday has the 9-12 New York hours (6-9 AM here) and the
    # Tuesday 0:30 New York hour, which is still Monday evening here
    assert "Mon Mar 9 8 times" in text and "Tue Mar 10 6 times" in text and "Sat Mar 14 no times" in text
    assert "Free times on Monday, March 9" in text and "With Dr. Ada Brooks" in text
    times = re.findall(r"(\d{1,2}:\d\d [AP]M) with Dr. Ada Brooks", text)
    assert times == ["6:00 AM", "6:30 AM", "7:00 AM", "7:30 AM", "8:00 AM", "8:30 AM", "9:30 PM", "10:00 PM"]
    assert _slots(r)[0] == _value(doctor, MONDAY_10_NY - timedelta(hours=1))
    # another day of the week is one link away, and the first day with times is chosen by default
    tuesday = browser.get("/appointments/book?type=consult&start=2026-03-09&day=2026-03-10")
    assert "Free times on Tuesday, March 10" in text_of(tuesday)
    default = browser.get("/appointments/book?type=consult")
    assert "Free times on Monday, March 2" in text_of(default)  # the earliest day past the 12-hour notice
    assert "Earlier days" not in text_of(default) and "Later days" in text_of(default)


def test_booking_a_slot_uses_a_credit_and_shows_the_appointment(db, doctor, patient, browser):
    r = _book(browser, doctor, MONDAY_10_NY)
    assert r.status_code == 302
    page = browser.get(r.headers["Location"])
    text = text_of(page)
    assert "Your appointment is booked." in text and "Mon, Mar 9, 7:00 AM PDT" in text and "Dr. Ada Brooks" in text
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 1
    listing = text_of(browser.get("/appointments"))
    assert "Coming up" in listing and "Initial physician consult" in listing and "Mon, Mar 9, 7:00 AM PDT" in listing
    assert "Add to calendar" in listing and "Move to another time" in listing


@pytest.mark.parametrize("case", ["no_credit", "not_approved", "no_slot", "unoffered"])
def test_booking_refusals_are_said_in_words_and_write_nothing(app, db, doctor, clock, case):
    patient = _patient(db, consults=0 if case == "no_credit" else 1, approved=case != "not_approved")
    browser = _sign_in(app, patient)
    data = {"type": "consult", "slot": _value(doctor, MONDAY_10_NY)}
    if case == "no_slot":
        data.pop("slot")
    if case == "unoffered":  # Saturday: outside the doctor's hours
        data["slot"] = _value(doctor, datetime(2026, 3, 7, 15, tzinfo=UTC))
    r = submit(browser, "/appointments/book", data, token_from="/appointments")
    text = text_of(r)
    expected = {"no_credit": (409, "Not enough consult credits are left for this."),
                "not_approved": (409, "A physician must approve your screening before you book a consult."),
                "no_slot": (422, "Choose one of the times to go on."),
                "unoffered": (409, "This time is not available with this provider; choose another slot.")}[case]
    assert r.status_code == expected[0] and expected[1] in text
    assert _count(db) == 0
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == (0 if case == "no_credit" else 1)


def test_two_patients_one_slot_the_second_is_told_it_was_just_taken(app, db, doctor, clock):
    first, second = _patient(db), _patient(db)
    pages = [_sign_in(app, p) for p in (first, second)]
    wanted = _value(doctor, MONDAY_10_NY)
    for page in pages:  # both see the time offered
        assert wanted in _slots(page.get("/appointments/book?type=consult&start=2026-03-09"))
    assert _book(pages[0], doctor, MONDAY_10_NY).status_code == 302
    r = _book(pages[1], doctor, MONDAY_10_NY)
    assert r.status_code == 409
    text = text_of(r)
    assert "That time was just taken, pick another." in text
    assert wanted not in _slots(r) and _slots(r)  # the fresh times, to pick another from
    assert _count(db) == 1 and ledger.balances(second.id)[CreditKind.CONSULT] == 2


def test_coaching_is_booked_with_coaching_credits(app, db, clock):
    coach = _make_user(db, "coach", time_zone="America/Chicago", display_name="Jordan Lee")
    scheduling.set_weekly_windows(coach, [(d, time(9), time(12)) for d in range(5)])
    patient = _patient(db, consults=0)
    ledger.grant(patient.id, CreditKind.COACHING_30, 1, key="t:c30")
    db.session.commit()
    browser = _sign_in(app, patient)
    page = browser.get("/appointments/book?type=coaching_30&start=2026-03-09")
    assert "With Jordan Lee" in text_of(page) and "10:00 AM with Jordan Lee" in text_of(page)  # 9 in Chicago
    r = _book(browser, coach, MONDAY_10_NY + timedelta(minutes=60), type_="coaching_30")  # 10:00 in Chicago
    assert r.status_code == 302
    assert ledger.balances(patient.id)[CreditKind.COACHING_30] == 0
    r = _book(browser, coach, MONDAY_10_NY + timedelta(minutes=120), type_="coaching_30")
    assert r.status_code == 409 and "no credit left" in text_of(r).lower()


# ------------------------------------------------------------------ cancelling and moving


def test_cancelling_outside_the_cutoff_states_the_credit_comes_back(db, doctor, patient, browser):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    page = browser.get(f"/appointments/{booked.id}/cancel")
    text = text_of(page)
    assert "What happens if you cancel" in text and "its credit comes back to your account" in text
    assert "until Sun, Mar 8, 7:00 AM PDT" in text and "Yes, cancel it" in text
    r = submit(browser, f"/appointments/{booked.id}/cancel", {})
    assert r.status_code == 302 and r.headers["Location"] == "/appointments"
    assert "Its credit is back in your account" in text_of(browser.get("/appointments"))
    assert _fresh(db, booked.id).status is AppointmentStatus.CANCELLED
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 2


def test_cancelling_inside_the_cutoff_states_the_credit_is_used(app, db, doctor, patient, clock):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    clock.move_to(MONDAY_10_NY - timedelta(hours=20))
    browser = _sign_in(app, patient)
    text = text_of(browser.get(f"/appointments/{booked.id}/cancel"))
    assert "It starts in less than 24 hours. If you cancel now, its credit is used and does not come back." in text
    assert "Cancel it and use the credit" in text and "Move to another time" not in text
    r = submit(browser, f"/appointments/{booked.id}/cancel", {"accept_late": "true"})
    assert r.status_code == 302
    assert "its credit was used" in text_of(browser.get("/appointments"))
    assert _fresh(db, booked.id).late_cancellation is True
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 1


def test_a_confirmation_left_open_past_the_cutoff_is_refused_with_the_new_terms(app, db, doctor, patient, clock):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    browser = _sign_in(app, patient)
    token_page = f"/appointments/{booked.id}/cancel"  # opened in time: no accept_late in its form
    assert "credit comes back" in text_of(browser.get(token_page))
    clock.move_to(MONDAY_10_NY - timedelta(hours=2))
    browser = _sign_in(app, patient)
    r = submit(browser, token_page, {})
    assert r.status_code == 409
    text = text_of(r)
    assert "cancelling uses the credit" in text and "its credit is used and does not come back" in text
    assert _fresh(db, booked.id).status is AppointmentStatus.BOOKED


def test_rescheduling_moves_the_appointment_and_its_credit(db, doctor, patient, browser):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    page = browser.get(f"/appointments/{booked.id}/reschedule?start=2026-03-09&day=2026-03-10")
    assert "Move this appointment" in text_of(page) and "Free times on Tuesday, March 10" in text_of(page)
    tuesday = MONDAY_10_NY + timedelta(days=1)
    r = submit(browser, f"/appointments/{booked.id}/reschedule", {"slot": _value(doctor, tuesday)})
    assert r.status_code == 302
    text = text_of(browser.get(r.headers["Location"]))
    assert "Your appointment has moved" in text and "Tue, Mar 10, 7:00 AM PDT" in text
    assert _fresh(db, booked.id).status is AppointmentStatus.CANCELLED
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 1
    listing = text_of(browser.get("/appointments"))
    assert "Moved to another time" in listing


def test_rescheduling_inside_the_cutoff_is_refused_in_words(app, db, doctor, patient, clock):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    clock.move_to(MONDAY_10_NY - timedelta(hours=20))
    browser = _sign_in(app, patient)
    page = browser.get(f"/appointments/{booked.id}/reschedule")
    assert "Appointments can be moved until 24 hours before they start; cancel instead." in text_of(page)
    assert not _slots(page)
    r = submit(browser, f"/appointments/{booked.id}/reschedule", {"slot": _value(doctor, MONDAY_10_NY + timedelta(days=1))})
    assert r.status_code == 409 and _count(db) == 1


def test_the_calendar_file_downloads(db, doctor, patient, browser):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    r = browser.get(f"/appointments/{booked.id}/calendar.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert r.headers["Content-Disposition"] == f'attachment; filename="appointment-{booked.id}.ics"'
    body = r.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "DTSTART:20260309T140000Z" in body and "Video appointment" in body


# ------------------------------------------------------------------ the video room


def test_the_room_is_too_early_then_open_then_over(app, db, doctor, patient, clock):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    url = f"/appointments/{booked.id}/room"
    clock.move_to(MONDAY_10_NY - timedelta(minutes=11))
    browser = _sign_in(app, patient)
    r = browser.get(url)
    text = text_of(r)
    assert r.status_code == 200 and "Too early: the room opens at 6:50 AM" in text
    assert "twilio-video" not in r.get_data(as_text=True)
    token = submit(browser, f"{url}/token", {}, token_from=url)
    assert token.status_code == 409 and token.get_json()["error"]["code"] == "video_not_open"

    clock.move_to(MONDAY_10_NY - timedelta(minutes=9))
    browser = _sign_in(app, patient)
    r = browser.get(url)
    html = r.get_data(as_text=True)
    assert 'data-token-url="/appointments/' in html and "/assets/vendor/twilio-video.min.js" in html
    policy = r.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://*.twilio.com wss://*.twilio.com" in policy and "media-src 'self' blob:" in policy
    assert "twilio" not in browser.get("/appointments").headers["Content-Security-Policy"]
    token = submit(browser, f"{url}/token", {}, token_from=url)
    assert token.status_code == 200 and token.get_json()["room"] == booked.video_room and token.get_json()["token"]
    assert "Join the video" in text_of(browser.get("/appointments"))

    clock.move_to(booked.ends_at + timedelta(minutes=31))
    browser = _sign_in(app, patient)
    text = text_of(browser.get(url))
    assert "This appointment has ended" in text and "Connecting" not in text
    assert "Past and cancelled" in text_of(browser.get("/appointments"))


def test_the_token_route_needs_the_csrf_token(db, doctor, patient, browser):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    assert browser.post(f"/appointments/{booked.id}/room/token").status_code == 400


def test_a_cancelled_appointments_room_says_so(db, doctor, patient, browser):
    booked = _booked(db, patient, doctor, MONDAY_10_NY)
    scheduling.cancel(patient, booked.id)
    text = text_of(browser.get(f"/appointments/{booked.id}/room"))
    assert "This appointment was cancelled, so its video room will not open." in text
