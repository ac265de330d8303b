"""Scheduling: availability across time zones and daylight saving, licensing, booking with credits,
cancellation, and no double booking under a rush."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from telehealth.models import (
    Appointment, Assessment, AssessmentStatus, CareAssignment, CareRole, CreditKind, Reminder, ReviewStatus,
)
from telehealth.services.billing import ledger
from telehealth.services.scheduling import scheduling
from tests.conftest import PASSWORD, _make_user, error_of

UTC = timezone.utc
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)  # a week before the US daylight-saving change (8 March 2026)


def _approve(db, patient):
    db.session.add(Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                              patient_id=patient.id, answers={}, submitted_at=NOW, outcome="likely_candidate",
                              reasons=[], review_status=ReviewStatus.APPROVED, review_due_at=NOW))
    db.session.commit()


def _provider(db, role, zone, windows, **kw):
    provider = _make_user(db, role, time_zone=zone, **kw)
    scheduling.set_weekly_windows(provider, windows)
    return provider


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(db, auth, clock):
    patient = auth.as_role("patient")
    _approve(db, patient)
    ledger.grant(patient.id, CreditKind.CONSULT, 3, key="test:consults")
    ledger.grant(patient.id, CreditKind.COACHING_30, 2, key="test:coaching")
    db.session.commit()
    return patient


def _slots(client, type_="consult", start="2026-03-07T00:00:00Z", end="2026-03-10T00:00:00Z", **extra):
    r = client.get("/api/v1/slots", query_string={"type": type_, "start": start, "end": end, **extra})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def test_slots_follow_each_providers_clock_across_daylight_saving(client, db, patient):
    sunday_night = [(6, time(1, 0), time(4, 0))]  # Sunday 01:00 to 04:00 on the provider's wall
    new_york = _provider(db, "physician", "America/New_York", sunday_night, states=["NY"])
    phoenix = _provider(db, "physician", "America/Phoenix", sunday_night, states=["NY"])
    by_provider = {}
    for slot in _slots(client):
        by_provider.setdefault(slot["provider_id"], []).append(slot["starts_at"])
    # 8 March in New York: 2am never happens, so the window is two real hours (4 half-hour slots);
    # Phoenix keeps standard time all year: three hours (6 slots).
    assert len(by_provider[new_york.id]) == 4 and len(by_provider[phoenix.id]) == 6
    local = [datetime.fromisoformat(s).astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
             for s in by_provider[new_york.id]]
    assert local == ["01:00", "01:30", "03:00", "03:30"]
    # times are shown in the patient's zone (New York): the change shows in the offsets
    assert by_provider[new_york.id][0].endswith("-05:00") and by_provider[new_york.id][-1].endswith("-04:00")


def test_only_physicians_licensed_in_the_patients_state_on_that_date_are_offered(client, db, patient, clock):
    weekdays = [(d, time(9), time(12)) for d in range(7)]
    licensed = _provider(db, "physician", "America/New_York", weekdays, states=["NY"])
    elsewhere = _provider(db, "physician", "America/New_York", weekdays, states=["CA"])
    expiring = _provider(db, "physician", "America/New_York", weekdays, states=["NY"],
                         license_expires=datetime(2026, 3, 8).date())
    offered = {(s["provider_id"], s["starts_at"][:10]) for s in _slots(client, start="2026-03-07T00:00:00Z",
                                                                        end="2026-03-11T00:00:00Z")}
    assert {p for p, _ in offered} == {licensed.id, expiring.id}
    assert max(day for p, day in offered if p == expiring.id) == "2026-03-08"  # none after the license ends
    slot = datetime(2026, 3, 9, 14, tzinfo=UTC)  # 10:00 in New York
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": elsewhere.id,
                                                  "starts_at": slot.isoformat()})
    assert r.status_code == 409 and error_of(r)["code"] == "slot_taken"
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_booking_debits_a_credit_and_sets_reminders(client, db, patient):
    doctor = _provider(db, "physician", "America/New_York", [(0, time(9), time(12))], states=["NY"])
    slot = _slots(client, provider_id=doctor.id, start="2026-03-09T00:00:00Z", end="2026-03-10T00:00:00Z")[0]
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                  "starts_at": slot["starts_at"]})
    assert r.status_code == 201, r.get_json()
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 2
    reminders = db.session.scalars(select(Reminder).order_by(Reminder.due_at)).all()
    starts = datetime.fromisoformat(slot["starts_at"])
    assert [(r.lead, r.due_at) for r in reminders] == [("24h", starts - timedelta(hours=24)),
                                                        ("1h", starts - timedelta(hours=1))]
    # the slot, and the ones its buffers touch, are no longer offered
    again = _slots(client, provider_id=doctor.id, start="2026-03-09T00:00:00Z", end="2026-03-10T00:00:00Z")
    assert slot["starts_at"] not in [s["starts_at"] for s in again]
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                  "starts_at": slot["starts_at"]})
    assert r.status_code == 409


def test_a_consult_needs_an_approved_screening_and_a_credit(client, db, auth, clock):
    doctor = _provider(db, "physician", "America/New_York", [(0, time(9), time(12))], states=["NY"])
    unapproved = auth.as_role("patient")
    slot = datetime(2026, 3, 9, 14, tzinfo=UTC).isoformat()
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id, "starts_at": slot})
    assert r.status_code == 409 and error_of(r)["code"] == "not_approved"
    _approve(db, unapproved)
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id, "starts_at": slot})
    assert r.status_code == 409 and error_of(r)["code"] == "insufficient_credits"
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_notice_and_horizon_bound_what_can_be_booked(client, db, patient):
    _provider(db, "physician", "America/New_York", [(d, time(0), time(23, 30)) for d in range(7)], states=["NY"])
    slots = [datetime.fromisoformat(s["starts_at"]) for s in
             _slots(client, start="2026-03-01T00:00:00Z", end="2026-05-01T00:00:00Z")]
    assert min(slots) >= NOW + timedelta(hours=12) and max(slots) <= NOW + timedelta(days=30)


def test_assigned_coach_comes_first(client, db, patient):
    weekdays = [(d, time(9), time(11)) for d in range(7)]
    other = _provider(db, "coach", "America/Chicago", weekdays)
    mine = _provider(db, "coach", "America/Denver", weekdays)
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=mine.id, care_role=CareRole.COACH))
    db.session.commit()
    items = _slots(client, type_="coaching_30")
    assert items[0]["provider_id"] == mine.id and items[0]["preferred"] is True
    assert {s["provider_id"] for s in items} == {mine.id, other.id}


def test_overlap_of_different_lengths_is_refused(client, db, patient):
    coach = _provider(db, "coach", "America/New_York", [(0, time(9), time(13))])
    ledger.grant(patient.id, CreditKind.COACHING_60, 1, key="test:c60")
    db.session.commit()
    ten = datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert client.post("/api/v1/appointments", json={"type": "coaching_60", "provider_id": coach.id,
                                                     "starts_at": ten.isoformat()}).status_code == 201
    for offset in (30, 60):  # inside the hour, or touching its buffer
        r = client.post("/api/v1/appointments", json={"type": "coaching_30", "provider_id": coach.id,
                                                      "starts_at": (ten + timedelta(minutes=offset)).isoformat()})
        assert r.status_code == 409, offset
    assert client.post("/api/v1/appointments", json={"type": "coaching_30", "provider_id": coach.id,
                                                     "starts_at": (ten + timedelta(minutes=90)).isoformat()}
                       ).status_code == 201


def test_cancel_in_time_returns_the_credit_late_keeps_it(client, db, patient, clock, app, create_user):
    doctor = _provider(db, "physician", "America/New_York", [(d, time(9), time(17)) for d in range(7)], states=["NY"])
    first = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                      "starts_at": "2026-03-05T14:00:00+00:00"}).get_json()
    second = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                       "starts_at": "2026-03-06T14:00:00+00:00"}).get_json()
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 1
    r = client.post(f"/api/v1/appointments/{first['id']}/cancel", json={})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 2
    assert {r.status for r in db.session.scalars(select(Reminder).where(Reminder.appointment_id == first["id"]))} == {
        "cancelled"}
    clock.move_to(datetime(2026, 3, 5, 20, tzinfo=UTC))  # 18 hours before the second
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = client.post(f"/api/v1/appointments/{second['id']}/cancel", json={})
    assert r.status_code == 409 and error_of(r)["code"] == "late_cancellation"
    r = client.post(f"/api/v1/appointments/{second['id']}/cancel", json={"accept_late": True})
    assert r.status_code == 200 and r.get_json()["late_cancellation"] is True
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 2  # the late one's credit stays used


def test_a_provider_cancelling_late_gives_the_credit_back(client, db, patient, clock, app):
    doctor = _provider(db, "physician", "America/New_York", [(d, time(9), time(17)) for d in range(7)], states=["NY"])
    appointment = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                            "starts_at": "2026-03-02T14:00:00+00:00"}).get_json()
    doctor_client = app.test_client()
    doctor_client.post("/api/v1/auth/login", json={"email": doctor.email, "password": PASSWORD})
    assert doctor_client.post(f"/api/v1/appointments/{appointment['id']}/cancel", json={}).status_code == 200
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 3
    stranger = app.test_client()
    other = _make_user(db, "patient")
    stranger.post("/api/v1/auth/login", json={"email": other.email, "password": PASSWORD})
    assert stranger.get(f"/api/v1/appointments/{appointment['id']}").status_code == 404


def _rush(app, live_server, committed, bookings):
    """Fire the bookings (type, minutes after 10:00) at one provider from one thread each."""
    import json

    from tests.conftest import post_concurrently

    patient = _make_user(committed, "patient")
    _approve(committed, patient)
    ledger.grant(patient.id, CreditKind.CONSULT, 60, key="rush:consult")
    ledger.grant(patient.id, CreditKind.COACHING_30, 60, key="rush:c30")
    ledger.grant(patient.id, CreditKind.COACHING_60, 60, key="rush:c60")
    committed.session.commit()
    coach = _make_user(committed, "coach")
    scheduling.set_weekly_windows(coach, [(d, time(0), time(23, 30)) for d in range(7)])
    login = app.test_client()
    login.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    cookie = f"{app.config['SESSION_COOKIE_NAME']}={login.get_cookie(app.config['SESSION_COOKIE_NAME']).value}"
    ten = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    bodies = [json.dumps({"type": type_, "provider_id": coach.id,
                          "starts_at": (ten + timedelta(minutes=minutes)).isoformat()}).encode()
              for type_, minutes in bookings]
    codes = [code for code, _ in post_concurrently(f"{live_server}/api/v1/appointments", bodies, {"Cookie": cookie})]
    return codes, patient.id


def test_fifty_requests_for_one_slot_book_it_once(app, live_server, committed):
    codes, patient_id = _rush(app, live_server, committed, [("coaching_30", 0)] * 50)
    assert codes.count(201) == 1 and codes.count(409) == 49, sorted(set(codes))
    assert committed.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert ledger.balances(patient_id)[CreditKind.COACHING_30] == 59


def test_overlapping_appointments_of_different_lengths_race(app, live_server, committed):
    codes, patient_id = _rush(app, live_server, committed,
                              [("coaching_60", 0)] * 10 + [("coaching_30", 30)] * 10 + [("coaching_30", 60)] * 10)
    assert codes.count(201) == 1 and codes.count(409) == 29, sorted(set(codes))
    booked = committed.session.scalars(select(Appointment)).all()
    assert len(booked) == 1


def _race_of_patients(app, live_server, committed, credits: list[int]) -> list[tuple[int, dict]]:
    """One booking of the same coaching slot by each of len(credits) patients at once (each holding
    that many coaching credits)."""
    import json

    from tests.conftest import post_concurrently

    coach = _make_user(committed, "coach")
    scheduling.set_weekly_windows(coach, [(d, time(0), time(23, 30)) for d in range(7)])
    cookies = []
    for n, count in enumerate(credits):
        patient = _make_user(committed, "patient")
        _approve(committed, patient)
        if count:
            ledger.grant(patient.id, CreditKind.COACHING_30, count, key=f"race:{n}")
        committed.session.commit()
        login = app.test_client()
        login.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
        name = app.config["SESSION_COOKIE_NAME"]
        cookies.append({"Cookie": f"{name}={login.get_cookie(name).value}"})
    ten = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    body = json.dumps({"type": "coaching_30", "provider_id": coach.id, "starts_at": ten.isoformat()}).encode()
    return post_concurrently(f"{live_server}/api/v1/appointments", [body] * len(credits), cookies)


def _codes(answers) -> list:
    return sorted((code, (body.get("error") or {}).get("code")) for code, body in answers)


def test_patients_without_credit_racing_for_a_slot_are_all_told_so_at_once(app, live_server, committed):
    import time as clock_time

    started = clock_time.monotonic()
    answers = _race_of_patients(app, live_server, committed, [0] * 10)
    assert _codes(answers) == [(409, "insufficient_credits")] * 10
    assert clock_time.monotonic() - started < 8  # no deadlock waits (a second each) on the slot
    assert committed.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_race_of_patients_with_and_without_credit_books_the_slot_once(app, live_server, committed):
    answers = _race_of_patients(app, live_server, committed, [0, 1] * 5)
    assert _codes(answers) == [(201, None)] + [(409, "insufficient_credits")] * 5 + [(409, "slot_taken")] * 4
    assert committed.session.scalar(select(func.count()).select_from(Appointment)) == 1


@pytest.fixture
def booked(client, db, patient):
    """A consult booked with a NY physician for Monday 9 March 2026, 10:00 in New York."""
    doctor = _provider(db, "physician", "America/New_York", [(d, time(9), time(17)) for d in range(7)], states=["NY"])
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                  "starts_at": "2026-03-09T14:00:00+00:00"})
    assert r.status_code == 201
    return doctor, r.get_json()


def _as(app, user):
    other = app.test_client()
    assert other.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    return other


def test_reschedule_moves_the_booking_its_credit_and_reminders(client, db, patient, booked):
    doctor, appointment = booked
    r = client.post(f"/api/v1/appointments/{appointment['id']}/reschedule",
                    json={"starts_at": "2026-03-10T15:00:00+00:00"})
    assert r.status_code == 201, r.get_json()
    moved = r.get_json()
    assert moved["id"] != appointment["id"] and moved["starts_at"].startswith("2026-03-10T11:00")
    assert client.get(f"/api/v1/appointments/{appointment['id']}").get_json()["status"] == "cancelled"
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 2  # one credit, now for the new time
    pending = db.session.scalars(select(Reminder).where(Reminder.status == "pending")).all()
    assert {r.appointment_id for r in pending} == {moved["id"]}
    # the old time is free again
    assert "2026-03-09T10:00:00-04:00" in [s["starts_at"] for s in _slots(client, provider_id=doctor.id)]
    # cancelling the moved appointment in time gives the credit back once
    client.post(f"/api/v1/appointments/{moved['id']}/cancel", json={})
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 3


def test_video_token_only_for_its_people_and_around_its_time(client, app, db, patient, booked, clock):
    import jwt as pyjwt  # PyJWT, installed with the twilio SDK

    doctor, appointment = booked
    url = f"/api/v1/appointments/{appointment['id']}/video-token"
    clock.move_to(datetime(2026, 3, 9, 13, 49, tzinfo=UTC))  # 11 minutes before
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = client.post(url, json={})
    assert r.status_code == 409 and error_of(r)["code"] == "video_not_open"
    clock.move_to(datetime(2026, 3, 9, 13, 51, tzinfo=UTC))
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    r = client.post(url, json={})
    assert r.status_code == 200
    claims = pyjwt.decode(r.get_json()["token"], app.config["TWILIO_API_KEY_SECRET"], algorithms=["HS256"])
    assert claims["grants"]["video"]["room"] == r.get_json()["room"]
    assert claims["grants"]["identity"] == f"user-{patient.id}"
    assert _as(app, doctor).post(url, json={}).status_code == 200
    assert _as(app, _make_user(db, "physician", states=["NY"])).post(url, json={}).status_code == 403
    assert _as(app, _make_user(db, "patient")).post(url, json={}).status_code == 404
    clock.move_to(datetime(2026, 3, 9, 15, 1, tzinfo=UTC))  # 31 minutes after the end
    assert _as(app, doctor).post(url, json={}).status_code == 409


def test_the_physician_records_the_encounter(client, app, db, patient, booked, clock):
    doctor, appointment = booked
    clock.move_to(datetime(2026, 3, 9, 14, 40, tzinfo=UTC))
    doc = _as(app, doctor)
    url = f"/api/v1/appointments/{appointment['id']}/complete"
    r = doc.post(url, json={"started_at": "2026-03-09T14:02:00+00:00", "ended_at": "2026-03-09T14:50:00+00:00"})
    assert r.status_code == 422  # not in the future
    r = _as(app, patient).post(url, json={"started_at": "2026-03-09T14:02:00+00:00",
                                          "ended_at": "2026-03-09T14:30:00+00:00"})
    assert r.status_code == 403  # not by the patient
    r = doc.post(url, json={"started_at": "2026-03-09T14:02:00+00:00", "ended_at": "2026-03-09T14:30:00+00:00",
                            "notes": "Discussed history; candidate."})
    assert r.status_code == 200 and r.get_json()["status"] == "completed"
    stored = db.session.get(Appointment, appointment["id"])
    assert stored.encounter_modality == "video" and stored.encounter_notes == "Discussed history; candidate."
    assert doc.post(url, json={"started_at": "2026-03-09T14:02:00+00:00",
                               "ended_at": "2026-03-09T14:30:00+00:00"}).status_code == 409


def test_no_show_is_marked_by_the_provider_after_the_start(client, app, db, patient, booked, clock):
    doctor, appointment = booked
    doc = _as(app, doctor)
    url = f"/api/v1/appointments/{appointment['id']}/no-show"
    assert doc.post(url, json={}).status_code == 409  # not started yet
    clock.move_to(datetime(2026, 3, 9, 14, 15, tzinfo=UTC))
    doc = _as(app, doctor)
    assert doc.post(url, json={}).get_json()["status"] == "no_show"
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 2  # a no-show uses the credit


def test_calendar_file_and_revocable_provider_feed(client, app, db, patient, booked):
    from icalendar import Calendar

    doctor, appointment = booked
    r = client.get(f"/api/v1/appointments/{appointment['id']}/calendar.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    [event] = Calendar.from_ical(r.data).walk("VEVENT")
    assert event["dtstart"].dt == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert "ketamine" not in r.get_data(as_text=True).lower()
    # each person's link opens their own page: the patient's appointment, the provider's visit
    assert str(event["description"]).endswith(f"/appointments/{appointment['id']}")
    doc = _as(app, doctor)
    [held] = Calendar.from_ical(doc.get(f"/api/v1/appointments/{appointment['id']}/calendar.ics").data).walk("VEVENT")
    assert str(held["description"]).endswith(f"/visits/{appointment['id']}")
    url = doc.post("/api/v1/me/calendar-feed", json={}).get_json()["url"]
    path = url.removeprefix(app.config["PUBLIC_BASE_URL"])
    feed = app.test_client().get(path)  # no login: the token is the secret
    assert feed.status_code == 200 and len(Calendar.from_ical(feed.data).walk("VEVENT")) == 1
    [fed] = Calendar.from_ical(feed.data).walk("VEVENT")
    assert str(fed["description"]).endswith(f"/visits/{appointment['id']}")  # not the patient's page (a 403)
    assert patient.patient_profile.legal_last_name not in feed.get_data(as_text=True)
    new_url = doc.post("/api/v1/me/calendar-feed", json={}).get_json()["url"]
    assert app.test_client().get(path).status_code == 404  # the old one stopped working
    assert doc.delete("/api/v1/me/calendar-feed").status_code == 204
    assert app.test_client().get(new_url.removeprefix(app.config["PUBLIC_BASE_URL"])).status_code == 404


def test_a_provider_cancellation_tells_the_patient(client, app, db, patient, booked):
    from telehealth.models import OutboxMail

    doctor, appointment = booked
    _as(app, doctor).post(f"/api/v1/appointments/{appointment['id']}/cancel", json={})
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "appointment_cancelled"))
    assert mail.to_address == patient.email


def test_a_reschedule_may_overlap_its_own_old_time(client, db, patient, booked):
    _, appointment = booked
    r = client.post(f"/api/v1/appointments/{appointment['id']}/reschedule",
                    json={"starts_at": "2026-03-09T14:30:00+00:00"})
    assert r.status_code == 201, r.get_json()


def test_cancelling_twice_or_after_the_start_is_a_409(client, app, db, patient, booked, clock):
    doctor, appointment = booked
    url = f"/api/v1/appointments/{appointment['id']}/cancel"
    assert client.post(url, json={}).status_code == 200
    again = client.post(url, json={})
    assert again.status_code == 409 and error_of(again)["message"] == "This appointment is already cancelled."
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 3  # restored once
    second = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                       "starts_at": "2026-03-09T16:00:00+00:00"}).get_json()
    clock.move_to(datetime(2026, 3, 9, 16, 5, tzinfo=UTC))
    r = _as(app, doctor).post(f"/api/v1/appointments/{second['id']}/cancel", json={})
    assert r.status_code == 409 and "no-show" in error_of(r)["message"]


@pytest.mark.parametrize("url, body, field", [
    ("/api/v1/me/availability", {"windows": [{"weekday": 0, "start_time": "09:00:00+02:00", "end_time": "12:00:00"}]},
     "windows.0.start_time"),
    ("/api/v1/me/availability/exceptions", {"day": "2026-03-09", "kind": "off", "start_time": "09:00:00Z",
                                            "end_time": "10:00:00"}, "start_time"),
])
def test_wall_times_with_an_offset_are_refused(client, auth, url, body, field):
    auth.as_role("physician")
    method = client.put if url.endswith("availability") else client.post
    r = method(url, json=body)
    assert r.status_code == 422 and field in error_of(r)["fields"]


@pytest.mark.parametrize("starts_at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"])
def test_absurd_dates_are_refused(client, db, patient, starts_at):
    r = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": 1, "starts_at": starts_at})
    assert r.status_code == 422 and "starts_at" in error_of(r)["fields"]
    r = client.get("/api/v1/slots", query_string={"type": "consult", "start": starts_at, "end": starts_at})
    assert r.status_code == 422


def _booked_coaching(app, committed, patient):
    """`patient` (committed) with one coaching credit booked 3 days ahead with a coach open all day:
    (coach, a logged-in test client, the appointment's start, the appointment as the API gave it)."""
    ledger.grant(patient.id, CreditKind.COACHING_30, 1, key=f"booked-coaching:{patient.id}")
    committed.session.commit()
    coach = _make_user(committed, "coach")
    scheduling.set_weekly_windows(coach, [(d, time(0), time(23, 30)) for d in range(7)])
    client = app.test_client()
    client.post("/api/v1/auth/login", json={"email": patient.email, "password": PASSWORD})
    base = (datetime.now(UTC) + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    first = client.post("/api/v1/appointments", json={"type": "coaching_30", "provider_id": coach.id,
                                                      "starts_at": base.isoformat()}).get_json()
    return coach, client, base, first


def test_two_reschedules_at_once_leave_one_appointment_and_one_credit(app, live_server, committed):
    import json

    from tests.conftest import post_concurrently

    patient = _make_user(committed, "patient")
    _approve(committed, patient)
    coach, client, base, first = _booked_coaching(app, committed, patient)
    cookie = f"{app.config['SESSION_COOKIE_NAME']}={client.get_cookie(app.config['SESSION_COOKIE_NAME']).value}"
    bodies = [json.dumps({"starts_at": (base + timedelta(hours=h)).isoformat()}).encode() for h in (2, 3, 4, 5)]
    codes = [code for code, _ in post_concurrently(f"{live_server}/api/v1/appointments/{first['id']}/reschedule",
                                                   bodies, {"Cookie": cookie})]
    assert sorted(codes) == [201, 409, 409, 409]
    live = committed.session.scalars(select(Appointment).where(Appointment.status == "booked")).all()
    assert len(live) == 1
    assert ledger.balances(patient.id)[CreditKind.COACHING_30] == 0
    assert client.post(f"/api/v1/appointments/{live[0].id}/cancel", json={}).status_code == 200
    assert ledger.balances(patient.id)[CreditKind.COACHING_30] == 1  # one purchase, one credit


def test_a_booking_that_deadlocks_is_tried_again_and_its_loser_gets_409(app, committed, is_postgres):
    """PostgreSQL may end a booking with `deadlock detected` while it checks the no-overlap
    constraint against another booking in flight. Here a second connection holds a booking of the
    time a reschedule wants, then waits for the appointment the reschedule holds: a real deadlock,
    found by the reschedule's backend (it waited first), on its first attempt and on its retry."""
    import threading
    import time as clock_time

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from telehealth.extensions import db as _db
    from tests.conftest import wait_until

    if not is_postgres:
        pytest.skip("deadlocks over the exclusion constraint are PostgreSQL's")
    patient, rival = _make_user(committed, "patient"), _make_user(committed, "patient")
    coach, client, base, first = _booked_coaching(app, committed, patient)
    wanted = base + timedelta(hours=2)
    buffer = timedelta(minutes=app.config["APPOINTMENT_BUFFER_MINUTES"])
    answers = []
    with _db.engine.connect() as other:
        transaction = other.begin()
        other.execute(text("SET LOCAL deadlock_timeout = '60s'"))  # this side never gives up first
        with Session(bind=other) as session:
            session.add(Appointment(patient_id=rival.id, provider_id=coach.id, appointment_type="coaching_30",
                                    starts_at=wanted, ends_at=wanted + timedelta(minutes=30),
                                    blocks_from=wanted - buffer, blocks_until=wanted + timedelta(minutes=30) + buffer,
                                    credit_kind="coaching_30", video_room="appt-rival-in-flight"))
            session.flush()
            mover = threading.Thread(target=lambda: answers.append(client.post(
                f"/api/v1/appointments/{first['id']}/reschedule", json={"starts_at": wanted.isoformat()})))
            mover.start()
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND pid <> :mine")
            mine = other.execute(text("SELECT pg_backend_pid()")).scalar()
            wait_until(lambda: committed.session.execute(waiting, {"mine": mine}).scalar() == 1)
            clock_time.sleep(0.2)
            # the rival now needs the appointment the reschedule has locked: each waits for the other
            other.execute(text("SELECT id FROM appointments WHERE id = :id FOR UPDATE"), {"id": first["id"]})
            transaction.commit()
    mover.join(timeout=30)
    [answer] = answers
    assert answer.status_code == 409, answer.get_json()
    assert error_of(answer)["code"] == "slot_taken"
    assert client.get(f"/api/v1/appointments/{first['id']}").get_json()["status"] == "booked"  # nothing moved
    booked = committed.session.scalars(select(Appointment).where(Appointment.starts_at == wanted)).all()
    assert [a.patient_id for a in booked] == [rival.id]
    assert ledger.balances(patient.id)[CreditKind.COACHING_30] == 0


def _appointment_audit(db, appointment_id):
    from telehealth.models import AuditEvent

    db.session.expire_all()
    return [(e.actor_id, e.action, e.resource_type) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.resource_id == str(appointment_id),
                                 AuditEvent.resource_type.in_(("appointment", "appointment_ics")),
                                 AuditEvent.action != "create").order_by(AuditEvent.id))]


