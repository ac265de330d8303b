"""The physician's work list: each reason appears when due and goes when resolved, urgent patients
first, only the physician's own care team, a fixed number of queries, one audited read."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import (
    AdverseEvent, AdverseGrade, AlertStatus, Appointment, AppointmentStatus, AuditEvent, CareAssignment, CareRole,
    ClinicalAlert, CreditBalance, CreditKind, Shipment, TreatmentPause,
)
from telehealth.policy import ClinicalPolicy
from tests import sessions_support
from tests.conftest import error_of
from tests.sessions_support import deliver, encounter, login, ready

clock = sessions_support.clock  # the shared fixture


@pytest.fixture
def doctor(create_user):
    return create_user("physician", states=["NY"])


def _patient(db, create_user, doctor):
    patient = create_user("patient")
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=doctor.id, care_role=CareRole.PHYSICIAN))
    db.session.commit()
    return patient


def _worklist(app, doctor, **params):
    r = login(app, doctor).get("/api/v1/me/worklist", query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _reasons(app, doctor) -> dict[int, dict[str, dict]]:
    return {item["patient_id"]: {r["code"]: r for r in item["reasons"]} for item in _worklist(app, doctor)["items"]}


def _credit(db, patient, balance=1):
    db.session.merge(CreditBalance(patient_id=patient.id, kind=CreditKind.FOLLOW_UP, balance=balance))
    db.session.commit()


def _booked_follow_up(db, patient, doctor, starts_at):
    row = Appointment(patient_id=patient.id, provider_id=doctor.id, appointment_type="follow_up", starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=20), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=20), status=AppointmentStatus.BOOKED,
                      credit_kind="follow_up", video_room=f"fu-{patient.id}-{starts_at.timestamp():.0f}")
    db.session.add(row)
    db.session.commit()
    return row


def test_policy_defaults():
    p = ClinicalPolicy()
    assert (p.follow_up_interval_days, p.follow_up_upcoming_days, p.follow_up_due_days) == (28, 7, 30)


def test_due_for_follow_up_with_an_unused_credit(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    last = encounter(db, patient, doctor, now() - timedelta(days=27)).encounter_ended_at
    db.session.commit()
    _credit(db, patient)
    assert patient.id not in _reasons(app, doctor)  # 27 days: not yet
    clock.shift(timedelta(days=2))
    reason = _reasons(app, doctor)[patient.id]["follow_up_due"]
    assert datetime.fromisoformat(reason["due_at"]) == last + timedelta(days=28)
    assert reason["due_at"].endswith("-05:00")  # in the physician's zone (New York, winter)
    assert reason["urgent"] is False
    # booked more than a week ahead: the follow-up is in hand
    booked = _booked_follow_up(db, patient, doctor, now() + timedelta(days=10))
    assert patient.id not in _reasons(app, doctor)
    booked.status = AppointmentStatus.CANCELLED
    db.session.commit()
    assert "follow_up_due" in _reasons(app, doctor)[patient.id]
    # the credit used up: nothing to follow up on
    _credit(db, patient, balance=0)
    assert patient.id not in _reasons(app, doctor)


def test_due_for_a_follow_up_booked_within_a_week(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    encounter(db, patient, doctor, now() - timedelta(days=3))
    db.session.commit()
    booked = _booked_follow_up(db, patient, doctor, now() + timedelta(days=8))
    assert patient.id not in _reasons(app, doctor)
    clock.shift(timedelta(days=1, hours=1))
    reason = _reasons(app, doctor)[patient.id]["follow_up_due"]
    assert reason["title"] == "Follow-up booked soon"
    # the follow-up happened: recorded as an encounter, nothing left to do
    booked.status, booked.encounter_started_at = AppointmentStatus.COMPLETED, booked.starts_at
    booked.encounter_ended_at = booked.ends_at
    db.session.commit()
    assert patient.id not in _reasons(app, doctor)


def test_overdue_after_the_policy_days_without_an_encounter(app, db, create_user, clock, monkeypatch):
    # in treatment (an active prescription); the consult's recorded end was 29 days 23:55 ago
    ctx = ready(db, create_user, consult_at=now() - timedelta(days=30) + timedelta(minutes=10))
    patient, doctor = ctx.patient, ctx.physician
    [consult] = db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)).all()
    _credit(db, patient)
    assert set(_reasons(app, doctor)[patient.id]) == {"follow_up_due"}
    clock.shift(timedelta(minutes=10))
    reasons = _reasons(app, doctor)[patient.id]
    assert set(reasons) == {"follow_up_overdue"}  # overdue replaces "due" rather than repeating it
    assert datetime.fromisoformat(reasons["follow_up_overdue"]["due_at"]) == (
        consult.encounter_ended_at + timedelta(days=30))
    # the policy moves the line
    monkeypatch.setitem(app.config, "CLINICAL_POLICY", {"follow_up_due_days": 40})
    assert set(_reasons(app, doctor)[patient.id]) == {"follow_up_due"}
    monkeypatch.setitem(app.config, "CLINICAL_POLICY", {})
    encounter(db, patient, doctor, now() - timedelta(hours=1), type_="follow_up")
    db.session.commit()
    assert patient.id not in _reasons(app, doctor)


def test_a_patient_not_in_treatment_is_never_overdue(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)  # seen once, never prescribed
    encounter(db, patient, doctor, now() - timedelta(days=90))
    db.session.commit()
    assert patient.id not in _reasons(app, doctor)
    _credit(db, patient)  # but an unused follow-up credit is still worth a follow-up
    assert set(_reasons(app, doctor)[patient.id]) == {"follow_up_due"}


def test_open_adverse_events_pauses_and_escalations_until_resolved(app, db, create_user, clock, doctor):
    patient = _patient(db, create_user, doctor)
    event = AdverseEvent(patient_id=patient.id, grade=AdverseGrade.MODERATE, description="x", source="app",
                         opened_at=now() - timedelta(hours=3))
    pause = TreatmentPause(patient_id=patient.id, reason="labs", started_at=now() - timedelta(hours=2),
                           started_by=doctor.id)
    alert = ClinicalAlert(kind="side_effect", urgency="routine", recipient="care_team", patient_id=patient.id,
                          summary="x", created_at=now() - timedelta(hours=1))
    ops_alert = ClinicalAlert(kind="shipment_sla", urgency="routine", recipient="ops", patient_id=patient.id,
                              summary="late")
    db.session.add_all([event, pause, alert, ops_alert])
    db.session.commit()
    [item] = _worklist(app, doctor)["items"]
    assert [r["code"] for r in item["reasons"]] == ["adverse_event", "treatment_pause", "escalation"]  # oldest first
    assert item["urgent"] is False and all(r["count"] == 1 for r in item["reasons"])
    event.clear(doctor.id, now(), "fine")
    db.session.commit()
    assert set(_reasons(app, doctor)[patient.id]) == {"treatment_pause", "escalation"}
    pause.clear(doctor.id, now(), "fine")
    db.session.commit()
    assert set(_reasons(app, doctor)[patient.id]) == {"escalation"}
    alert.status = AlertStatus.DELIVERED
    db.session.commit()
    assert set(_reasons(app, doctor)[patient.id]) == {"escalation"}  # delivered is still unacknowledged
    alert.acknowledge(doctor.id, now())
    db.session.commit()
    assert patient.id not in _reasons(app, doctor)  # an ops alert is not the physician's work


def test_a_stage_whose_sessions_are_done_awaits_release(app, db, create_user, clock):
    ctx = ready(db, create_user, stages=(2,))
    [stage] = ctx.stages
    assert ctx.patient.id not in _reasons(app, ctx.physician)
    stage.sessions_completed_at = now()
    db.session.commit()
    reason = _reasons(app, ctx.physician)[ctx.patient.id]["stage_review"]
    assert reason["count"] == 1
    stage.next_stage_released_at, stage.next_stage_released_by = now(), ctx.physician.id
    db.session.commit()
    assert ctx.patient.id not in _reasons(app, ctx.physician)


def test_urgent_first_then_longest_due(app, db, create_user, clock, doctor):
    calm, old, urgent, serious = (_patient(db, create_user, doctor) for _ in range(4))
    db.session.add_all([
        TreatmentPause(patient_id=calm.id, reason="r", started_at=now() - timedelta(hours=1)),
        TreatmentPause(patient_id=old.id, reason="r", started_at=now() - timedelta(days=3)),
        ClinicalAlert(kind="crisis", urgency="urgent", recipient="on_call_physician", patient_id=urgent.id,
                      summary="x", created_at=now() - timedelta(minutes=5)),
        AdverseEvent(patient_id=serious.id, grade=AdverseGrade.SERIOUS, description="x", source="app",
                     opened_at=now() - timedelta(minutes=30)),
    ])
    db.session.commit()
    body = _worklist(app, doctor)
    assert [i["patient_id"] for i in body["items"]] == [serious.id, urgent.id, old.id, calm.id]
    assert [i["urgent"] for i in body["items"]] == [True, True, False, False]
    assert body["total"] == 4
    assert all(i["name"].startswith("Pat Ient") for i in body["items"])
    page = _worklist(app, doctor, limit=2)
    assert [i["patient_id"] for i in page["items"]] == [serious.id, urgent.id] and page["total"] == 4


def test_only_my_current_care_team(app, db, create_user, clock, doctor):
    mine = _patient(db, create_user, doctor)
    colleague = create_user("physician")
    theirs = _patient(db, create_user, colleague)
    ended = _patient(db, create_user, doctor)
    coached = create_user("patient")
    db.session.add(CareAssignment(patient_id=coached.id, staff_id=doctor.id, care_role=CareRole.COACH))
    for p in (mine, theirs, ended, coached):
        db.session.add(TreatmentPause(patient_id=p.id, reason="r", started_at=now()))
    db.session.commit()
    assignment = db.session.scalar(select(CareAssignment).where(CareAssignment.patient_id == ended.id))
    assignment.end(now())
    db.session.commit()
    assert set(_reasons(app, doctor)) == {mine.id}
    assert set(_reasons(app, colleague)) == {theirs.id}


def test_a_fixed_number_of_queries_and_a_read_audited_per_patient(app, db, create_user, clock, doctor, count_queries):
    client = login(app, doctor)

    def add_patients(n):
        for _ in range(n):
            p = _patient(db, create_user, doctor)
            encounter(db, p, doctor, now() - timedelta(days=40))
            db.session.add_all([
                AdverseEvent(patient_id=p.id, grade=AdverseGrade.MILD, description="x", source="app"),
                TreatmentPause(patient_id=p.id, reason="r"),
                ClinicalAlert(kind="side_effect", urgency="routine", recipient="care_team", patient_id=p.id,
                              summary="x"),
            ])
            db.session.commit()
            _credit(db, p)

    counts = []
    for n in (2, 12):
        add_patients(n if not counts else n - 2)
        client.get("/api/v1/me/worklist")  # the login's first request
        with count_queries() as counter:
            r = client.get("/api/v1/me/worklist")
        assert r.status_code == 200 and len(r.get_json()["items"]) == n
        counts.append(counter.count)
    assert counts[0] == counts[1] and counts[0] <= 15, counts
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "physician_worklist",
                                                        AuditEvent.actor_id == doctor.id)).all()
    # one row per patient shown, per read (2 + 2 + 12 + 12), so each patient's trail says who saw it
    assert len(reads) == 28 and all(r.action == "read" and r.patient_id for r in reads)
    last = reads[-12:]
    assert len({r.patient_id for r in last}) == 12
    assert set(last[-1].fields.split(",")) == {"adverse_event", "treatment_pause", "escalation", "follow_up_due"}


def test_stage_review_counts_each_stage(app, db, create_user, clock):
    ctx = ready(db, create_user, stages=(1, 1))
    for stage in ctx.stages:
        stage.sessions_completed_at = now()
    extra = deliver(db, ctx.prescription, 1)
    extra.sessions_completed_at, extra.next_stage_released_at = now(), now()
    db.session.commit()
    assert _reasons(app, ctx.physician)[ctx.patient.id]["stage_review"]["count"] == 2
    assert db.session.get(Shipment, extra.id).next_stage_released_at is not None


@pytest.mark.parametrize("role", ["patient", "coach", "ops", "admin"])
def test_only_physicians_have_a_worklist(app, db, create_user, role):
    r = login(app, create_user(role)).get("/api/v1/me/worklist")
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"


def test_a_discharged_patient_is_no_longer_due_for_follow_up(app, db, create_user, clock):
    from telehealth.models.care.care_notes import PatientTreatmentPhase, TreatmentPhase

    ctx = ready(db, create_user, consult_at=now() - timedelta(days=45))
    _credit(db, ctx.patient)
    assert set(_reasons(app, ctx.physician)[ctx.patient.id]) == {"follow_up_overdue"}
    db.session.add(PatientTreatmentPhase(patient_id=ctx.patient.id, phase=TreatmentPhase.DISCHARGED,
                                         changed_by=ctx.physician.id))
    db.session.commit()
    assert ctx.patient.id not in _reasons(app, ctx.physician)
