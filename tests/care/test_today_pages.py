"""The physician's Today page and alert list with Flask's test client: the four sections in order,
an alert's age and what happened since it was raised (texts, readings, check-ins, pages, who
acknowledged it and later alerts), acknowledging and a second acknowledgement refused naming who
was first, the SLA and "Join" words, who may open the pages, and a statement count that does not
grow with the number of rows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import (
    AlertStatus, Appointment, AppointmentStatus, CareAssignment, CareRole, ClinicalAlert, CreditBalance, CreditKind,
)
from telehealth.models.home_care.home_sessions import (
    BloodPressureReading, BpBand, BpSource, CheckIn, CheckInKind, CheckInStatus, HomeSession, SessionStatus,
)
from telehealth.models.messaging.messaging import InboundMessage
from telehealth.models.platform.alerts import AlertPage
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, ReviewStatus
from telehealth.pages import ago, due_words, sla_words
from tests import sessions_support
from tests.pages_support import BROWSER, csrf_token, text_of
from tests.sessions_support import encounter, login, ready

clock = sessions_support.clock  # time stands still at START (Monday 2 March 2026, 10:00 in New York)


@pytest.fixture
def doctor(create_user):
    return create_user("physician", states=["NY"], display_name="Dr. Maya Adams")


def _patient(db, create_user, doctor, first="Jesse", last="Prescribe"):
    patient = create_user("patient", legal_first_name=first, legal_last_name=last)
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=doctor.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    return patient


def _alert(db, patient, *, minutes_ago=12, kind="crisis", urgency="urgent", summary="Crisis language in a text."):
    alert = ClinicalAlert(kind=kind, urgency=urgency, recipient="on_call_physician", patient_id=patient.id,
                          summary=summary, created_at=now() - timedelta(minutes=minutes_ago))
    db.session.add(alert)
    db.session.commit()
    return alert


def _text(db, patient, body, minutes_ago):
    db.session.add(InboundMessage(message_sid=f"SM{patient.id}x{minutes_ago}x{len(body)}", from_phone="+12125550100",
                                  body=body, user_id=patient.id, handled_as="reply",
                                  received_at=now() - timedelta(minutes=minutes_ago)))
    db.session.commit()


def _screening(db, patient=None, *, hours_ago=2, urgent=False):
    submitted = now() - timedelta(hours=hours_ago)
    row = Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                     patient_id=patient.id if patient else None, answers={}, submitted_at=submitted,
                     outcome="needs_review", reasons=[], review_status=ReviewStatus.PENDING, urgent=urgent,
                     review_due_at=submitted + timedelta(hours=24), state_of_residence="NY")
    db.session.add(row)
    db.session.commit()
    return row


def _appointment(db, patient, doctor, starts_at, type_="follow_up", status=AppointmentStatus.BOOKED):
    row = Appointment(patient_id=patient.id, provider_id=doctor.id, appointment_type=type_, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=20), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=20), status=status, credit_kind=type_,
                      video_room=f"today-{patient.id}-{starts_at.timestamp():.0f}")
    db.session.add(row)
    db.session.commit()
    return row


def _page(client, url="/today"):
    r = client.get(url, headers=BROWSER)
    assert r.status_code == 200, r.status_code
    return r


# --------------------------------------------------------------------------- words


def test_time_words_say_age_time_left_and_due():
    at = now()
    assert ago(at - timedelta(seconds=30), at) == "just now"
    assert ago(at - timedelta(minutes=12, seconds=40), at) == "12 min ago"
    assert ago(at - timedelta(hours=3, minutes=5), at) == "3 h 5 min ago"
    assert ago(at - timedelta(days=4), at) == "4 days ago"
    assert sla_words(5 * 3600 + 12 * 60 + 30) == "5 h 12 min left"
    assert sla_words(-20 * 60) == "overdue by 20 min"
    assert sla_words(45) == "less than a minute left"
    assert due_words(at - timedelta(days=3), at) == "due 3 days ago"
    assert due_words(at + timedelta(hours=2), at) == "due in 2 h"


# --------------------------------------------------------------------------- the page


def test_today_shows_alerts_first_then_reviews_appointments_and_the_work_list(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    _alert(db, patient, minutes_ago=12)
    _screening(db, create_user("patient", legal_first_name="Riley", legal_last_name="Review"), hours_ago=18,
               urgent=True)
    _appointment(db, patient, doctor, now() + timedelta(hours=3))
    encounter(db, patient, doctor, now() - timedelta(days=40))
    db.session.commit()
    text = text_of(_page(login(app, doctor)))
    order = [text.index(h) for h in ("Alerts", "Screenings to review", "Appointments today", "Work list",
                                     "Keyboard shortcuts")]
    assert order == sorted(order)
    assert "Urgent Crisis Jesse Prescribe" in text and "Raised 12 min ago" in text
    assert "Riley Review" in text and "6 h left" in text and "Needs review" in text
    assert "Physician follow-up" in text and "Video opens at 12:50 PM" in text
    # the work list says why: an unacknowledged alert, and a follow-up booked within the week
    assert "Unacknowledged alert" in text and "Follow-up booked soon" in text and "due in 3 h" in text
    assert "1 open alert" in text and "1 screening to review" in text and "1 appointment today" in text


def test_the_alert_says_what_happened_since_it_was_raised(app, db, create_user, clock):
    setup = ready(db, create_user)
    patient, doctor = setup.patient, setup.physician
    other = create_user("physician", display_name="Dr. Samuel Brooks")
    _text(db, patient, "I have been thinking about ending it", 30)  # before the alert: not "since"
    alert = _alert(db, patient, minutes_ago=25)
    db.session.add(AlertPage(alert_id=alert.id, round=0, user_id=other.id, phone_e164="+12125550172",
                             reason="on_call", paged_at=alert.created_at))
    _text(db, patient, "I'm safe now, my sister is with me.", 10)
    db.session.add(BloodPressureReading(patient_id=patient.id, systolic=128, diastolic=82, band=BpBand.GO,
                                        source=BpSource.SMS, taken_at=now() - timedelta(minutes=8)))
    session = HomeSession(patient_id=patient.id, prescription_id=setup.prescription.id, number=1, scheduled_for=now(),
                          sitter_name="S", sitter_phone="+12125550199", status=SessionStatus.SCHEDULED)
    session.check_ins.append(CheckIn(kind=CheckInKind.POST, due_at=now() - timedelta(minutes=6),
                                     status=CheckInStatus.ANSWERED, answered_at=now() - timedelta(minutes=5),
                                     answers={"mood": 6, "graded": [{"name": "nausea", "grade": "mild"}]}))
    db.session.add(session)
    later = _alert(db, patient, minutes_ago=3, kind="side_effect_text", urgency="routine", summary="Texted nausea.")
    later.status, later.acknowledged_at, later.acknowledged_by = AlertStatus.ACKNOWLEDGED, now(), other.id
    db.session.commit()

    text = text_of(_page(login(app, doctor)))
    card = text[text.index("Raised 25 min ago"):text.index("Screenings to review")]
    assert "Paged Dr. Samuel Brooks (on call)" in card
    assert "The patient texted: “I'm safe now, my sister is with me.”" in card or \
        "The patient texted: I'm safe now, my sister is with me." in card
    assert "ending it" not in card  # the text that came before the alert is not "since"
    assert "Blood pressure 128/82 (go)" in card
    assert "Answered the after-session check-in (mood 6 of 10; side effects: nausea)" in card
    assert "A new routine alert: side effect texted, acknowledged by Dr. Samuel Brooks" in card
    assert "Dr. Samuel Brooks acknowledged the side effect texted alert" in card
    assert "Nothing from the patient since" not in card
    # in the order it happened
    assert card.index("Paged") < card.index("I'm safe") < card.index("128/82") < card.index("check-in")


def test_an_alert_with_nothing_since_says_so(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    _alert(db, patient, minutes_ago=40)
    text = text_of(_page(login(app, doctor)))
    assert "Raised 40 min ago" in text
    assert "Nothing from the patient since: no text, reading or check-in." in text
    assert "Nobody has acknowledged it yet." in text


def test_acknowledge_then_a_second_physician_is_told_who_was_first(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    alert = _alert(db, patient)
    client = login(app, doctor)
    token = csrf_token(client, "/today")
    r = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "next": "/alerts"},
                    headers=BROWSER)
    assert r.status_code == 302 and r.headers["Location"] == "/alerts"  # back where the physician was
    db.session.expire_all()
    row = db.session.get(ClinicalAlert, alert.id)
    assert row.status is AlertStatus.ACKNOWLEDGED and row.acknowledged_by == doctor.id
    text = text_of(client.get("/alerts?status=acknowledged", headers=BROWSER))
    assert "Acknowledged: the crisis alert is yours." in text
    assert "Acknowledged by you, just now" in text

    # another physician (nobody is on call: every physician sees urgent alerts) tries too
    brooks = create_user("physician", display_name="Dr. Samuel Brooks")
    second = login(app, brooks)
    token = csrf_token(second, "/today")
    r = second.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "next": "https://evil.example/"},
                    headers=BROWSER)
    assert r.status_code == 302 and r.headers["Location"] == "/today"  # never another site
    text = text_of(second.get("/today", headers=BROWSER))
    assert "This alert was already acknowledged by Dr. Maya Adams at Mar 2, 10:00 AM EST." in text
    db.session.expire_all()
    assert db.session.get(ClinicalAlert, alert.id).acknowledged_by == doctor.id  # who and when kept


def test_the_api_refusal_names_who_acknowledged_first(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    alert = _alert(db, patient)
    assert login(app, doctor).post(f"/api/v1/alerts/{alert.id}/acknowledge").status_code == 200
    r = login(app, doctor).post(f"/api/v1/alerts/{alert.id}/acknowledge")
    assert r.status_code == 409
    assert r.get_json()["error"]["message"] == "This alert was already acknowledged by you at Mar 2, 10:00 AM EST."


def test_the_alert_list_pages_open_and_acknowledged_alerts(app, db, create_user, clock, doctor, monkeypatch):
    from telehealth.services.care import today

    monkeypatch.setattr(today, "ALERTS_PER_PAGE", 2)
    patient = _patient(db, create_user, doctor)
    alerts = [_alert(db, patient, minutes_ago=50 - i, summary=f"Alert number {i}.") for i in range(3)]
    done = _alert(db, patient, minutes_ago=5, summary="Already handled.")
    done.status, done.acknowledged_at, done.acknowledged_by = AlertStatus.ACKNOWLEDGED, now(), doctor.id
    db.session.commit()
    client = login(app, doctor)
    r = _page(client, "/alerts")
    text = text_of(r)
    assert "Alert number 2." in text and "Alert number 1." in text and "Alert number 0." not in text
    assert "Already handled." not in text
    html = r.get_data(as_text=True)
    assert f"/alerts?before_id={alerts[1].id}" in html
    text = text_of(_page(client, f"/alerts?before_id={alerts[1].id}"))
    assert "Alert number 0." in text and "Alert number 1." not in text
    text = text_of(_page(client, "/alerts?status=acknowledged"))
    assert "Already handled." in text and "Alert number" not in text
    assert _page(client, "/alerts?before_id=abc").status_code == 200  # a hand-edited address: the first page


def test_join_shows_only_once_the_video_room_is_open(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    soon = _appointment(db, patient, doctor, now() + timedelta(minutes=30))
    client = login(app, doctor)
    text = text_of(_page(client))
    assert "Video opens at 10:20 AM" in text and "Join" not in text.replace("Join the", "")
    clock.shift(timedelta(minutes=25))  # the room opens 10 minutes before
    r = _page(client)
    text = text_of(r)
    assert "Video opens at" not in text
    if "consult_pages.room" in app.view_functions:  # the consult room's page: "Join" links to it
        assert "Join the video with Jesse Prescribe" in text
        assert f'href="/consults/{soon.id}' in r.get_data(as_text=True) or f"{soon.id}" in r.get_data(as_text=True)
    else:
        assert "Video open now" in text
    clock.shift(timedelta(hours=2))
    text = text_of(_page(client))
    assert "Video closed" in text and "Video open now" not in text and "Join the video" not in text


def test_tomorrow_and_cancelled_appointments_are_not_today(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    _appointment(db, patient, doctor, now() + timedelta(days=1))
    _appointment(db, patient, doctor, now() + timedelta(hours=1), status=AppointmentStatus.CANCELLED)
    text = text_of(_page(login(app, doctor)))
    assert "No appointments today." in text and "0 appointments today" in text


def test_sla_countdown_is_rendered_with_its_deadline_and_overdue_words(app, db, create_user, clock, doctor):
    late = _screening(db, create_user("patient", legal_first_name="Olive", legal_last_name="Late"), hours_ago=24.5)
    r = _page(login(app, doctor))
    text, html = text_of(r), r.get_data(as_text=True)
    assert "overdue by 30 min" in text
    assert f'datetime="{late.review_due_at.isoformat()}" data-sla data-seconds-left="-1800"' in html
    assert "js/today_clock.js" in html and "js/list_shortcuts.js" in html


def test_work_list_rows_say_why_and_are_paged(app, db, create_user, clock, doctor, monkeypatch):
    from telehealth.services.care import today

    monkeypatch.setattr(today, "WORK_PER_PAGE", 2)
    for i in range(3):
        patient = _patient(db, create_user, doctor, first="Work", last=f"Item{i}")
        encounter(db, patient, doctor, now() - timedelta(days=29 + i))
        db.session.merge(CreditBalance(patient_id=patient.id, kind=CreditKind.FOLLOW_UP, balance=1))
    db.session.commit()
    client = login(app, doctor)
    text = text_of(_page(client))
    assert "Follow-up due (credit unused)" in text and "Page 1 of 2" in text
    assert text.count("Work Item") == 2
    text = text_of(_page(client, "/today?work=2"))
    assert text.count("Work Item") == 1 and "Page 2 of 2" in text
    assert _page(client, "/today?work=zz&reviews=-1").status_code == 200


@pytest.mark.parametrize("role", ["patient", "coach", "ops", "admin"])
def test_other_roles_are_refused_in_words(app, db, create_user, role):
    user = create_user(role)
    client = login(app, user)
    for url in ("/today", "/alerts"):
        r = client.get(url, headers=BROWSER)
        assert r.status_code == 403 and "not part of your account" in text_of(r), (role, url)
    token = csrf_token(client, "/no-such-page")
    r = client.post("/alerts/1/acknowledge", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 403


def test_a_physician_signs_in_to_today(app, db, client, doctor):
    from tests.conftest import PASSWORD

    token = csrf_token(client, "/login")
    r = client.post("/login", data={"csrf_token": token, "email": doctor.email, "password": PASSWORD},
                    headers=BROWSER)
    assert r.status_code == 302 and r.headers["Location"].endswith("/today")


def test_an_alert_of_another_physicians_patient_cannot_be_acknowledged(app, db, create_user, clock, doctor):
    other = create_user("physician")
    patient = _patient(db, create_user, other)
    alert = _alert(db, patient, kind="bp_no_go", urgency="routine", summary="A no-go reading.")
    client = login(app, doctor)
    assert "A no-go reading." not in text_of(_page(client))
    r = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf_token(client, "/today")},
                    headers=BROWSER)
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(ClinicalAlert, alert.id).acknowledged_at is None


# --------------------------------------------------------------------------- statements


def _fill(db, create_user, doctor, n: int) -> None:
    for i in range(n):
        patient = _patient(db, create_user, doctor, first="Count", last=f"Patient{i}")
        alert = _alert(db, patient, minutes_ago=30 + i)
        db.session.add(AlertPage(alert_id=alert.id, round=0, user_id=doctor.id, phone_e164="+12125550100",
                                 reason="on_call", paged_at=alert.created_at))
        _text(db, patient, f"reply {i}", 5)
        db.session.add(BloodPressureReading(patient_id=patient.id, systolic=120, diastolic=80, band=BpBand.GO,
                                            source=BpSource.SMS, taken_at=now() - timedelta(minutes=4)))
        _screening(db, patient, hours_ago=1 + i)
        _appointment(db, patient, doctor, now() + timedelta(minutes=40 * i + 30))
        encounter(db, patient, doctor, now() - timedelta(days=45))
    db.session.commit()


def test_the_today_page_costs_the_same_statements_for_2_or_10_of_everything(app, db, create_user, clock,
                                                                            count_queries):
    counts, statements = [], []
    for n in (2, 10):
        doctor = create_user("physician", states=["NY"])
        _fill(db, create_user, doctor, n)
        client = login(app, doctor)
        client.get("/today", headers=BROWSER)  # warm: the session row, the policy
        with count_queries() as counter:
            r = client.get("/today", headers=BROWSER)
        assert r.status_code == 200
        text = text_of(r)
        assert text.count("Count Patient") >= 3 * n  # alerts, reviews and appointments: every row shown
        counts.append(counter.count)
        statements.append(counter.statements)
        for alert in db.session.scalars(select(ClinicalAlert)):  # the next round starts with no open alert
            alert.status, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, now()
        for row in db.session.scalars(select(Assessment)):
            row.review_status = ReviewStatus.APPROVED
        db.session.commit()
    import difflib
    assert counts[0] == counts[1], "\n".join(difflib.unified_diff(
        [x[:150] for x in statements[0]], [x[:150] for x in statements[1]], lineterm=""))


def test_the_alert_list_costs_the_same_statements_for_2_or_10_alerts(app, db, create_user, clock, count_queries):
    counts = []
    for n in (2, 10):
        doctor = create_user("physician", states=["NY"])
        _fill(db, create_user, doctor, n)
        client = login(app, doctor)
        client.get("/alerts", headers=BROWSER)
        with count_queries() as counter:
            r = client.get("/alerts", headers=BROWSER)
        assert text_of(r).count("Count Patient") >= n
        counts.append(counter.count)
        for alert in db.session.scalars(select(ClinicalAlert)):
            alert.status, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, now()
        db.session.commit()
    assert counts[0] == counts[1], counts


def test_urgent_alerts_come_before_newer_routine_ones(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    _alert(db, patient, minutes_ago=50, summary="The older urgent one.")
    _alert(db, patient, minutes_ago=2, kind="bp_no_go", urgency="routine", summary="The newer routine one.")
    text = text_of(_page(login(app, doctor)))
    assert text.index("The older urgent one.") < text.index("The newer routine one.")
    assert "Routine Blood pressure: no-go Jesse Prescribe" in text