def test_an_appointment_is_read_by_its_patient_and_provider_only_and_every_read_is_audited(
        client, app, db, patient, booked, create_user):
    """Minimum necessary: ops and admin have no logistics or account need for a patient's
    appointments (who sees which physician, when, is clinical-ish), so they are refused, and the
    refusal is audited like any other; so is a physician who is not the provider."""
    doctor, appointment = booked
    url = f"/api/v1/appointments/{appointment['id']}"
    assert client.get(url).status_code == 200
    assert client.get(f"{url}/calendar.ics").status_code == 200
    assert _as(app, doctor).get(url).status_code == 200
    assert _appointment_audit(db, appointment["id"]) == [
        (patient.id, "read", "appointment"), (patient.id, "read", "appointment_ics"),
        (doctor.id, "read", "appointment")]
    for role in ("ops", "admin", "physician", "coach"):
        staff = create_user(role)
        other = _as(app, staff)
        for path in (url, f"{url}/calendar.ics"):
            r = other.get(path)
            assert r.status_code == 403 and error_of(r)["code"] == "forbidden", (role, path)
        r = other.post(f"{url}/cancel", json={})
        assert r.status_code == 403, (role, r.get_json())
        assert _appointment_audit(db, appointment["id"])[-3:] == [(staff.id, "denied", "appointment")] * 3
    stranger = _as(app, create_user("patient"))
    assert stranger.get(url).status_code == 404  # another patient learns nothing, not even that it exists
    assert client.get(url).get_json()["status"] == "booked"


