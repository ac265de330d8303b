"""At-home sessions end to end: scheduling and its check-ins, a serious side effect pausing
treatment until a physician clears and resumes it, the review flag that releases the next stage,
who may see what, and bad input refused with nothing written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from telehealth.clock import now
from telehealth.errors import Conflict, Forbidden
from telehealth.models import (
    AdverseEvent, AuditEvent, BloodPressureReading, CareAssignment, CareRole, CheckIn, ClinicalAlert, HomeSession,
    Shipment, TreatmentPause,
)
from telehealth.policy import policy_from
from telehealth.services.home_care import home_sessions as hs
from telehealth.services.home_care import treatment_oversight
from telehealth.services.pharmacy import shipments
from tests.conftest import error_of
from tests import sessions_support
from tests.sessions_support import login, ready, start_session_via_api


clock = sessions_support.clock  # the shared fixture


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _run(app, client, clock, at=None):
    return start_session_via_api(client, clock, at)


def test_scheduling_creates_three_check_ins_retimed_at_the_start(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    at = now() + timedelta(days=1)
    r = client.post("/api/v1/me/sessions", json={"scheduled_for": at.isoformat(), "sitter_name": "Sam",
                                                 "sitter_phone": "212 555 0123"})
    body = r.get_json()
    assert r.status_code == 201 and body["number"] == 1 and body["sitter_phone"] == "+12125550123"
    due = {c["kind"]: c["due_at"] for c in body["check_ins"]}
    session = db.session.get(HomeSession, body["id"])
    times = {c.kind.value: c.due_at for c in session.check_ins}
    assert set(due) == {"pre", "post", "next_day"}
    assert times == {"pre": at - timedelta(hours=1), "post": at + timedelta(hours=2), "next_day": at + timedelta(days=1)}
    # started 20 minutes late: post and next-day move with the real start, pre is no longer asked
    clock.move_to(at + timedelta(minutes=20))
    client.post(f"/api/v1/me/sessions/{session.id}/sitter", json={"confirmed": True})
    client.post(f"/api/v1/me/sessions/{session.id}/blood-pressure", json={"systolic": 118, "diastolic": 76})
    assert client.post(f"/api/v1/me/sessions/{session.id}/start", json={}).status_code == 200
    db.session.expire_all()
    session = db.session.get(HomeSession, body["id"])
    started = at + timedelta(minutes=20)
    assert {c.kind.value: (c.due_at, c.status.value) for c in session.check_ins} == {
        "pre": (at - timedelta(hours=1), "expired"), "post": (started + timedelta(hours=2), "pending"),
        "next_day": (started + timedelta(days=1), "pending")}
    # the encrypted fields are not readable in the table
    raw = db.session.execute(text("SELECT sitter_phone FROM home_sessions")).scalar()
    assert "+1212" not in raw


def test_scheduling_refuses_the_past_and_more_than_prescribed(app, db, create_user, clock):
    ctx = ready(db, create_user, sessions=1)
    client = login(app, ctx.patient)
    r = client.post("/api/v1/me/sessions", json={"scheduled_for": (now() - timedelta(minutes=1)).isoformat(),
                                                 "sitter_name": "Sam", "sitter_phone": "+12125550123"})
    assert r.status_code == 422 and list(error_of(r)["fields"]) == ["scheduled_for"]
    ok = {"scheduled_for": (now() + timedelta(hours=2)).isoformat(), "sitter_name": "Sam",
          "sitter_phone": "+12125550123"}
    assert client.post("/api/v1/me/sessions", json=ok).status_code == 201
    r = client.post("/api/v1/me/sessions", json=ok | {"scheduled_for": (now() + timedelta(days=5)).isoformat()})
    assert r.status_code == 409 and error_of(r)["code"] == "no_sessions_left"
    assert _count(db, HomeSession) == 1 and _count(db, CheckIn) == 3


@pytest.mark.parametrize("path,body,field", [
    ("", {"scheduled_for": "2026-03-03T10:00:00", "sitter_name": "Sam", "sitter_phone": "+12125550123"},
     "scheduled_for"),
    ("", {"scheduled_for": "2026-03-03T10:00:00Z", "sitter_name": "Sam", "sitter_phone": "12"}, "sitter_phone"),
    ("", {"scheduled_for": "2026-03-03T10:00:00Z", "sitter_name": "", "sitter_phone": "+12125550123"},
     "sitter_name"),
    ("/{id}/blood-pressure", {"systolic": 400, "diastolic": 80}, "systolic"),
    ("/{id}/blood-pressure", {"systolic": 120, "diastolic": "80"}, "diastolic"),
    ("/{id}/blood-pressure", {"systolic": 80, "diastolic": 120}, "systolic"),  # swapped: no 911 advice, no alert
    ("/{id}/check-ins/pre", {"mood": 11}, "mood"),
    ("/{id}/check-ins/pre", {"mood": 5, "side_effects": ["x" * 201]}, "side_effects.0"),
    ("/{id}/check-ins/pre", {"mood": 5, "sleep_quality": 4}, "sleep_quality"),
    ("/{id}/check-ins/later", {"mood": 5}, "kind"),
    ("/{id}/sitter", {"confirmed": False}, "confirmed"),
])
def test_bad_bodies_are_422_with_fields_and_write_nothing(app, db, create_user, clock, path, body, field):
    ctx = ready(db, create_user)
    session = hs.schedule_session(ctx.patient, now() + timedelta(hours=1), "Sam", "+12125550123")
    before = (_count(db, HomeSession), _count(db, BloodPressureReading), _count(db, ClinicalAlert))
    r = login(app, ctx.patient).post("/api/v1/me/sessions" + path.format(id=session.id), json=body)
    assert r.status_code == 422, r.get_json()
    assert field in error_of(r)["fields"], error_of(r)
    db.session.expire_all()
    assert (_count(db, HomeSession), _count(db, BloodPressureReading), _count(db, ClinicalAlert)) == before
    assert {c.status.value for c in db.session.get(HomeSession, session.id).check_ins} == {"pending"}


def test_every_check_in_kind_is_answered_in_the_app_with_its_minimal_body(app, db, create_user, clock):
    """Only what each check-in asks: mood before; mood after (side effects optional); mood and
    sleep the next day. A field the check-in does not ask is still refused."""
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    at = now() + timedelta(hours=2)
    r = client.post("/api/v1/me/sessions", json={"scheduled_for": at.isoformat(), "sitter_name": "Sam Sitter",
                                                 "sitter_phone": "(212) 555-0123"})
    sid = r.get_json()["id"]
    clock.move_to(at - timedelta(hours=1))
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/pre", json={"mood": 5, "sleep_quality": 4})
    assert r.status_code == 422 and set(error_of(r)["fields"]) == {"sleep_quality"}
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/pre", json={"mood": 5})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["check_in"]["status"] == "answered" and r.get_json()["grade"] is None
    clock.move_to(at)
    assert client.post(f"/api/v1/me/sessions/{sid}/sitter", json={"confirmed": True}).status_code == 200
    assert client.post(f"/api/v1/me/sessions/{sid}/blood-pressure",
                       json={"systolic": 118, "diastolic": 76}).status_code == 201
    assert client.post(f"/api/v1/me/sessions/{sid}/start", json={}).status_code == 200
    clock.move_to(at + timedelta(hours=2))
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 6})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["check_in"]["status"] == "answered"
    clock.move_to(at + timedelta(days=1))
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/next_day", json={"mood": 7, "sleep_quality": 6})
    assert r.status_code == 200, r.get_json()
    session = db.session.get(HomeSession, sid)
    db.session.refresh(session)
    answers = {c.kind.value: c.answers for c in session.check_ins}
    assert answers["pre"]["mood"] == 5 and "side_effects" not in answers["pre"]
    assert answers["post"]["side_effects"] == [] and answers["next_day"]["sleep_quality"] == 6


def test_next_day_answers_need_sleep_quality(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/next_day", json={"mood": 6})
    assert r.status_code == 422 and error_of(r)["fields"] == {"sleep_quality": ["This field is required."]}
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/next_day", json={"mood": 6, "sleep_quality": 7,
                                                                           "side_effects": ["Headache"]})
    assert r.status_code == 200 and r.get_json()["grade"] == "mild"
    assert _count(db, AdverseEvent) == 0 and _count(db, ClinicalAlert) == 0


def test_side_effects_are_graded_by_one_table():
    graded = hs.grade_side_effects(["Nausea", "high anxiety", "Chest pain", "none", "tingly toes"])
    assert [(n, g.value, known) for n, g, known in graded] == [
        ("nausea", "mild", True), ("panic", "moderate", True), ("chest_pain", "serious", True),
        ("tingly toes", "moderate", False)]


def test_a_moderate_side_effect_tells_the_physician_without_pausing(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 4, "side_effects": ["vomiting"]})
    assert r.status_code == 200 and r.get_json()["grade"] == "moderate"
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency) == ("side_effect", "routine")
    assert _count(db, TreatmentPause) == 0


def test_a_serious_side_effect_pauses_treatment_until_cleared_and_resumed(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    first = _run(app, client, clock)
    clock.shift(timedelta(hours=1))
    r = client.post(f"/api/v1/me/sessions/{first}/check-ins/post", json={"mood": 3, "side_effects": ["chest pain"]})
    assert r.status_code == 200 and r.get_json()["grade"] == "serious" and "911" in r.get_json()["advice"]
    [event] = db.session.scalars(select(AdverseEvent)).all()
    [pause] = db.session.scalars(select(TreatmentPause)).all()
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert event.grade.value == "serious" and pause.adverse_event_id == event.id and pause.started_by is None
    assert (alert.kind, alert.urgency, alert.patient_id) == ("adverse_event", "urgent", ctx.patient.id)
    assert db.session.get(HomeSession, first).status.value == "ended_early"
    # the next session, days later, is blocked by the event and the pause
    second = _schedule_and_prepare(client, clock, now() + timedelta(days=4))
    r = client.post(f"/api/v1/me/sessions/{second}/start", json={})
    assert r.status_code == 409 and set(error_of(r)["fields"]) == {"adverse_event", "pause"}
    doc = login(app, ctx.physician)
    r = doc.post(f"/api/v1/adverse-events/{event.id}/clear", json={"note": "Seen by video; musculoskeletal."})
    assert r.status_code == 200 and r.get_json()["cleared_by"] == ctx.physician.id
    assert doc.post(f"/api/v1/adverse-events/{event.id}/clear", json={"note": "again"}).status_code == 409
    r = client.post(f"/api/v1/me/sessions/{second}/start", json={})
    assert r.status_code == 409 and set(error_of(r)["fields"]) == {"pause"}
    assert doc.post(f"/api/v1/patients/{ctx.patient.id}/resume", json={"note": "Safe to continue."}).status_code == 200
    assert doc.post(f"/api/v1/patients/{ctx.patient.id}/resume", json={"note": "again"}).status_code == 409
    assert client.post(f"/api/v1/me/sessions/{second}/start", json={}).status_code == 200
    actions = {(e.resource_type, e.action) for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == ctx.physician.id))}
    assert {("adverse_event", "update"), ("treatment_pause", "update")} <= actions


def _schedule_and_prepare(client, clock, at):
    r = client.post("/api/v1/me/sessions", json={"scheduled_for": at.isoformat(), "sitter_name": "Sam",
                                                 "sitter_phone": "+12125550123"})
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    clock.move_to(at)
    client.post(f"/api/v1/me/sessions/{sid}/sitter", json={"confirmed": True})
    client.post(f"/api/v1/me/sessions/{sid}/blood-pressure", json={"systolic": 118, "diastolic": 76})
    return sid


def test_a_physician_pause_blocks_the_start(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    doc = login(app, ctx.physician)
    r = doc.post(f"/api/v1/patients/{ctx.patient.id}/pause", json={"reason": "Blood results to review"})
    assert r.status_code == 201 and r.get_json()["started_by"] == ctx.physician.id
    assert doc.post(f"/api/v1/patients/{ctx.patient.id}/pause", json={"reason": "again"}).status_code == 409
    sid = _schedule_and_prepare(client, clock, now() + timedelta(hours=1))
    r = client.post(f"/api/v1/me/sessions/{sid}/start", json={})
    assert r.status_code == 409 and list(error_of(r)["fields"]) == ["pause"]
    overview = doc.get(f"/api/v1/patients/{ctx.patient.id}/sessions").get_json()
    assert overview["paused"] is True and [s["id"] for s in overview["items"]] == [sid]
    assert overview["readings"][0]["systolic"] == 118


def test_the_review_flag_releases_the_next_stage(app, db, create_user, clock):
    ctx = ready(db, create_user, stages=(2,))
    client = login(app, ctx.patient)
    stage = ctx.stages[0]
    with pytest.raises(Conflict) as exc:
        shipments.release_next_stage(ctx.physician, stage.id)
    assert exc.value.code == "sessions_not_done"
    for n in range(2):
        sid = _run(app, client, clock, now() + timedelta(days=3 * n + 1))
        assert client.post(f"/api/v1/me/sessions/{sid}/complete", json={}).status_code == 200
        db.session.expire_all()
        assert db.session.get(Shipment, stage.id).sessions_completed_at is None  # post check-in not answered yet
        clock.shift(timedelta(hours=2))
        r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 7, "side_effects": []})
        assert r.status_code == 200
        db.session.expire_all()
        flagged = db.session.get(Shipment, stage.id).sessions_completed_at
        assert (flagged is not None) == (n == 1)
    r = login(app, ctx.physician).post(f"/api/v1/shipments/{stage.id}/release-next-stage", json={})
    assert r.status_code == 200, r.get_json()


def test_who_may_see_sessions(app, db, create_user, clock):
    ctx = ready(db, create_user)
    session = hs.schedule_session(ctx.patient, now() + timedelta(hours=1), "Sam", "+12125550123")
    hs.record_blood_pressure(ctx.patient, session.id, 120, 80)
    stranger = login(app, create_user("patient"))
    for method, path in (("get", ""), ("post", "/start"), ("post", "/cancel")):
        r = getattr(stranger, method)(f"/api/v1/me/sessions/{session.id}{path}", json={} if method == "post" else None)
        assert r.status_code == 404, path
    coach, ops = create_user("coach"), create_user("ops")
    db.session.add(CareAssignment(patient_id=ctx.patient.id, staff_id=coach.id, care_role=CareRole.COACH))
    db.session.commit()
    for staff in (coach, ops):
        staff_client = login(app, staff)
        assert staff_client.get(f"/api/v1/patients/{ctx.patient.id}/sessions").status_code == 403
        assert staff_client.get(f"/api/v1/me/sessions/{session.id}").status_code == 403
        with pytest.raises(Forbidden):
            hs.session_detail(staff, session.id)  # not even through the service: no BP, no gates
        with pytest.raises(Forbidden):
            treatment_oversight.patient_overview(staff, ctx.patient.id)
    other_doc = login(app, create_user("physician"))
    assert other_doc.get(f"/api/v1/patients/{ctx.patient.id}/sessions").status_code == 403
    assert other_doc.post(f"/api/v1/patients/{ctx.patient.id}/pause", json={"reason": "x"}).status_code == 403
    # reads are audited
    me = login(app, ctx.patient)
    assert me.get(f"/api/v1/me/sessions/{session.id}").status_code == 200
    assert me.get("/api/v1/me/sessions").status_code == 200
    reads = {e.resource_type for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == ctx.patient.id, AuditEvent.action == "read"))}
    assert {"home_session", "home_sessions"} <= reads


def test_the_instructions_ask_for_a_reading_within_the_policy_window_and_no_driving_until_the_next_day(app):
    text = hs.instructions()
    assert "take your blood pressure in the hour before" in text  # bp_reading_valid_minutes 60
    assert "do not drive, cycle or operate machinery until the next day" in text  # PRODUCT.md
    assert "in the 45 minutes before" in hs.instructions(policy_from({"bp_reading_valid_minutes": 45}))


def test_a_cancelled_session_expires_its_check_ins_and_frees_its_place(app, db, create_user, clock):
    ctx = ready(db, create_user, sessions=1)
    client = login(app, ctx.patient)
    session = hs.schedule_session(ctx.patient, now() + timedelta(hours=1), "Sam", "+12125550123")
    r = client.post(f"/api/v1/me/sessions/{session.id}/cancel", json={})
    assert r.status_code == 200 and {c["status"] for c in r.get_json()["check_ins"]} == {"expired"}
    assert client.post(f"/api/v1/me/sessions/{session.id}/cancel", json={}).status_code == 409
    assert hs.schedule_session(ctx.patient, now() + timedelta(hours=2), "Sam", "+12125550123").number == 1


def test_the_sms_side_finds_check_ins_to_prompt_remind_and_escalate(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    assert hs.check_ins_needing_action(now())["prompt"] == []
    clock.shift(timedelta(hours=2))
    [post] = hs.check_ins_needing_action(now())["prompt"]
    post.prompt(now())
    clock.shift(timedelta(hours=2))
    assert hs.check_ins_needing_action(now())["remind"] == [post]
    post.remind(now())
    clock.shift(timedelta(hours=2))
    assert hs.check_ins_needing_action(now())["escalate"] == [post]
    alert = hs.escalate_check_in(post, now())
    db.session.commit()
    assert (alert.kind, alert.urgency) == ("check_in_unanswered", "urgent")
    assert [c.id for c in hs.open_check_ins(ctx.patient)][0] == post.id
    # a late answer still counts
    check_in, grade, _ = hs.record_check_in(ctx.patient, {"mood": 6}, session_id=sid, kind="post", source="sms")
    assert check_in.status.value == "answered" and grade is None


# ------------------------------------------------------------------ crisis words in an in-app answer (issue 12 §1)

@pytest.mark.parametrize("words", ["i want to kill myself", "suicidal thoughts", "took all my pills",
                                   "i dont feel safe", "kms"])
def test_crisis_words_in_an_app_answer_page_on_call_and_show_the_crisis_lines(app, db, create_user, clock, words,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "ON_CALL_FALLBACK_PHONE", "+13125550199")
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 6, "side_effects": [words]})
    assert r.status_code == 200
    shown = {(c["phone"], c["sms"]) for c in r.get_json()["crisis_resources"]}
    assert {("988", "988"), ("", "741741"), ("911", "")} <= shown
    assert "988" in r.get_json()["advice"] and "911" in r.get_json()["advice"]
    [alert] = db.session.scalars(select(ClinicalAlert).where(ClinicalAlert.kind == "crisis")).all()
    assert (alert.urgency, alert.patient_id, alert.status.value) == ("urgent", ctx.patient.id, "delivered")


def test_crisis_words_the_next_day_in_the_app_are_read_too(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    clock.shift(timedelta(hours=20))
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/next_day",
                    json={"mood": 5, "sleep_quality": 5, "side_effects": ["want to die"]})
    assert r.status_code == 200 and r.get_json()["crisis_resources"]
    assert db.session.scalar(select(ClinicalAlert).where(ClinicalAlert.kind == "crisis")).urgency == "urgent"


def test_the_lowest_mood_after_a_session_shows_the_lines_and_tells_the_care_team(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 1})
    assert r.status_code == 200 and r.get_json()["crisis_resources"] and "988" in r.get_json()["advice"]
    [alert] = db.session.scalars(select(ClinicalAlert)).all()
    assert (alert.kind, alert.urgency) == ("low_mood", "routine")


def test_an_ordinary_app_answer_shows_no_crisis_lines(app, db, create_user, clock):
    ctx = ready(db, create_user)
    client = login(app, ctx.patient)
    sid = _run(app, client, clock)
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 6, "side_effects": ["nausea"]})
    assert r.status_code == 200 and r.get_json()["crisis_resources"] == []
