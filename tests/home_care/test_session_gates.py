"""The gates an at-home session must pass: each one failing alone (and the API naming it), the
blood-pressure bands at every boundary with their alerts, the 72-hour interval, the consult every
6 sessions and after a 90-day gap."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from telehealth.clock import now
from telehealth.models import (
    AdverseEvent, AdverseGrade, BloodPressureReading, ClinicalAlert, HomeSession, PrescriptionStatus,
    SessionStatus, ShipmentStatus, TreatmentPause,
)
from telehealth.policy import ClinicalPolicy
from telehealth.services.home_care import home_sessions as hs
from telehealth.services.home_care.session_gates import evaluate_gates
from tests.conftest import error_of
from tests import sessions_support
from tests.sessions_support import START, deliver, encounter, login, ready

GATES = ["prescription", "medication_delivered", "interval", "within_prescription", "consult", "consult_after_gap",
         "adverse_event", "crisis_alert", "pause", "sitter", "blood_pressure"]


clock = sessions_support.clock  # the shared fixture


def _taken(db, ctx, started_at, status=SessionStatus.COMPLETED):
    """A session already taken (the past, written directly)."""
    row = HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=99,
                      scheduled_for=started_at, status=status, sitter_name="S", sitter_phone="+12125550199",
                      sitter_confirmed_at=started_at, started_at=started_at, completed_at=started_at)
    db.session.add(row)
    db.session.commit()
    return row


def _prepared(ctx, clock, *, sitter=True, bp=(120, 80)):
    """A session scheduled for an hour from now; the clock moved to it; sitter and reading done."""
    session = hs.schedule_session(ctx.patient, now() + timedelta(hours=1), "Sam Sitter", "+1 212 555 0123")
    clock.shift(timedelta(hours=1))
    if sitter:
        hs.confirm_sitter(ctx.patient, session.id)
    if bp:
        hs.record_blood_pressure(ctx.patient, session.id, *bp)
    return session


def _failing(ctx, session):
    return [g.id for g in evaluate_gates(ctx.patient, session, now()) if not g.ok]


def test_policy_defaults_are_the_product_brief():
    p = ClinicalPolicy()
    assert (p.min_hours_between_sessions, p.sessions_per_consult, p.max_gap_days_before_consult,
            p.bp_reading_valid_minutes) == (72, 6, 90, 60)
    assert (p.session_bp_no_go_systolic, p.session_bp_no_go_diastolic) == (140, 90)
    assert (p.session_bp_urgent_systolic, p.session_bp_urgent_diastolic) == (180, 120)


def test_all_gates_pass_and_the_session_starts(app, db, create_user, clock):
    ctx = ready(db, create_user)
    session = _prepared(ctx, clock)
    gates = evaluate_gates(ctx.patient, session, now())
    assert [g.id for g in gates] == GATES and all(g.ok for g in gates)
    started = hs.start_session(ctx.patient, session.id)
    assert started.status is SessionStatus.STARTED and started.started_at == now()
    assert [g["id"] for g in started.gate_results] == GATES


def _break_prescription(db, ctx, session):
    ctx.prescription.status, ctx.prescription.superseded_at = PrescriptionStatus.SUPERSEDED, now()


def _break_delivery(db, ctx, session):
    ctx.stages[0].status = ShipmentStatus.OUT_FOR_DELIVERY


def _break_interval(db, ctx, session):
    _taken(db, ctx, now() - timedelta(hours=71))


def _break_adverse(db, ctx, session):
    db.session.add(AdverseEvent(patient_id=ctx.patient.id, grade=AdverseGrade.SERIOUS, description="Fainted",
                                source="physician", opened_at=now()))


def _break_pause(db, ctx, session):
    db.session.add(TreatmentPause(patient_id=ctx.patient.id, reason="Review labs", started_at=now()))


def _break_crisis_alert(db, ctx, session):
    db.session.add(ClinicalAlert(kind="crisis", urgency="urgent", recipient="on_call_physician",
                                 patient_id=ctx.patient.id, summary="Crisis language in a text"))


BREAKERS = {"prescription": _break_prescription, "medication_delivered": _break_delivery,
            "interval": _break_interval, "adverse_event": _break_adverse, "crisis_alert": _break_crisis_alert,
            "pause": _break_pause}


@pytest.mark.parametrize("kind, urgency, acknowledged, blocks", [
    ("crisis", "urgent", False, True), ("unclear_reply", "urgent", False, True),
    ("crisis", "urgent", True, False), ("unclear_reply", "routine", False, False),
    ("side_effect", "routine", False, False)])
def test_an_unacknowledged_urgent_crisis_or_unclear_alert_holds_the_session(app, db, create_user, clock, kind,
                                                                            urgency, acknowledged, blocks):
    ctx = ready(db, create_user)
    session = _prepared(ctx, clock)
    db.session.add(ClinicalAlert(kind=kind, urgency=urgency, recipient="on_call_physician", patient_id=ctx.patient.id,
                                 summary="x", acknowledged_at=now() if acknowledged else None))
    db.session.commit()
    assert _failing(ctx, session) == (["crisis_alert"] if blocks else [])


@pytest.mark.parametrize("gate", list(BREAKERS))
def test_each_gate_failing_alone_is_named_by_the_api(app, db, create_user, clock, gate):
    ctx = ready(db, create_user)
    session = _prepared(ctx, clock)
    BREAKERS[gate](db, ctx, session)
    db.session.commit()
    _assert_only(app, db, ctx, session, gate)


def _assert_only(app, db, ctx, session, gate):
    assert _failing(ctx, session) == [gate]
    r = login(app, ctx.patient).post(f"/api/v1/me/sessions/{session.id}/start", json={})
    assert r.status_code == 409
    error = error_of(r)
    assert error["code"] == "gates_failed" and list(error["fields"]) == [gate]
    assert error["fields"][gate][0]  # plain words for the patient
    db.session.expire_all()
    row = db.session.get(HomeSession, session.id)
    assert row.status is SessionStatus.SCHEDULED and row.started_at is None and row.gate_results is None


def test_sitter_gate_alone(app, db, create_user, clock):
    ctx = ready(db, create_user)
    session = _prepared(ctx, clock, sitter=False)
    _assert_only(app, db, ctx, session, "sitter")
    detail = login(app, ctx.patient).get(f"/api/v1/me/sessions/{session.id}").get_json()
    assert detail["ready"] is False and "sitter" in detail["instructions"].lower()
    assert {g["id"]: g["ok"] for g in detail["gates"]}["sitter"] is False


def test_blood_pressure_gate_alone_and_its_hour(app, db, create_user, clock):
    ctx = ready(db, create_user)
    session = _prepared(ctx, clock, bp=None)
    _assert_only(app, db, ctx, session, "blood_pressure")
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    assert _failing(ctx, session) == []
    clock.shift(timedelta(minutes=60))
    assert _failing(ctx, session) == []          # exactly an hour old: still valid
    clock.shift(timedelta(seconds=1))
    assert _failing(ctx, session) == ["blood_pressure"]


def test_a_no_go_reading_today_is_not_undone_by_a_second_one(app, db, create_user, clock):
    ctx = ready(db, create_user)
    session = _prepared(ctx, clock, bp=(150, 85))
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    assert _failing(ctx, session) == ["blood_pressure"]


def test_a_no_go_reading_before_midnight_still_refuses_a_start_just_after(app, db, create_user, clock):
    ctx = ready(db, create_user)
    # 23:30 in New York (04:30 UTC the next day): too high; a good reading at 00:05 does not undo it
    clock.move_to(START.replace(hour=4, minute=30) + timedelta(days=1))
    session = hs.schedule_session(ctx.patient, now() + timedelta(minutes=40), "Sam Sitter", "+1 212 555 0123")
    hs.confirm_sitter(ctx.patient, session.id)
    hs.record_blood_pressure(ctx.patient, session.id, 165, 105)
    clock.shift(timedelta(minutes=35))
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    assert _failing(ctx, session) == ["blood_pressure"]


def test_within_prescription_alone(app, db, create_user, clock):
    ctx = ready(db, create_user, sessions=2, stages=(3,), consult_at=now() - timedelta(hours=1))
    # two taken before the consult (so the consult rule is satisfied); three delivered, two prescribed
    _taken(db, ctx, now() - timedelta(days=20))
    _taken(db, ctx, now() - timedelta(days=10))
    session = HomeSession(patient_id=ctx.patient.id, prescription_id=ctx.prescription.id, number=3,
                          scheduled_for=now(), sitter_name="S", sitter_phone="+12125550199", sitter_confirmed_at=now())
    db.session.add(session)
    db.session.commit()
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    _assert_only(app, db, ctx, session, "within_prescription")


@pytest.mark.parametrize("systolic,diastolic,band,alert", [
    (139, 89, "go", None),
    (140, 89, "no_go", ("bp_no_go", "routine")),
    (139, 90, "no_go", ("bp_no_go", "routine")),
    (179, 119, "no_go", ("bp_no_go", "routine")),
    (180, 80, "urgent", ("bp_urgent", "urgent")),
    (150, 120, "urgent", ("bp_urgent", "urgent")),  # the bottom number alone at the urgent line
])
def test_blood_pressure_bands_at_each_boundary(app, db, create_user, clock, systolic, diastolic, band, alert):
    ctx = ready(db, create_user)
    session = hs.schedule_session(ctx.patient, now() + timedelta(hours=1), "Sam", "+12125550123")
    r = login(app, ctx.patient).post(f"/api/v1/me/sessions/{session.id}/blood-pressure",
                                     json={"systolic": systolic, "diastolic": diastolic})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["band"] == band and body["reading"]["band"] == band
    alerts = [(a.kind, a.urgency, a.patient_id) for a in db.session.scalars(select(ClinicalAlert))]
    assert alerts == ([] if alert is None else [(*alert, ctx.patient.id)])
    if band == "urgent":
        assert "911" in body["advice"] and "urgent care" in body["advice"]
    elif band == "no_go":
        assert "physician has been told" in body["advice"]


def test_a_changed_policy_moves_the_bands(app, db, create_user, clock):
    from telehealth.services.home_care.session_gates import bp_band

    app.config["CLINICAL_POLICY"] = {"session_bp_no_go_systolic": 130}
    try:
        assert bp_band(135, 80).value == "no_go"
    finally:
        app.config["CLINICAL_POLICY"] = {}
    assert bp_band(135, 80).value == "go"


def test_the_72_hour_interval_with_a_moving_clock(app, db, create_user, clock):
    ctx = ready(db, create_user)
    first = _prepared(ctx, clock)
    hs.start_session(ctx.patient, first.id)
    started = now()
    hs.complete_session(ctx.patient, first.id)
    # scheduling too close is refused; at 72 h it is taken
    with pytest.raises(Exception) as exc:
        hs.schedule_session(ctx.patient, started + timedelta(hours=71), "Sam", "+12125550123")
    assert exc.value.fields == {"scheduled_for": ["At least 72 hours from your other sessions."]}
    second = hs.schedule_session(ctx.patient, started + timedelta(hours=72), "Sam", "+12125550123")
    clock.move_to(started + timedelta(hours=71, minutes=59))
    hs.confirm_sitter(ctx.patient, second.id)
    hs.record_blood_pressure(ctx.patient, second.id, 120, 80)
    assert _failing(ctx, second) == ["interval"]
    clock.move_to(started + timedelta(hours=72))
    assert _failing(ctx, second) == []
    assert hs.start_session(ctx.patient, second.id).status is SessionStatus.STARTED


def test_a_consult_every_six_sessions(app, db, create_user, clock):
    ctx = ready(db, create_user, sessions=12, stages=(3, 3, 3), consult_at=now() - timedelta(days=30))
    for n in range(6):
        _taken(db, ctx, now() - timedelta(days=27 - 4 * n))
    session = _prepared(ctx, clock)
    assert _failing(ctx, session) == ["consult"]
    encounter(db, ctx.patient, ctx.physician, now() - timedelta(days=1), "follow_up")
    db.session.commit()
    assert _failing(ctx, session) == []


def test_five_sessions_since_the_consult_still_pass(app, db, create_user, clock):
    ctx = ready(db, create_user, sessions=12, stages=(3, 3), consult_at=now() - timedelta(days=30))
    for n in range(5):
        _taken(db, ctx, now() - timedelta(days=27 - 4 * n))
    assert _failing(ctx, _prepared(ctx, clock)) == []


def test_a_cancelled_follow_up_does_not_count(app, db, create_user, clock):
    from telehealth.models import AppointmentStatus

    ctx = ready(db, create_user, sessions=12, stages=(3, 3, 3), consult_at=now() - timedelta(days=30))
    for n in range(6):
        _taken(db, ctx, now() - timedelta(days=27 - 4 * n))
    visit = encounter(db, ctx.patient, ctx.physician, now() - timedelta(days=1), "follow_up")
    visit.status = AppointmentStatus.CANCELLED
    db.session.commit()
    assert _failing(ctx, _prepared(ctx, clock)) == ["consult"]


@pytest.mark.parametrize("days,ok", [(90, True), (91, False)])
def test_a_consult_after_a_gap_of_more_than_90_days(app, db, create_user, clock, days, ok):
    # the consult's encounter ended `days` days before the session starts (schedule adds an hour)
    ended = START + timedelta(hours=1) - timedelta(days=days)
    ctx = ready(db, create_user, consult_at=ended + timedelta(minutes=5))
    session = _prepared(ctx, clock)
    assert _failing(ctx, session) == ([] if ok else ["consult_after_gap"])


def test_a_long_gap_since_the_last_session_needs_a_new_visit(app, db, create_user, clock):
    ctx = ready(db, create_user, consult_at=now() - timedelta(days=200))
    _taken(db, ctx, now() - timedelta(days=100))
    session = _prepared(ctx, clock)
    assert _failing(ctx, session) == ["consult_after_gap"]
    encounter(db, ctx.patient, ctx.physician, now() - timedelta(days=2), "follow_up")
    db.session.commit()
    assert _failing(ctx, session) == []


def test_medication_counts_across_stages(app, db, create_user, clock):
    ctx = ready(db, create_user, stages=(1,))
    _taken(db, ctx, now() - timedelta(days=5))
    session = _prepared(ctx, clock)
    assert _failing(ctx, session) == ["medication_delivered"]
    deliver(db, ctx.prescription, 1)
    db.session.commit()
    assert _failing(ctx, session) == []
    assert db.session.scalar(select(func.count()).select_from(BloodPressureReading)) == 1


def test_a_sitter_confirmed_at_booking_days_earlier_does_not_count(app, db, create_user, clock):
    ctx = ready(db, create_user)
    session = hs.schedule_session(ctx.patient, now() + timedelta(days=3), "Sam Sitter", "+1 212 555 0123")
    hs.confirm_sitter(ctx.patient, session.id)  # at booking
    clock.shift(timedelta(days=3))
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    assert _failing(ctx, session) == ["sitter"]
    hs.confirm_sitter(ctx.patient, session.id)  # on the day
    assert _failing(ctx, session) == []