def test_my_appointments_list_is_audited_in_each_patients_trail(client, app, db, patient, booked):
    from telehealth.models import AuditEvent

    doctor, appointment = booked
    assert len(_as(app, doctor).get("/api/v1/me/appointments").get_json()["items"]) == 1
    db.session.expire_all()
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == doctor.id,
                                                        AuditEvent.action == "read")).all()
    assert [(e.resource_type, e.patient_id) for e in reads] == [("appointment_list", patient.id)]


# ------------------------------------------------------------------ the booked physician on the care team


def _physician_assignments(db, doctor, patient):
    db.session.expire_all()
    return [(a.via_booking, a.is_current) for a in db.session.scalars(select(CareAssignment).where(
        CareAssignment.staff_id == doctor.id, CareAssignment.patient_id == patient.id).order_by(CareAssignment.id))]


def test_the_booked_physician_reads_the_patient_and_after_the_consult_prescribes(client, app, db, patient, booked,
                                                                                 clock, totp):
    """No admin assignment: booking the consult puts its physician on the care team; holding it makes
    them the patient's physician for good (the prescription and what follows)."""
    from tests.pharmacy.test_prescriptions import TERMS

    doctor, appointment = booked
    doctor.physician_profile.dea_number = "AB1234563"
    doctor.physician_profile.dea_expires_on = NOW.date() + timedelta(days=365)
    db.session.commit()
    doc = _as(app, doctor)
    assert doc.get(f"/api/v1/patients/{patient.id}").status_code == 200
    assert _physician_assignments(db, doctor, patient) == [(True, True)]
    assert doc.get(f"/api/v1/patients/{patient.id}/prescriptions").status_code == 200
    clock.move_to(datetime(2026, 3, 9, 14, 40, tzinfo=UTC))
    doc = _as(app, doctor)
    r = doc.post(f"/api/v1/appointments/{appointment['id']}/complete", json={
        "started_at": "2026-03-09T14:01:00+00:00", "ended_at": "2026-03-09T14:28:00+00:00", "notes": "Held."})
    assert r.status_code == 200, r.get_json()
    assert _physician_assignments(db, doctor, patient) == [(False, True)]  # permanent now
    r = doc.post(f"/api/v1/patients/{patient.id}/prescriptions",
                 json={**TERMS, "second_factor_code": totp.code(doctor)})
    assert r.status_code == 201, r.get_json()
    # months later the sweep leaves the physician who held the consult where they are
    from telehealth.services.accounts import care_team

    clock.move_to(datetime(2026, 6, 1, tzinfo=UTC))
    assert care_team.end_lapsed_bookings() == 0
    assert _as(app, doctor).get(f"/api/v1/patients/{patient.id}/prescriptions").status_code == 200


