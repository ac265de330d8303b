"""The provider's visit page with Flask's test client: the video room for the appointment's own
physician or coach only (others get the 403 page in words), too early and over in words, the
encounter recorded from times typed in the provider's zone and refused in words (nothing written)
when they do not fit, the no-show, and what the page offers once it is recorded."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
import time_machine

from telehealth.models import Appointment, AppointmentStatus, CreditKind
from telehealth.services.billing import ledger
from telehealth.services.scheduling import scheduling
from tests.conftest import PASSWORD, _make_user
from tests.pages_support import BROWSER, submit, text_of
from tests.scheduling.test_scheduling_pages import _approve

UTC = timezone.utc
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MONDAY_10_NY = datetime(2026, 3, 9, 14, tzinfo=UTC)  # 10:00 AM EDT


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def doctor(db, clock):
    doctor = _make_user(db, "physician", time_zone="America/New_York", states=["NY"], display_name="Dr. Ada Brooks")
    scheduling.set_weekly_windows(doctor, [(d, time(9), time(12)) for d in range(5)])
    return doctor


@pytest.fixture
def patient(db, clock):
    patient = _make_user(db, "patient", legal_first_name="Jesse", legal_last_name="Visit")
    _approve(db, patient)
    ledger.grant(patient.id, CreditKind.CONSULT, 1, key=f"test:consult:{patient.id}")
    ledger.grant(patient.id, CreditKind.COACHING_30, 1, key=f"test:coaching:{patient.id}")
    db.session.commit()
    return patient


@pytest.fixture
def consult(db, doctor, patient):
    return scheduling.book(patient, "consult", doctor.id, MONDAY_10_NY)


def _sign_in(app, user):
    browser = app.test_client()
    r = browser.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200
    return browser


def _fresh(db, appointment_id: int) -> Appointment:
    db.session.expire_all()
    return db.session.get(Appointment, appointment_id)


def test_the_room_is_for_the_appointments_provider_only(app, db, clock, doctor, patient, consult, create_user):
    clock.move_to(MONDAY_10_NY + timedelta(minutes=5))
    url = f"/visits/{consult.id}"
    r = _sign_in(app, doctor).get(url, headers=BROWSER)
    html, text = r.get_data(as_text=True), text_of(r)
    assert r.status_code == 200 and "Video visit with Jesse Visit" in text
    assert f'data-token-url="/visits/{consult.id}/token"' in html and "/assets/vendor/twilio-video.min.js" in html
    assert "https://*.twilio.com" in r.headers["Content-Security-Policy"]
    assert "Jesse" not in html.split("<title>")[1].split("</title>")[0]  # no name in the title
    # the physician reaches the patient's chart from the visit, before the encounter is recorded too
    assert 'id="chart-link"' in html and f'href="/patients/{patient.id}"' in html
    browser = _sign_in(app, doctor)
    token = submit(browser, f"{url}/token", {}, token_from=url)
    assert token.status_code == 200 and token.get_json()["room"] == consult.video_room

    for other in (create_user("physician", states=["NY"]), create_user("coach"), patient):
        r = _sign_in(app, other).get(url, headers=BROWSER)
        assert r.status_code == 403 and r.mimetype == "text/html", other.role
        assert "twilio" not in r.get_data(as_text=True)
    other = create_user("physician", states=["NY"])
    browser = _sign_in(app, other)
    refused = submit(browser, f"{url}/encounter", {"started_at": "2026-03-09T10:01", "ended_at": "2026-03-09T10:20"},
                     token_from=url, headers=BROWSER)
    assert refused.status_code == 403 and _fresh(db, consult.id).status is AppointmentStatus.BOOKED


def test_too_early_and_over_are_said_in_words(app, clock, doctor, consult):
    clock.move_to(MONDAY_10_NY - timedelta(minutes=11))
    text = text_of(_sign_in(app, doctor).get(f"/visits/{consult.id}"))
    assert "Too early: the room opens at 9:50 AM" in text and "Record the encounter" not in text
    assert "Once the visit has started" in text
    clock.move_to(consult.ends_at + timedelta(minutes=31))
    text = text_of(_sign_in(app, doctor).get(f"/visits/{consult.id}"))
    assert "This appointment has ended" in text and "Record the encounter" in text  # it can still be recorded


def test_recording_the_encounter_from_local_times_then_links_to_prescribe(app, db, clock, doctor, patient, consult):
    clock.move_to(MONDAY_10_NY + timedelta(minutes=35))
    browser = _sign_in(app, doctor)
    url = f"/visits/{consult.id}"
    page = text_of(browser.get(url))
    assert "Record the encounter" in page and "Modality Video" in page and "Mark as a no-show" in page
    r = submit(browser, f"{url}/encounter", {"started_at": "2026-03-09T10:01", "ended_at": "2026-03-09T10:28",
                                             "notes": "Candidate; sitter plan discussed."})
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    held = _fresh(db, consult.id)
    assert held.status is AppointmentStatus.COMPLETED and held.encounter_modality == "video"
    assert held.encounter_started_at == MONDAY_10_NY + timedelta(minutes=1)  # 10:01 in New York (EDT)
    assert held.encounter_ended_at == MONDAY_10_NY + timedelta(minutes=28)
    done = browser.get(url)
    text = text_of(done)
    assert "The encounter is recorded." in text and "Recorded: held by video" in text and "10:28 AM" in text
    assert f'href="/patients/{patient.id}/prescribe"' in done.get_data(as_text=True)
    assert "Mark as a no-show" not in text


@pytest.mark.parametrize("fields, field, words", [
    ({"started_at": "2026-03-09T10:20", "ended_at": "2026-03-09T10:10"}, "ended_at", "After the start, and not in the future"),
    ({"started_at": "2026-03-09T09:00", "ended_at": "2026-03-09T10:10"}, "started_at", "Not before the video room opened (9:"),
    ({"started_at": "2026-03-09T10:01", "ended_at": "2026-03-09T11:30"}, "ended_at", "not in the future"),
    ({"started_at": "yesterday", "ended_at": "2026-03-09T10:10"}, "started_at", ""),
    ({"started_at": "", "ended_at": ""}, "started_at", ""),
])
def test_times_that_do_not_fit_are_refused_in_words_and_nothing_is_written(app, db, clock, doctor, consult,
                                                                          fields, field, words):
    clock.move_to(MONDAY_10_NY + timedelta(minutes=35))
    browser = _sign_in(app, doctor)
    url = f"/visits/{consult.id}"
    r = submit(browser, f"{url}/encounter", {**fields, "notes": "typed"})
    html, text = r.get_data(as_text=True), text_of(r)
    assert r.status_code == 422
    assert f'href="#field-{field}"' in html and 'aria-invalid="true"' in html
    assert words in text
    assert 'value="' + fields["started_at"] + '"' in html and ">typed</textarea>" in html  # kept as typed
    assert _fresh(db, consult.id).status is AppointmentStatus.BOOKED


def test_a_no_show_before_the_start_is_refused_then_marked_once_started(app, db, clock, doctor, consult):
    clock.move_to(MONDAY_10_NY - timedelta(minutes=5))
    browser = _sign_in(app, doctor)
    url = f"/visits/{consult.id}"
    r = submit(browser, f"{url}/no-show", {})
    assert r.status_code == 409 and "A no-show can be marked once the appointment has started." in text_of(r)
    assert _fresh(db, consult.id).status is AppointmentStatus.BOOKED
    clock.move_to(MONDAY_10_NY + timedelta(minutes=15))
    browser = _sign_in(app, doctor)
    r = submit(browser, f"{url}/no-show", {})
    assert r.status_code == 302 and _fresh(db, consult.id).status is AppointmentStatus.NO_SHOW
    text = text_of(browser.get(url))
    assert "Marked as a no-show: the patient did not come." in text and "Record the encounter" not in text


def test_a_coachs_room_records_the_session_and_offers_no_prescribing(app, db, clock, patient):
    coach = _make_user(db, "coach", time_zone="America/New_York", display_name="Jordan Lee")
    scheduling.set_weekly_windows(coach, [(d, time(9), time(12)) for d in range(5)])
    session = scheduling.book(patient, "coaching_30", coach.id, MONDAY_10_NY)
    clock.move_to(MONDAY_10_NY + timedelta(minutes=40))
    browser = _sign_in(app, coach)
    url = f"/visits/{session.id}"
    opened = browser.get(url)
    text = text_of(opened)
    assert "Record the session" in text
    # a coach reads the display name, as on every other coach page, never the legal name; no chart link
    assert f"Video visit with {patient.display_name}" in text and "Jesse" not in text
    assert 'id="chart-link"' not in opened.get_data(as_text=True)
    r = submit(browser, f"{url}/encounter", {"started_at": "2026-03-09T10:00", "ended_at": "2026-03-09T10:30"})
    assert r.status_code == 302
    page = browser.get(url)
    assert "Recorded: held by video" in text_of(page) and "/prescribe" not in page.get_data(as_text=True)
    if "coach_pages.note" in app.view_functions:
        assert f"/{session.id}" in page.get_data(as_text=True) and "Write the session note" in text_of(page)
