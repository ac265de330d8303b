"""The at-home session pages with Flask's test client: planning a session, the checklist of every gate
with the service's reason (and its htmx partial), the blood pressure refused in words with nothing
stored, the sitter, the check-ins before, after and the next day, a start refused with its reasons and
then allowed, and who may see what."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import AdverseEvent, BloodPressureReading, ClinicalAlert, HomeSession, TreatmentPause
from telehealth.models.home_care.home_sessions import BpBand
from telehealth.services.home_care import home_sessions as hs
from telehealth.services.home_care.session_gates import evaluate_gates
from telehealth.sessions import BACKGROUND_HEADER
from tests import sessions_support
from tests.pages_support import submit
from tests.pages_support import text_of as _text_of
from tests.sessions_support import START, ready

clock = sessions_support.clock  # time stands at START (Monday 10:00 in New York) until moved

WHEN = "2026-03-02T11:00"  # an hour after START, in the patient's zone (New York)
SITTER = {"scheduled_for": WHEN, "sitter_name": "Sam Sitter", "sitter_phone": "(212) 555-0123"}


def text_of(response) -> str:
    """The visible words, with entities read as a person reads them ("physician's")."""
    return html.unescape(_text_of(response))


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _planned(client, data=None) -> int:
    r = submit(client, "/sessions/new", data or SITTER)
    assert r.status_code == 302, text_of(r)
    match = re.fullmatch(r"/sessions/(\d+)", r.headers["Location"])
    assert match, r.headers["Location"]
    return int(match.group(1))


@pytest.fixture
def patient(db, create_user, auth, clock):
    ctx = ready(db, create_user)
    assert auth.login(ctx.patient).status_code == 200
    return ctx


def _prepared(client, sid: int) -> None:
    """Sitter confirmed, a reading in range, the check-in before answered."""
    url = f"/sessions/{sid}"
    assert submit(client, f"{url}/sitter", {"confirmed": "yes"}, token_from=url).status_code == 302
    assert submit(client, f"{url}/blood-pressure", {"systolic": "124", "diastolic": "78"},
                  token_from=url).status_code == 302
    assert submit(client, f"{url}/check-ins/pre", {"mood": "6"}, token_from=url).status_code == 302


# ----------------------------------------------------------------------------- who may see what


@pytest.mark.parametrize("path", ["/sessions", "/sessions/new", "/sessions/1", "/sessions/1/checklist"])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, path):
    r = client.get(path)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")


def test_an_htmx_poll_after_sign_in_ended_sends_the_whole_page_to_sign_in(client, db):
    r = client.get("/sessions/7/checklist", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/login?next=/sessions/7"


def test_staff_are_refused(client, db, auth):
    auth.as_role("coach")
    assert client.get("/sessions").status_code == 403


def test_another_patients_session_is_not_found_and_nothing_is_written(client, db, create_user, auth, clock):
    mine = ready(db, create_user)
    theirs = hs.schedule_session(mine.patient, START + timedelta(hours=1), "Sam", "+12125550123")
    auth.as_role("patient")
    for path in (f"/sessions/{theirs.id}", f"/sessions/{theirs.id}/checklist"):
        assert client.get(path, headers={"HX-Request": "true"}).status_code == 404
    r = submit(client, f"/sessions/{theirs.id}/blood-pressure", {"systolic": "120", "diastolic": "80"},
               token_from="/sessions")
    assert r.status_code == 404 and "There is no page" not in text_of(r)
    r = submit(client, f"/sessions/{theirs.id}/start", {}, token_from="/sessions")
    assert r.status_code == 404
    assert _count(db, BloodPressureReading) == 0
    assert db.session.get(HomeSession, theirs.id).status.value == "scheduled"


# ----------------------------------------------------------------------------- planning


def test_a_patient_without_a_prescription_is_told_why_before_any_form(client, db, auth):
    auth.as_role("patient")
    for path in ("/sessions", "/sessions/new"):
        page = text_of(client.get(path))
        assert "There is no active prescription to schedule a session under." in page
    assert 'name="sitter_name"' not in client.get("/sessions/new").get_data(as_text=True)


def test_planning_reads_the_time_in_the_patients_zone(client, db, patient):
    page = text_of(client.get("/sessions"))
    assert "Plan a session" in page and "No session is planned." in page
    sid = _planned(client)
    session = db.session.get(HomeSession, sid)
    assert session.scheduled_for == START + timedelta(hours=1)  # 11:00 in New York is 16:00 UTC
    assert (session.sitter_name, session.sitter_phone) == ("Sam Sitter", "+12125550123")
    page = text_of(client.get(f"/sessions/{sid}"))
    assert "Session 1 is planned for Mon, Mar 2, 11:00 AM EST" in page  # the flash, in the patient's zone
    assert "Planned for Mon, Mar 2, 11:00 AM EST" in page and "UTC" not in page
    listing = text_of(client.get("/sessions"))
    assert "Session 1 Mon, Mar 2, 11:00 AM EST Planned" in listing


@pytest.mark.parametrize("change,field,message", [
    ({"scheduled_for": "2026-03-02T09:00"}, "scheduled_for", "Date and time: Must be in the future."),
    ({"scheduled_for": "next tuesday"}, "scheduled_for", "Give a date and a time"),
    ({"scheduled_for": "2026-03-08T02:30"}, "scheduled_for", "a time that exists on that day"),  # clocks skip it
    ({"scheduled_for": ""}, "scheduled_for", "This field is required."),
    ({"scheduled_for": "9999-12-31T23:59"}, "scheduled_for", "Give a date and a time"),  # past UTC's last year
    ({"sitter_phone": "12"}, "sitter_phone", "phone"),
    ({"sitter_name": ""}, "sitter_name", "Their name: This field is required."),
])
def test_planning_refusals_are_in_words_next_to_the_field_and_nothing_is_written(client, db, patient, change,
                                                                               field, message):
    r = submit(client, "/sessions/new", SITTER | change)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert f'id="field-{field}-error"' in body and 'aria-invalid="true"' in body
    assert message in text_of(r)
    assert _count(db, HomeSession) == 0


def test_sessions_too_close_together_are_refused_with_the_policys_interval(client, db, patient):
    _planned(client)
    r = submit(client, "/sessions/new", SITTER | {"scheduled_for": "2026-03-03T11:00"})
    assert r.status_code == 422 and "At least 72 hours from your other sessions." in text_of(r)
    assert _count(db, HomeSession) == 1


def test_the_last_sitter_is_offered_again(client, db, patient):
    _planned(client)
    body = client.get("/sessions/new").get_data(as_text=True)
    assert 'value="Sam Sitter"' in body and 'value="+12125550123"' in body


# ----------------------------------------------------------------------------- the checklist


def test_the_checklist_lists_every_gate_with_the_services_reason(client, db, patient):
    sid = _planned(client)
    session = db.session.get(HomeSession, sid)
    gates = evaluate_gates(patient.patient, session, now())
    page = text_of(client.get(f"/sessions/{sid}"))
    for gate in gates:
        assert gate.reason in page, gate.id
    assert "Not yet Sitter with you Confirm that your sitter" in page
    assert "Not yet Blood pressure Take your blood pressure and record it" in page
    assert page.index("Not yet Blood pressure") < page.index("Ready Prescription")  # what is to do comes first
    assert "Ready Medication delivered Your medication for this session has been delivered." in page
    assert f"{len(gates) - 2} of {len(gates)} checks are ready. Not yet: Sitter with you; Blood pressure." in page
    body = client.get(f"/sessions/{sid}").get_data(as_text=True)
    assert f'href="/sessions/{sid}">Refresh</a>' in body  # without JavaScript
    assert f'hx-get="/sessions/{sid}/checklist"' in body and 'hx-trigger="every 10s"' in body


def test_the_checklist_partial_for_htmx(client, db, patient):
    sid = _planned(client)
    url = f"/sessions/{sid}/checklist"
    assert client.get(url).headers["Location"] == f"/sessions/{sid}"  # opened by hand: the page
    r = client.get(url, headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and 'id="gate-checklist"' in body
    assert 'hx-swap-oob="innerHTML"' in body and "Not yet: Sitter with you; Blood pressure." in body
    version = re.search(r'"X-Checklist-Version": "([0-9a-f]+)"', body).group(1)
    assert f'"{BACKGROUND_HEADER}": "1"' in body
    # nothing changed: nothing to swap
    assert client.get(url, headers={"HX-Request": "true", "X-Checklist-Version": version}).status_code == 204
    submit(client, f"/sessions/{sid}/sitter", {"confirmed": "yes"}, token_from=f"/sessions/{sid}")
    r = client.get(url, headers={"HX-Request": "true", "X-Checklist-Version": version})
    assert r.status_code == 200 and "Not yet: Blood pressure." in text_of(r)
    assert "Ready Sitter with you Your sitter has confirmed" in text_of(r)
    # once it has started, the page reloads itself into the session screen
    _prepared(client, sid)
    submit(client, f"/sessions/{sid}/start", {}, token_from=f"/sessions/{sid}")
    r = client.get(url, headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Refresh"] == "true"


def test_the_checklists_poll_does_not_keep_the_sign_in_alive(app, client, db, patient, clock, monkeypatch):
    monkeypatch.setitem(app.config, "PATIENT_IDLE_TIMEOUT_MINUTES", 15)
    sid = _planned(client)
    poll = {"HX-Request": "true", BACKGROUND_HEADER: "1"}
    for _ in range(4):  # 14 minutes of polling with nobody touching the page
        clock.shift(timedelta(minutes=3, seconds=30))
        assert client.get(f"/sessions/{sid}/checklist", headers=poll).status_code == 200
    clock.shift(timedelta(minutes=1, seconds=30))
    r = client.get(f"/sessions/{sid}/checklist", headers=poll)
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/login?next=")
    assert client.get(f"/sessions/{sid}").headers["Location"].startswith("/login")


# ----------------------------------------------------------------------------- blood pressure and sitter


@pytest.mark.parametrize("reading,field,message", [
    ({"systolic": "400", "diastolic": "80"}, "systolic", "Enter 300 or less."),
    ({"systolic": "80", "diastolic": "120"}, "systolic", "check the two are not swapped"),
    ({"systolic": "120", "diastolic": ""}, "diastolic", "This field is required."),
    ({"systolic": "12o", "diastolic": "80"}, "systolic", "Enter a whole number, in digits"),
])
def test_a_reading_that_is_not_one_is_refused_in_words_and_nothing_is_stored(client, db, patient, reading, field,
                                                                            message):
    sid = _planned(client)
    r = submit(client, f"/sessions/{sid}/blood-pressure", reading, token_from=f"/sessions/{sid}")
    assert r.status_code == 422
    assert f'id="field-{field}-error"' in r.get_data(as_text=True) and message in text_of(r)
    assert _count(db, BloodPressureReading) == 0 and _count(db, ClinicalAlert) == 0


def test_the_bands_are_stated_before_a_reading_and_a_high_one_says_what_to_do(client, db, patient):
    sid = _planned(client)
    url = f"/sessions/{sid}"
    page = text_of(client.get(url))
    assert "Top number under 140 and bottom number under 90: in range" in page
    assert "Top number 140 to 179, or bottom number 90 to 119: too high for a session today" in page
    assert "Top number 180 or more, or bottom number 120 or more: very high" in page
    r = submit(client, f"{url}/blood-pressure", {"systolic": "152", "diastolic": "94"}, token_from=url)
    assert r.status_code == 302
    page = text_of(client.get(url))
    assert f"Reading 152/94 saved. {hs.BP_ADVICE[BpBand.NO_GO]}" in page
    assert "Your last reading: 152/94, at 10:00 AM." in page
    assert "Not yet Blood pressure A blood-pressure reading today was too high: no session today." in page
    assert _count(db, BloodPressureReading) == 1  # a real reading is kept, and the physician told
    r = submit(client, f"{url}/blood-pressure", {"systolic": "185", "diastolic": "100"}, token_from=url)
    body = client.get(url).get_data(as_text=True)
    assert 'class="notice notice-error" role="alert"' in body and "Seek urgent care now: call 911" in body


def test_the_sitter_must_be_confirmed_by_ticking_and_may_be_someone_else(client, db, patient):
    sid = _planned(client)
    url = f"/sessions/{sid}"
    r = submit(client, f"{url}/sitter", {}, token_from=url)
    assert r.status_code == 422 and "Tick this box once your sitter is with you." in text_of(r)
    assert db.session.get(HomeSession, sid).sitter_confirmed_at is None
    r = submit(client, f"{url}/sitter", {"confirmed": "yes", "name": "Alex Friend", "phone": "12"}, token_from=url)
    assert r.status_code == 422 and 'id="sitter-phone-error"' in r.get_data(as_text=True)
    assert db.session.get(HomeSession, sid).sitter_name == "Sam Sitter"
    r = submit(client, f"{url}/sitter", {"confirmed": "yes", "name": "Alex Friend", "phone": "+1 212 555 0199"},
               token_from=url)
    assert r.status_code == 302
    db.session.expire_all()
    session = db.session.get(HomeSession, sid)
    assert (session.sitter_name, session.sitter_phone) == ("Alex Friend", "+12125550199")
    assert session.sitter_confirmed_at == START
    assert "Alex Friend, +12125550199" in text_of(client.get(url))


# ----------------------------------------------------------------------------- start, the session, check-ins


def test_start_is_refused_with_every_reason_then_allowed(client, db, patient):
    sid = _planned(client)
    url = f"/sessions/{sid}"
    r = submit(client, f"{url}/start", {}, token_from=url)
    assert r.status_code == 409
    page = text_of(r)
    assert "The session cannot start yet. Not ready: Sitter with you : Confirm that your sitter" in page
    assert "Blood pressure : Take your blood pressure and record it" in page
    assert db.session.get(HomeSession, sid).status.value == "scheduled"
    _prepared(client, sid)
    page = text_of(client.get(url))
    assert "All 11 checks are ready: you can start your session." in page
    assert "Check-in before your session Answered Mon, Mar 2, 10:00 AM EST" in page and "6 out of 10" in page
    r = submit(client, f"{url}/start", {}, token_from=url)
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(HomeSession, sid).status.value == "started"
    page = text_of(client.get(url))
    assert "Your session is under way" in page and "Started at 10:00 AM ." in page and "0 minutes so far" in page
    assert "No driving until tomorrow" in page and "Call 911" in page and "Text HOME to 741741" in page
    assert "I'm done" in page
    assert 'data-elapsed-seconds="0"' in client.get(url).get_data(as_text=True)


def test_the_check_ins_after_and_the_next_day(client, db, patient, clock):
    sid = _planned(client)
    url = f"/sessions/{sid}"
    _prepared(client, sid)
    submit(client, f"{url}/start", {}, token_from=url)
    clock.shift(timedelta(minutes=75))
    assert "1 hour 15 minutes so far" in text_of(client.get(url))
    assert submit(client, f"{url}/complete", {}, token_from=url).status_code == 302
    page = text_of(client.get(url))
    assert "Session 1 is done" in page and "No driving until tomorrow" in page
    assert "Check-in after your session" in page and "From Tue, Mar 3, 10:00 AM EST , the day after your session" in page
    r = submit(client, f"{url}/check-ins/post", {"side_effects": ["nausea"]}, token_from=url)
    assert r.status_code == 422 and 'id="post-mood-error"' in r.get_data(as_text=True)
    assert 'value="nausea" checked' in r.get_data(as_text=True)  # what was ticked stays ticked
    r = submit(client, f"{url}/check-ins/post", {"mood": "7", "side_effects": ["nausea", "headache"]},
               token_from=url)
    assert r.status_code == 302
    page = text_of(client.get(url))
    assert "Thank you for checking in." in page
    assert "Mood 7 out of 10 Side effects Nausea or feeling sick, Headache" in page
    # the next day, the next-day check-in is asked
    clock.shift(timedelta(hours=23))
    page = text_of(client.get(url))
    assert "How well did you sleep last night?" in page and "No driving until tomorrow" not in page
    assert "Waiting for your answer: Next-day check-in." in text_of(client.get("/sessions"))
    r = submit(client, f"{url}/check-ins/next_day", {"mood": "8"}, token_from=url)
    assert r.status_code == 422 and 'id="next_day-sleep_quality-error"' in r.get_data(as_text=True)
    r = submit(client, f"{url}/check-ins/next_day", {"mood": "8", "sleep_quality": "6"}, token_from=url)
    assert r.status_code == 302
    page = text_of(client.get(url))
    assert "Mood 8 out of 10 Sleep 6 out of 10 Side effects None" in page
    answers = {c.kind.value: c.answers for c in db.session.get(HomeSession, sid).check_ins}
    assert answers["next_day"]["sleep_quality"] == 6 and answers["post"]["side_effects"] == ["nausea", "headache"]


def test_a_serious_side_effect_says_call_911_and_crisis_words_show_the_lines(client, db, patient, clock):
    sid = _planned(client)
    url = f"/sessions/{sid}"
    _prepared(client, sid)
    submit(client, f"{url}/start", {}, token_from=url)
    r = submit(client, f"{url}/check-ins/post", {"mood": "3", "side_effects_other": "some bleeding"}, token_from=url)
    assert r.status_code == 302
    body = html.unescape(client.get(url).get_data(as_text=True))
    assert f'role="alert">{hs.SERIOUS_ADVICE}' in body
    assert "Session 1 was stopped early" in text_of(client.get(url))
    assert _count(db, AdverseEvent) == 1 and _count(db, TreatmentPause) == 1
    r = submit(client, f"{url}/check-ins/next_day",
               {"mood": "2", "sleep_quality": "2", "side_effects_other": "I want to die"}, token_from=url)
    assert r.status_code == 302
    page = text_of(client.get(url))
    assert "Reach someone now" in page and "Call 988" in page and "Text HOME to 741741" in page
    assert hs.CRISIS_ADVICE in page


def test_cancelling_a_planned_session(client, db, patient):
    sid = _planned(client)
    r = submit(client, f"/sessions/{sid}/cancel", {}, token_from=f"/sessions/{sid}")
    assert r.status_code == 302 and r.headers["Location"] == "/sessions"
    assert "Session 1 is cancelled." in text_of(client.get("/sessions"))
    page = text_of(client.get(f"/sessions/{sid}"))
    assert "Session 1: cancelled" in page and "was cancelled" in page
    r = submit(client, f"/sessions/{sid}/cancel", {}, token_from="/sessions")
    assert r.status_code == 409 and "cannot become cancelled" in text_of(r)