def test_a_booked_physician_loses_access_when_the_booking_is_cancelled_or_its_window_passes(
        client, app, db, patient, booked, clock):
    from telehealth.policy import current_policy
    from telehealth.scheduler import JOBS, run_job
    from telehealth.services.accounts import care_team

    doctor, appointment = booked
    later = client.post("/api/v1/appointments", json={"type": "consult", "provider_id": doctor.id,
                                                      "starts_at": "2026-03-10T14:00:00+00:00"})
    assert later.status_code == 201, later.get_json()
    assert _physician_assignments(db, doctor, patient) == [(True, True)]  # one assignment for both bookings
    assert client.post(f"/api/v1/appointments/{later.get_json()['id']}/cancel", json={}).status_code == 200
    # the first one is never recorded: access lasts its window after it ends, to record it and prescribe
    window = timedelta(days=current_policy().booked_physician_access_days)
    clock.move_to(datetime(2026, 3, 9, 14, 30, tzinfo=UTC) + window - timedelta(minutes=1))
    assert _as(app, doctor).get(f"/api/v1/patients/{patient.id}").status_code == 200
    assert care_team.end_lapsed_bookings() == 0
    clock.move_to(datetime(2026, 3, 9, 14, 30, tzinfo=UTC) + window + timedelta(minutes=1))
    assert _as(app, doctor).get(f"/api/v1/patients/{patient.id}").status_code == 403  # at once, before the sweep
    [job] = [j for j in JOBS if j.name == "care_team_sweep"]
    assert run_job(app, job) == (True, 1)
    assert _physician_assignments(db, doctor, patient) == [(True, False)]


