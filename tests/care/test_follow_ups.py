"""Physician follow-ups: each decision and its effect, all in one transaction (nothing written when
any part is refused), the care team only, the next stage released in the same call, the PHQ-9 /
GAD-7 retake texted once 48 h before each follow-up, and follow-ups paid with a follow-up credit."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text

from telehealth import scheduler
from telehealth.clock import now
from telehealth.errors import Conflict, Forbidden, ValidationFailed
from telehealth.models import (
    Appointment, AppointmentStatus, AuditEvent, CheckInStatus, CreditKind, FollowUpDecision,
    MessagePriority, OutboundMessage, Prescription, PrescriptionStatus, RetakeRequest, SessionStatus, SmsConsent,
    TreatmentPause,
)
from telehealth.policy import ClinicalPolicy
from telehealth.services.billing import ledger
from telehealth.services.care import follow_ups
from telehealth.services.scheduling import scheduling
from telehealth.services.home_care import home_sessions as hs
from telehealth.services.home_care.home_sessions import GatesFailed
from telehealth.services.messaging.message_content import check_sms_body
from telehealth.services.pharmacy.prescriptions import PrescriptionTerms
from tests import sessions_support
from tests.conftest import error_of
from tests.sessions_support import UTC, encounter, login, ready
from tests.pharmacy.test_prescriptions import TERMS

clock = sessions_support.clock

NEW_TERMS = {**TERMS, "dose_per_session_mg": 300, "sessions": 6}


def _dea(physician):
    physician.physician_profile.dea_number = "AB1234563"
    physician.physician_profile.dea_expires_on = date(2030, 1, 1)


@pytest.fixture
def ctx(app, db, create_user, clock):
    ctx = ready(db, create_user)
    _dea(ctx.physician)
    db.session.commit()
    return ctx


def _visit(db, ctx):
    """A follow-up held two hours ago, its encounter recorded."""
    row = encounter(db, ctx.patient, ctx.physician, now() - timedelta(hours=2), type_="follow_up")
    db.session.commit()
    return row


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _decide(client, ctx, **body):
    return client.post(f"/api/v1/patients/{ctx.patient.id}/follow-up-decisions", json=body)


def _prepared_session(ctx, clock):
    """A session an hour from now, the clock moved to it, sitter and a go reading recorded."""
    session = hs.schedule_session(ctx.patient, now() + timedelta(hours=1), "Sam Sitter", "+1 212 555 0123")
    clock.shift(timedelta(hours=1))
    hs.confirm_sitter(ctx.patient, session.id)
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    return session


# --------------------------------------------------------------------------- decisions


def test_policy_default_retake_is_48_hours_and_coach_notes_7_days():
    assert ClinicalPolicy().follow_up_retake_hours_before == 48
    assert ClinicalPolicy().coaching_note_edit_days == 7


def test_continue_at_a_recorded_follow_up_is_kept_encrypted_and_audited(app, db, ctx):
    visit = _visit(db, ctx)
    client = login(app, ctx.physician)
    r = _decide(client, ctx, decision="continue", note="Doing well; same plan.", appointment_id=visit.id)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["treatment_status"] == "active"
    assert body["decision"]["decision"] == "continue" and body["decision"]["appointment_id"] == visit.id
    raw = db.session.execute(text("SELECT note FROM follow_up_decisions")).scalar_one()
    assert "Doing well" not in raw  # encrypted at rest
    listed = client.get(f"/api/v1/patients/{ctx.patient.id}/follow-up-decisions").get_json()
    assert [d["id"] for d in listed["items"]] == [body["decision"]["id"]] and listed["treatment_status"] == "active"
    actions = set(db.session.execute(select(AuditEvent.action, AuditEvent.resource_type).where(
        AuditEvent.patient_id == ctx.patient.id)).all())
    assert {("create", "follow_up_decision"), ("read", "follow_up_decisions")} <= actions
    # the patient reads their own decisions too
    assert login(app, ctx.patient).get(f"/api/v1/patients/{ctx.patient.id}/follow-up-decisions").status_code == 200


def test_adjust_signs_a_new_version_in_the_same_call(app, db, ctx, totp):
    visit = _visit(db, ctx)
    r = _decide(login(app, ctx.physician), ctx, decision="adjust", note="Raise the dose.", appointment_id=visit.id,
                new_terms=NEW_TERMS, second_factor_code=totp.code(ctx.physician))
    assert r.status_code == 201, r.get_json()
    decision = r.get_json()["decision"]
    new = db.session.get(Prescription, decision["prescription_id"])
    assert new.version == 2 and new.supersedes_id == ctx.prescription.id and new.dose_per_session_mg == 300
    assert new.status is PrescriptionStatus.ACTIVE
    db.session.refresh(ctx.prescription)
    assert ctx.prescription.status is PrescriptionStatus.SUPERSEDED


def test_adjust_refused_by_a_prescribing_precondition_writes_nothing(app, db, ctx):
    ctx.physician.physician_profile.dea_expires_on = date(2020, 1, 1)
    db.session.commit()
    r = _decide(login(app, ctx.physician), ctx, decision="adjust", note="Raise the dose.", new_terms=NEW_TERMS)
    assert r.status_code == 409 and error_of(r)["code"] == "prescribing_not_allowed"
    assert _count(db, FollowUpDecision) == 0 and _count(db, Prescription) == 1
    db.session.refresh(ctx.prescription)
    assert ctx.prescription.status is PrescriptionStatus.ACTIVE


def test_adjust_without_a_second_factor_writes_nothing(app, db, ctx):
    r = _decide(login(app, ctx.physician), ctx, decision="adjust", note="Raise the dose.", new_terms=NEW_TERMS)
    assert r.status_code == 403 and error_of(r)["code"] == "second_factor_required"
    assert "second_factor_code" in error_of(r)["fields"]
    assert _count(db, FollowUpDecision) == 0 and _count(db, Prescription) == 1


def test_adjust_needs_terms_and_only_adjust_takes_them(app, db, ctx):
    client = login(app, ctx.physician)
    r = _decide(client, ctx, decision="adjust", note="Change")
    assert r.status_code == 422 and "new_terms" in error_of(r)["fields"]
    r = _decide(client, ctx, decision="continue", note="Same", new_terms=NEW_TERMS)
    assert r.status_code == 422 and "new_terms" in error_of(r)["fields"]
    assert _count(db, FollowUpDecision) == 0


def test_pause_blocks_a_session_start_and_resume_lifts_it(app, db, ctx, clock):
    session = _prepared_session(ctx, clock)
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "pause", "Wait for the lab results.")
    assert follow_ups.treatment_status(ctx.patient.id) == "paused"
    with pytest.raises(GatesFailed) as refused:
        hs.start_session(ctx.patient, session.id)
    assert list(refused.value.fields) == ["pause"]
    pause = db.session.scalar(select(TreatmentPause))
    # the patient reads the pause; the physician's note stays on the decision
    assert pause.started_by == ctx.physician.id and pause.reason == follow_ups.FOLLOW_UP_PAUSE
    assert db.session.scalar(select(FollowUpDecision.note)) == "Wait for the lab results."
    with pytest.raises(Conflict):  # already paused: nothing more written
        follow_ups.record_decision(ctx.physician, ctx.patient.id, "pause", "Again")
    assert _count(db, FollowUpDecision) == 1

    follow_ups.record_decision(ctx.physician, ctx.patient.id, "resume", "Labs are fine.")
    assert follow_ups.treatment_status(ctx.patient.id) == "active"
    assert hs.start_session(ctx.patient, session.id).status is SessionStatus.STARTED
    assert [d.decision.value for d in follow_ups.decisions_for(ctx.physician, ctx.patient.id)[0]] == [
        "resume", "pause"]


def test_resume_with_nothing_paused_is_refused(db, ctx):
    with pytest.raises(Conflict) as refused:
        follow_ups.record_decision(ctx.physician, ctx.patient.id, "resume", "Go on")
    assert refused.value.code == "not_paused" and _count(db, FollowUpDecision) == 0


def test_discharge_blocks_scheduling_and_cancels_scheduled_sessions(app, db, ctx):
    session = hs.schedule_session(ctx.patient, now() + timedelta(days=1), "Sam Sitter", "+1 212 555 0123")
    r = _decide(login(app, ctx.physician), ctx, decision="discharge", note="Course complete; in remission.")
    assert r.status_code == 201 and r.get_json()["treatment_status"] == "discharged"
    db.session.refresh(session)
    assert session.status is SessionStatus.CANCELLED
    assert {c.status for c in session.check_ins} == {CheckInStatus.EXPIRED}
    r = login(app, ctx.patient).post("/api/v1/me/sessions", json={
        "scheduled_for": (now() + timedelta(days=4)).isoformat(), "sitter_name": "Sam", "sitter_phone": "+12125550123"})
    assert r.status_code == 409 and error_of(r)["code"] == "discharged"
    for decision in ("continue", "pause", "maintenance", "discharge"):
        with pytest.raises(Conflict) as refused:
            follow_ups.record_decision(ctx.physician, ctx.patient.id, decision, "Anything")
        assert refused.value.code == "discharged"
    # resume re-admits: sessions can be scheduled again
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "resume", "Symptoms are back; restart.")
    assert follow_ups.treatment_status(ctx.patient.id) == "active"
    assert hs.schedule_session(ctx.patient, now() + timedelta(days=4), "Sam", "+12125550123").status \
        is SessionStatus.SCHEDULED


def test_maintenance_keeps_sessions_possible_and_resume_returns_to_active(db, ctx):
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "maintenance", "Monthly from now on.")
    assert follow_ups.treatment_status(ctx.patient.id) == "maintenance"
    assert hs.schedule_session(ctx.patient, now() + timedelta(days=1), "Sam", "+12125550123").status \
        is SessionStatus.SCHEDULED
    with pytest.raises(Conflict):
        follow_ups.record_decision(ctx.physician, ctx.patient.id, "maintenance", "Again")
    # a pause in maintenance: resume lifts it and stays in maintenance
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "pause", "Travel")
    assert follow_ups.treatment_status(ctx.patient.id) == "paused"
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "resume", "Back")
    assert follow_ups.treatment_status(ctx.patient.id) == "maintenance"
    # nothing paused: resume brings maintenance back to active treatment
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "resume", "Relapse; full series again.")
    assert follow_ups.treatment_status(ctx.patient.id) == "active"


def test_refused_when_not_on_the_care_team(app, db, ctx, create_user):
    stranger = create_user("physician", states=["NY"])
    r = _decide(login(app, stranger), ctx, decision="pause", note="Not mine")
    assert r.status_code == 403
    assert _count(db, FollowUpDecision) == 0 and _count(db, TreatmentPause) == 0
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "denied")).all()
    assert [e.actor_id for e in denied] == [stranger.id]
    assert login(app, stranger).get(f"/api/v1/patients/{ctx.patient.id}/follow-up-decisions").status_code == 403
    with pytest.raises(Forbidden):
        follow_ups.record_decision(create_user("coach"), ctx.patient.id, "continue", "No")
    r = login(app, ctx.physician).post("/api/v1/patients/99999/follow-up-decisions",
                                       json={"decision": "continue", "note": "x"})
    assert r.status_code == 404


def test_the_appointment_must_be_my_recorded_follow_up(app, db, ctx):
    client = login(app, ctx.physician)
    consult = db.session.scalar(select(Appointment).where(Appointment.appointment_type == "consult"))
    r = _decide(client, ctx, decision="continue", note="x", appointment_id=consult.id)
    assert r.status_code == 422 and "appointment_id" in error_of(r)["fields"]
    unrecorded = _visit(db, ctx)
    unrecorded.status, unrecorded.encounter_ended_at = AppointmentStatus.BOOKED, None
    db.session.commit()
    r = _decide(client, ctx, decision="continue", note="x", appointment_id=unrecorded.id)
    assert r.status_code == 422 and "appointment_id" in error_of(r)["fields"]
    assert _count(db, FollowUpDecision) == 0


def test_release_of_the_next_stage_in_the_same_call(app, db, ctx):
    stage = ctx.stages[0]
    stage.sessions_completed_at = now()
    db.session.commit()
    r = _decide(login(app, ctx.physician), ctx, decision="continue", note="Stage went well.",
                release_shipment_id=stage.id)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["decision"]["released_shipment_id"] == stage.id
    db.session.refresh(stage)
    assert stage.next_stage_released_at == now() and stage.next_stage_released_by == ctx.physician.id


def test_a_refused_release_undoes_the_whole_decision(app, db, ctx, totp):
    # the stage's sessions are not done: the release is refused, and the adjustment before it with it
    r = _decide(login(app, ctx.physician), ctx, decision="adjust", note="Change and release",
                new_terms=NEW_TERMS, release_shipment_id=ctx.stages[0].id, second_factor_code=totp.code(ctx.physician))
    assert r.status_code == 409 and error_of(r)["code"] == "sessions_not_done"
    assert _count(db, FollowUpDecision) == 0 and _count(db, Prescription) == 1
    db.session.refresh(ctx.prescription)
    assert ctx.prescription.status is PrescriptionStatus.ACTIVE and ctx.stages[0].next_stage_released_at is None


def test_no_release_with_a_pause_or_a_discharge_nor_of_another_patients_stage(app, db, ctx, create_user):
    client = login(app, ctx.physician)
    for decision in ("pause", "discharge"):
        r = _decide(client, ctx, decision=decision, note="x", release_shipment_id=ctx.stages[0].id)
        assert r.status_code == 422 and "release_shipment_id" in error_of(r)["fields"]
    other = ready(db, create_user)
    r = _decide(client, ctx, decision="continue", note="x", release_shipment_id=other.stages[0].id)
    assert r.status_code == 422 and "release_shipment_id" in error_of(r)["fields"]
    assert _count(db, FollowUpDecision) == 0 and _count(db, TreatmentPause) == 0


def test_decisions_are_append_only(db, ctx):
    row, _ = follow_ups.record_decision(ctx.physician, ctx.patient.id, "continue", "Same plan")
    row.note = "rewritten"
    with pytest.raises(ValueError, match="never edited"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(FollowUpDecision, row.id))
    with pytest.raises(ValueError, match="never deleted"):
        db.session.flush()


def test_bad_decision_or_empty_note_is_refused(db, ctx):
    with pytest.raises(ValidationFailed) as refused:
        follow_ups.record_decision(ctx.physician, ctx.patient.id, "cure", "x")
    assert "decision" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        follow_ups.record_decision(ctx.physician, ctx.patient.id, "continue", "   ",
                                   new_terms=PrescriptionTerms(medication="ketamine", **NEW_TERMS))
    assert {"note", "new_terms"} <= set(refused.value.fields)


# --------------------------------------------------------------------------- the retake before a follow-up


def _booked_follow_up(db, ctx, starts_at, type_="follow_up", status=AppointmentStatus.BOOKED):
    row = Appointment(patient_id=ctx.patient.id, provider_id=ctx.physician.id, appointment_type=type_,
                      starts_at=starts_at, ends_at=starts_at + timedelta(minutes=20), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=20), status=status, credit_kind=type_,
                      video_room=f"room-{type_}-{starts_at.timestamp():.0f}-{status.value}")
    db.session.add(row)
    db.session.commit()
    return row


def _retake_texts(db):
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "measure_retake")).all()


def test_the_retake_link_is_texted_once_48_hours_before_a_follow_up(app, db, ctx, clock):
    phone = ctx.patient.patient_profile.phone_e164
    db.session.add(SmsConsent(user_id=ctx.patient.id, phone_e164=phone, opted_in_at=now(), wording="I agree.",
                              wording_version="1"))
    starts = now() + timedelta(days=4)
    visit = _booked_follow_up(db, ctx, starts)
    _booked_follow_up(db, ctx, starts, status=AppointmentStatus.CANCELLED)    # not asked
    _booked_follow_up(db, ctx, starts + timedelta(hours=1), type_="coaching_30")  # not a follow-up

    clock.move_to(starts - timedelta(hours=48, minutes=1))
    assert follow_ups.request_retakes() == 0 and _retake_texts(db) == []
    clock.move_to(starts - timedelta(hours=47))
    assert follow_ups.request_retakes() == 1
    assert follow_ups.request_retakes() == 0  # the sweep again: nothing more
    [message] = _retake_texts(db)
    assert message.to_phone == phone and message.priority is MessagePriority.ROUTINE
    assert message.dedupe_key == f"retake:{visit.id}" and message.patient_id == ctx.patient.id
    assert "questionnaire" in message.body
    assert message.body.endswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/measures/retake")
    check_sms_body(message.body)  # nothing clinical: no scale, no diagnosis
    request = follow_ups.retake_requested(visit.id)
    assert request.requested_at == now() and request.message_id == message.id
    assert _count(db, RetakeRequest) == 1


def test_the_retake_sweep_runs_from_the_scheduler_registry(app, db, ctx, clock):
    assert "follow_up_retakes" in [job.name for job in scheduler.JOBS]
    job = next(job for job in scheduler.JOBS if job.name == "follow_up_retakes")
    _booked_follow_up(db, ctx, now() + timedelta(hours=30))
    ok, asked = scheduler.run_job(app, job)
    assert ok and asked == 1
    ok, asked = scheduler.run_job(app, job)
    assert ok and asked == 0 and _count(db, RetakeRequest) == 1


# --------------------------------------------------------------------------- follow-ups use follow-up credits


def test_booking_a_follow_up_debits_a_follow_up_credit(app, db, ctx):
    scheduling.set_weekly_windows(ctx.physician, [(d, time(9), time(17)) for d in range(7)])
    ledger.grant(ctx.patient.id, CreditKind.FOLLOW_UP, 1, key="test:follow_up")
    db.session.commit()
    client = login(app, ctx.patient)
    slot = datetime(2026, 3, 4, 14, tzinfo=UTC)  # Wednesday 9:00 in New York
    r = client.post("/api/v1/appointments", json={"type": "follow_up", "provider_id": ctx.physician.id,
                                                  "starts_at": slot.isoformat()})
    assert r.status_code == 201, r.get_json()
    assert ledger.balances(ctx.patient.id)[CreditKind.FOLLOW_UP] == 0
    assert db.session.get(Appointment, r.get_json()["id"]).credit_kind == "follow_up"
    r = client.post("/api/v1/appointments", json={"type": "follow_up", "provider_id": ctx.physician.id,
                                                  "starts_at": (slot + timedelta(days=1)).isoformat()})
    assert r.status_code == 409 and error_of(r)["code"] == "insufficient_credits"



def test_the_patient_reads_decisions_but_never_the_physicians_note(app, db, ctx):
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "continue", "Private reasoning.")
    mine = login(app, ctx.patient).get(f"/api/v1/patients/{ctx.patient.id}/follow-up-decisions").get_json()
    assert [(d["decision"], d["note"]) for d in mine["items"]] == [("continue", None)]
    theirs = login(app, ctx.physician).get(f"/api/v1/patients/{ctx.patient.id}/follow-up-decisions").get_json()
    assert theirs["items"][0]["note"] == "Private reasoning."


def test_after_discharge_nothing_more_ships(app, db, create_user):
    from telehealth.models import Shipment, ShipmentStatus
    from telehealth.services.pharmacy import shipments
    from tests.sessions_support import deliver

    ctx = ready(db, create_user)  # on the real clock: the pharmacy checks the time of signed requests
    _dea(ctx.physician)
    on_its_way = deliver(db, ctx.prescription, 1, status=ShipmentStatus.SENT_TO_PHARMACY)
    done = ctx.stages[0]
    done.sessions_completed_at = now()
    db.session.commit()
    follow_ups.record_decision(ctx.physician, ctx.patient.id, "discharge", "Course complete.")
    db.session.expire_all()
    row = db.session.get(Shipment, on_its_way.id)
    assert row.status is ShipmentStatus.CANCELLED, (row.cancel_requested_at, row.last_send_error)  # through the pharmacy
    with pytest.raises(Conflict) as refused:
        shipments.release_next_stage(ctx.physician, done.id)
    assert refused.value.code == "treatment_stopped"


def test_no_new_stage_while_treatment_is_paused(app, db, ctx):
    from telehealth.services.pharmacy import shipments

    follow_ups.record_decision(ctx.physician, ctx.patient.id, "pause", "Wait for labs.")
    with pytest.raises(Conflict) as refused:
        shipments.create_next_stage(ctx.physician, ctx.prescription.id, 1)
    assert refused.value.code == "treatment_stopped"


# --------------------------------------------------------------------------- a decision recorded once


def test_the_api_refuses_a_decision_when_a_newer_one_exists_and_works_as_before_without_seen(app, db, ctx):
    client = login(app, ctx.physician)
    assert _decide(client, ctx, decision="continue", note="Same plan.", seen_latest_id=0).status_code == 201
    r = _decide(client, ctx, decision="continue", note="Same plan.", seen_latest_id=0)
    assert r.status_code == 409 and error_of(r)["code"] == "decided_since"
    assert error_of(r)["message"].startswith("You recorded a decision for this patient since you opened this page")
    assert _count(db, FollowUpDecision) == 1
    latest = db.session.scalar(select(FollowUpDecision.id))
    assert _decide(client, ctx, decision="continue", note="Again.", seen_latest_id=latest).status_code == 201
    assert _decide(client, ctx, decision="continue", note="No check.").status_code == 201  # as before
    assert _count(db, FollowUpDecision) == 3
    assert _decide(client, ctx, decision="continue", note="x", seen_latest_id=-1).status_code == 422


def test_concurrent_posts_of_the_same_form_record_one_decision(app, committed, live_server):
    import json

    from tests.conftest import _make_user, post_concurrently

    world = ready(committed, lambda role="patient", **fields: _make_user(committed, role, **fields))
    client = login(app, world.physician)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = {"Cookie": f"{name}={client.get_cookie(name).value}"}
    body = json.dumps({"decision": "continue", "note": "Same plan.", "seen_latest_id": 0}).encode()
    answers = post_concurrently(f"{live_server}/api/v1/patients/{world.patient.id}/follow-up-decisions",
                                [body] * 3, cookie)
    assert sorted(code for code, _ in answers) == [201, 409, 409], answers
    assert committed.session.scalar(select(func.count()).select_from(FollowUpDecision)) == 1
