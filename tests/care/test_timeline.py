"""The patient timeline: every kind of event in time order, what each viewer may see of it, pages
by a cursor that is stable across equal timestamps, audited reads and a query count that does not
grow with the page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import (
    Appointment, AppointmentStatus, AuditEvent, BloodPressureReading, CareAssignment, CareRole, Decision, Measure,
    MessagePriority, OutboundMessage, ReviewDecision, ShipmentEvent, ShipmentStatus, User,
)
from telehealth.models.screening.assessments import Assessment
from telehealth.models.care.care_notes import CoachingNote, DecisionKind, FollowUpDecision
from telehealth.services.care import timeline
from tests import sessions_support
from tests.conftest import error_of
from tests.sessions_support import START, login, ready, start_session_via_api

clock = sessions_support.clock  # the shared fixture

CLINICAL_KINDS = {"assessment", "assessment_review", "measure", "appointment", "prescription", "shipment",
                  "shipment_status", "session", "check_in", "blood_pressure", "adverse_event",
                  "adverse_event_cleared", "treatment_pause", "treatment_resumed", "message", "coaching_summary",
                  "follow_up_decision"}
# alerts about the patient (their clinical summary, who acknowledged them): the physicians' only
PHYSICIAN_KINDS = CLINICAL_KINDS | {"clinical_alert", "clinical_alert_acknowledged"}
COACH_KINDS = {"session", "check_in", "appointment", "message", "coaching_summary"}


def _message(db, patient, purpose, *, priority=MessagePriority.ROUTINE, at=None, body="Telehealth Care: hello"):
    row = OutboundMessage(to_phone="+12125550100", body=body, purpose=purpose, priority=priority,
                          patient_id=patient.id, created_at=at or now(), not_before=at or now())
    db.session.add(row)
    return row


def _appointment(db, patient, provider, type_, starts_at, status=AppointmentStatus.BOOKED):
    row = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type=type_, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=30), blocks_from=starts_at,
                      blocks_until=starts_at + timedelta(minutes=30), status=status, credit_kind=type_,
                      video_room=f"room-{patient.id}-{type_}-{starts_at.timestamp():.0f}")
    db.session.add(row)
    return row


def _session_run(app, client, clock):
    """A session taken through the API: sitter, a go reading, start, done, a post check-in with a
    moderate side effect (an adverse event opens)."""
    sid = start_session_via_api(client, clock)
    assert client.post(f"/api/v1/me/sessions/{sid}/complete", json={}).status_code == 200
    clock.shift(timedelta(hours=2))
    r = client.post(f"/api/v1/me/sessions/{sid}/check-ins/post", json={"mood": 6, "side_effects": ["vomiting"]})
    assert r.status_code == 200 and r.get_json()["grade"] == "moderate"
    return sid


@pytest.fixture
def history(app, db, create_user, clock):
    """A patient with one of every kind of event, their physician and an assigned coach."""
    ctx = ready(db, create_user)
    coach = create_user("coach")
    db.session.add(CareAssignment(patient_id=ctx.patient.id, staff_id=coach.id, care_role=CareRole.COACH))
    assessment = db.session.scalar(select(Assessment).where(Assessment.patient_id == ctx.patient.id))
    db.session.add(ReviewDecision(assessment_id=assessment.id, decision=Decision.APPROVE, actor_id=ctx.physician.id,
                                  at=START - timedelta(hours=20), message_to_patient="Welcome aboard",
                                  private_note="Reviewer's own note"))
    db.session.add(Measure(patient_id=ctx.patient.id, instrument="phq9", questionnaire_version=1, answers={},
                           total=14, band="moderate", taken_at=START - timedelta(days=3), source="screening"))
    _appointment(db, ctx.patient, coach, "coaching_30", START + timedelta(days=5))
    past = _appointment(db, ctx.patient, coach, "coaching_60", START - timedelta(days=2),
                        status=AppointmentStatus.COMPLETED)
    db.session.flush()
    db.session.add(CoachingNote(appointment_id=past.id, patient_id=ctx.patient.id, coach_id=coach.id,
                                private_note="Coach's private observations", patient_summary="We practised grounding",
                                created_at=START - timedelta(days=2) + timedelta(hours=2)))
    db.session.add(FollowUpDecision(patient_id=ctx.patient.id, physician_id=ctx.physician.id,
                                    decision=DecisionKind.CONTINUE, note="Physician's reasoning",
                                    decided_at=START - timedelta(days=1)))
    db.session.add(ShipmentEvent(shipment_id=ctx.stages[0].id, status=ShipmentStatus.DELIVERED,
                                 at=START - timedelta(hours=2), source="pharmacy"))
    _message(db, ctx.patient, "appointment_reminder", at=START - timedelta(hours=5))
    _message(db, ctx.patient, "shipment_delivered", at=START - timedelta(hours=4))
    _message(db, ctx.patient, "crisis_reply", priority=MessagePriority.CRISIS, at=START - timedelta(hours=3))
    _message(db, ctx.patient, "alert", priority=MessagePriority.STAFF, at=START - timedelta(hours=3))
    db.session.commit()
    patient_client = login(app, ctx.patient)
    _session_run(app, patient_client, clock)
    doctor = login(app, ctx.physician)
    clock.shift(timedelta(days=1))
    [event_id] = [e["id"] for e in doctor.get(f"/api/v1/patients/{ctx.patient.id}/sessions").get_json()[
        "adverse_events"]]
    assert doctor.post(f"/api/v1/adverse-events/{event_id}/clear", json={"note": "Seen; settled."}).status_code == 200
    [alert] = doctor.get("/api/v1/alerts").get_json()["items"]  # the side effect's routine alert
    assert doctor.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={}).status_code == 200
    assert doctor.post(f"/api/v1/patients/{ctx.patient.id}/pause", json={"reason": "Labs to review"}).status_code == 201
    clock.shift(timedelta(days=1))
    assert doctor.post(f"/api/v1/patients/{ctx.patient.id}/resume", json={"note": "Labs fine."}).status_code == 200
    ctx.coach = coach
    ctx.clients = {"patient": patient_client, "physician": doctor, "coach": login(app, coach)}
    return ctx


def _timeline(client, patient_id, **params):
    r = client.get(f"/api/v1/patients/{patient_id}/timeline", query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _order_key(item):
    from datetime import datetime

    kind, row_id = item["id"].split(":")
    return (datetime.fromisoformat(item["at"]), kind, int(row_id))


def test_a_physician_sees_every_kind_in_time_order(history):
    page = _timeline(history.clients["physician"], history.patient.id, limit=100)
    items = page["items"]
    assert {i["kind"] for i in items} == PHYSICIAN_KINDS
    assert page["next_before"] is None
    keys = [_order_key(i) for i in items]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert items[0]["kind"] == "appointment" and items[0]["details"]["type"] == "coaching_30"  # the upcoming one
    by_kind = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    [session] = by_kind["session"]
    assert session["details"]["status"] == "completed" and session["details"]["sitter_confirmed"] is True
    assert {g["id"] for g in session["details"]["gates"]} >= {"prescription", "blood_pressure"}
    assert all(g["ok"] for g in session["details"]["gates"])
    [check_in] = by_kind["check_in"]
    assert check_in["details"]["mood"] == 6
    assert check_in["details"]["side_effects"] == [{"name": "vomiting", "grade": "moderate"}]
    [reading] = by_kind["blood_pressure"]
    assert (reading["details"]["systolic"], reading["details"]["band"]) == (118, "go")
    [review] = by_kind["assessment_review"]
    assert review["title"] == "Screening approved" and review["details"]["private_note"] == "Reviewer's own note"
    [measure] = by_kind["measure"]
    assert (measure["details"]["instrument"], measure["details"]["total"]) == ("phq9", 14)
    assert by_kind["prescription"][0]["details"]["sessions"] == 6
    [raised] = by_kind["clinical_alert"]
    [acknowledged] = by_kind["clinical_alert_acknowledged"]
    assert raised["title"] == "Side effect alert raised" and raised["details"]["open"] is False
    assert raised["details"]["summary"] and raised["details"]["urgency"] == "routine"
    assert acknowledged["details"]["acknowledged_by"] == history.physician.id
    assert acknowledged["details"]["alert_id"] == raised["details"]["alert_id"]
    assert acknowledged["at"] > raised["at"]
    [adverse] = by_kind["adverse_event"]
    assert adverse["details"]["grade"] == "moderate" and adverse["details"]["open"] is False
    assert by_kind["treatment_resumed"][0]["details"]["note"] == "Labs fine."
    # texts to the patient, with their words; texts to staff are not the patient's record
    purposes = {m["details"]["purpose"] for m in by_kind["message"]}
    assert {"appointment_reminder", "shipment_delivered", "crisis_reply"} <= purposes and "alert" not in purposes
    assert all(m["details"]["body"] for m in by_kind["message"])
    # titles say what happened, never values
    assert all(str(118) not in i["title"] and "vomiting" not in i["title"] for i in items)


def test_the_patient_sees_all_of_their_own_but_not_the_reviewers_note(history):
    items = _timeline(history.clients["patient"], history.patient.id, limit=100)["items"]
    assert {i["kind"] for i in items} == CLINICAL_KINDS
    [review] = [i for i in items if i["kind"] == "assessment_review"]
    assert review["details"]["message_to_patient"] == "Welcome aboard" and "private_note" not in review["details"]
    [coaching] = [i for i in items if i["kind"] == "coaching_summary"]
    assert coaching["details"]["summary"] == "We practised grounding" and "private_note" not in coaching["details"]
    [decision] = [i for i in items if i["kind"] == "follow_up_decision"]
    assert decision["details"]["decision"] == "continue" and "note" not in decision["details"]


def test_the_physician_reads_the_coachs_private_note_and_their_own_decision_note(history):
    items = _timeline(history.clients["physician"], history.patient.id, limit=100)["items"]
    [coaching] = [i for i in items if i["kind"] == "coaching_summary"]
    assert coaching["details"]["private_note"] == "Coach's private observations"
    [decision] = [i for i in items if i["kind"] == "follow_up_decision"]
    assert decision["details"]["note"] == "Physician's reasoning"


def test_a_coach_sees_only_what_coaching_needs(history):
    r = history.clients["coach"].get(f"/api/v1/patients/{history.patient.id}/timeline?limit=100")
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert {i["kind"] for i in items} == COACH_KINDS
    [session] = [i for i in items if i["kind"] == "session"]
    assert set(session["details"]) == {"session_id", "number", "status", "scheduled_for"}
    [check_in] = [i for i in items if i["kind"] == "check_in"]
    assert set(check_in["details"]) == {"session_id", "session_number", "check_in", "mood"}
    assert check_in["details"]["mood"] == 6
    # coaching appointments only, never the physician's consult
    assert {i["details"]["type"] for i in items if i["kind"] == "appointment"} == {"coaching_30", "coaching_60"}
    [coaching] = [i for i in items if i["kind"] == "coaching_summary"]
    assert set(coaching["details"]) == {"appointment_id", "coach_id", "summary"}
    # reminder texts by purpose and status, no words; never crisis answers or shipment notices
    messages = [i for i in items if i["kind"] == "message"]
    assert [m["details"]["purpose"] for m in messages] == ["appointment_reminder"]
    assert set(messages[0]["details"]) == {"purpose", "status", "sent_at"}
    text = r.get_data(as_text=True)
    for secret in ("vomiting", "ketamine", "118", "Labs", "Welcome aboard", "gates", "Telehealth Care: hello",
                   "private observations", "Physician's reasoning"):
        assert secret not in text


def test_a_coach_not_assigned_and_a_stranger_are_refused_and_audited(app, db, history, create_user):
    other_coach = create_user("coach")
    r = login(app, other_coach).get(f"/api/v1/patients/{history.patient.id}/timeline")
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    other_patient = create_user("patient")
    r = login(app, other_patient).get(f"/api/v1/patients/{history.patient.id}/timeline")
    assert r.status_code == 404  # a patient learns nothing of another patient's record
    other_doctor = create_user("physician")
    assert login(app, other_doctor).get(f"/api/v1/patients/{history.patient.id}/timeline").status_code == 403
    denied = db.session.scalars(select(AuditEvent.actor_id).where(
        AuditEvent.action == "denied", AuditEvent.patient_id == history.patient.id)).all()
    assert set(denied) == {other_coach.id, other_patient.id, other_doctor.id}


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_and_admin_are_refused(app, db, history, create_user, role):
    r = login(app, create_user(role)).get(f"/api/v1/patients/{history.patient.id}/timeline")
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    # and the service refuses them too, whatever route calls it
    from telehealth.errors import Forbidden

    with pytest.raises(Forbidden):
        timeline.patient_timeline(create_user(role), history.patient.id)


def test_every_read_is_audited_with_the_kinds_shown(db, history):
    def reads():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "patient_timeline")).all()

    before = len(reads())
    _timeline(history.clients["coach"], history.patient.id, limit=100)
    _timeline(history.clients["physician"], history.patient.id, limit=2)
    rows = reads()[before:]
    assert [(e.actor_id, e.action, e.patient_id, e.resource_id) for e in rows] == [
        (history.coach.id, "read", history.patient.id, str(history.patient.id)),
        (history.physician.id, "read", history.patient.id, str(history.patient.id))]
    assert set(rows[0].fields.split(",")) == COACH_KINDS


def test_times_are_shown_in_the_viewers_zone(app, db, history):
    doctor = db.session.get(User, history.physician.id)
    doctor.time_zone = "America/Los_Angeles"
    db.session.commit()
    items = _timeline(login(app, doctor), history.patient.id, limit=100)["items"]
    [session] = [i for i in items if i["kind"] == "session"]
    assert session["at"].endswith("-08:00") and session["details"]["scheduled_for"].endswith("-08:00")
    assert session["at"].startswith("2026-03-02T08:00")  # 16:00 UTC


# --------------------------------------------------------------------------- pages


@pytest.fixture
def crowded(app, db, create_user, clock):
    """A patient with many events at a handful of identical moments, across kinds."""
    patient = create_user("patient")
    doctor = create_user("physician")
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=doctor.id, care_role=CareRole.PHYSICIAN))
    moments = [START - timedelta(hours=h) for h in (1, 2, 3)]
    for at in moments:
        for n in range(4):
            db.session.add(BloodPressureReading(patient_id=patient.id, systolic=120 + n, diastolic=80, taken_at=at,
                                                source="app", band="go"))
            db.session.add(Measure(patient_id=patient.id, instrument="gad7", questionnaire_version=1, answers={},
                                   total=n, band="minimal", taken_at=at, source="retake"))
        _message(db, patient, "appointment_reminder", at=at)
    db.session.commit()
    return patient, doctor


def _walk(client, patient_id, limit, between_pages=None):
    seen, before = [], None
    for page_number in range(100):
        params = {"limit": limit, **({"before": before} if before else {})}
        page = _timeline(client, patient_id, **params)
        assert len(page["items"]) <= limit
        seen += page["items"]
        before = page["next_before"]
        if before is None:
            return seen
        if between_pages and page_number == 0:
            between_pages()
    raise AssertionError("the pages never ended")


def test_pages_cover_everything_once_across_equal_timestamps(app, db, crowded):
    patient, doctor = crowded
    client = login(app, doctor)
    everything = _timeline(client, patient.id, limit=100)["items"]
    assert len(everything) == 27
    for limit in (1, 3, 5, 26):
        assert [i["id"] for i in _walk(client, patient.id, limit)] == [i["id"] for i in everything], limit
    # equal moments: kinds in a fixed order, then newest row first
    first_moment = [i for i in everything if i["at"] == everything[0]["at"]]
    assert [i["kind"] for i in first_moment] == ["message"] + ["measure"] * 4 + ["blood_pressure"] * 4


def test_the_cursor_is_stable_while_new_events_arrive(app, db, crowded):
    patient, doctor = crowded
    client = login(app, doctor)
    everything = [i["id"] for i in _timeline(client, patient.id, limit=100)["items"]]

    def a_new_reading_arrives():
        db.session.add(BloodPressureReading(patient_id=patient.id, systolic=119, diastolic=79, taken_at=now(),
                                            source="app", band="go"))
        db.session.commit()

    walked = [i["id"] for i in _walk(client, patient.id, 4, between_pages=a_new_reading_arrives)]
    assert walked == everything  # nothing skipped, nothing twice: the new one is on a newer page


@pytest.mark.parametrize("before, field_error", [("abc", True), ("123.nosuch.4", True),
                                                 ("99999999999999999999.measure.1", True),
                                                 ("1.session.9999999999", True)])
def test_a_bad_cursor_is_a_422_on_before(app, db, crowded, before, field_error):
    patient, doctor = crowded
    r = login(app, doctor).get(f"/api/v1/patients/{patient.id}/timeline", query_string={"before": before})
    assert r.status_code == 422 and "before" in error_of(r)["fields"]


def test_limit_is_bounded(app, db, crowded):
    patient, doctor = crowded
    client = login(app, doctor)
    for bad in (0, 101, "x"):
        r = client.get(f"/api/v1/patients/{patient.id}/timeline", query_string={"limit": bad})
        assert r.status_code == 422 and "limit" in error_of(r)["fields"]


def test_the_query_count_does_not_grow_with_the_page(app, db, create_user, clock, count_queries):
    doctor = create_user("physician")
    coach = create_user("coach")
    patients = []
    for offset, size in enumerate((10, 50)):
        patient = create_user("patient")
        for role, staff in ((CareRole.PHYSICIAN, doctor), (CareRole.COACH, coach)):
            db.session.add(CareAssignment(patient_id=patient.id, staff_id=staff.id, care_role=role))
        for n in range(size // 5):
            at = START - timedelta(days=30 * offset, hours=n)  # providers' appointments never overlap
            db.session.add(BloodPressureReading(patient_id=patient.id, systolic=120, diastolic=80, taken_at=at,
                                                source="app", band="go"))
            db.session.add(Measure(patient_id=patient.id, instrument="phq9", questionnaire_version=1, answers={},
                                   total=n % 27, band="minimal", taken_at=at, source="retake"))
            _message(db, patient, "appointment_reminder", at=at)
            _appointment(db, patient, coach, "coaching_30", at)
            _appointment(db, patient, doctor, "follow_up", at - timedelta(minutes=45))
        patients.append((patient, size))
    db.session.commit()
    for viewer in (doctor, coach):
        client = login(app, viewer)
        _timeline(client, patients[0][0].id)  # warm up (first request of the login)
        counts = []
        for patient, size in patients:
            with count_queries() as counter:
                page = _timeline(client, patient.id, limit=100)
            assert len(page["items"]) == (size if viewer is doctor else 2 * size // 5)
            counts.append(counter.count)
        assert counts[0] == counts[1], (viewer.role, counts)
        assert counts[0] <= len(timeline.SOURCES) + 8, counter.statements


def test_a_new_source_is_one_registered_function(app, db, crowded):
    """The extension point for event kinds that come later (coaching summaries): register a function."""
    patient, doctor = crowded
    from telehealth.services.care.timeline import EVERYONE, source

    @source("zz_example", audiences=EVERYONE)
    def _example(req):
        return [req.event(now() + timedelta(days=1), 1, "Example", {"patient": req.patient_id})]

    try:
        with pytest.raises(ValueError):
            source("zz_example")(_example)
        items = _timeline(login(app, doctor), patient.id, limit=3)["items"]
        assert items[0]["id"] == "zz_example:1" and items[0]["details"] == {"patient": patient.id}
    finally:
        timeline.SOURCES.pop("zz_example")


def test_a_coach_reads_only_their_own_coaching_notes(app, db, history, create_user):
    other = create_user("coach")
    db.session.add(CareAssignment(patient_id=history.patient.id, staff_id=other.id, care_role=CareRole.COACH))
    db.session.commit()
    items = _timeline(login(app, other), history.patient.id, limit=100)["items"]
    assert [i for i in items if i["kind"] == "coaching_summary"] == []  # the first coach's session is theirs
    mine = _timeline(history.clients["coach"], history.patient.id, limit=100)["items"]
    assert len([i for i in mine if i["kind"] == "coaching_summary"]) == 1