def test_a_cancelled_consult_gives_the_physician_nothing(client, app, db, patient, booked, clock):
    from telehealth.services.accounts import care_team

    doctor, appointment = booked
    assert client.post(f"/api/v1/appointments/{appointment['id']}/cancel", json={}).status_code == 200
    assert _as(app, doctor).get(f"/api/v1/patients/{patient.id}").status_code == 403
    assert care_team.end_lapsed_bookings() == 1


def test_the_encounter_must_overlap_the_booked_time(client, app, db, patient, booked, clock):
    """Booked 14:00-14:30 UTC: the room opens 10 minutes before and closes 30 minutes after."""
    doctor, appointment = booked
    clock.move_to(datetime(2026, 3, 9, 15, 20, tzinfo=UTC))
    doc = _as(app, doctor)
    url = f"/api/v1/appointments/{appointment['id']}/complete"
    r = doc.post(url, json={"started_at": "2026-03-09T13:55:00+00:00", "ended_at": "2026-03-09T13:56:00+00:00"})
    assert r.status_code == 422 and "ended_at" in error_of(r)["fields"]  # over before the appointment began
    r = doc.post(url, json={"started_at": "2026-03-09T15:05:00+00:00", "ended_at": "2026-03-09T15:10:00+00:00"})
    assert r.status_code == 422 and "started_at" in error_of(r)["fields"]  # after the room closed
    r = doc.post(url, json={"started_at": "2026-03-09T13:40:00+00:00", "ended_at": "2026-03-09T14:10:00+00:00"})
    assert r.status_code == 422 and "started_at" in error_of(r)["fields"]  # before the room opened
    assert db.session.get(Appointment, appointment["id"]).encounter_ended_at is None
    r = doc.post(url, json={"started_at": "2026-03-09T13:55:00+00:00", "ended_at": "2026-03-09T14:20:00+00:00"})
    assert r.status_code == 200, r.get_json()
