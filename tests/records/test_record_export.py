"""The patient's own full record: every section, as an attachment, JSON or FHIR, for the patient alone,
nothing of anyone else's, audited and rate limited."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import (
    Appointment, AppointmentStatus, AuditEvent, CareAssignment, CareRole, CheckIn, CheckInKind, CheckInStatus,
    CoachingNote, DecisionKind, FollowUpDecision, HomeSession, MessagePriority, PatientTreatmentPhase, TreatmentPhase,
)
from telehealth.services.home_care import home_sessions
from telehealth.services.messaging import outbox
from tests import sessions_support
from tests.screening_data import phq9_answers
from tests.sessions_support import login, ready

clock = sessions_support.clock  # the shared fixture

SECTIONS = {"exported_at", "profile", "assessments", "measures", "orders", "subscription", "credits",
            "appointments", "prescriptions", "shipments", "sessions", "check_ins", "readings", "adverse_events",
            "pauses", "coaching_summaries", "follow_up_decisions", "treatment_status", "journal", "messages",
            "consents", "releases"}


def _patient_with_history(app, db, create_user):
    """`ready` (screening, consult, prescription, delivered stage), plus a measure, a reading, a
    scheduled session (with its check-ins), a release, a journal entry and a text sent to the patient."""
    r = ready(db, create_user)
    client = login(app, r.patient)
    res = client.post("/api/v1/me/measures", json={"instrument": "phq9", "version": 1,
                                                   "answers": {"phq9": phq9_answers(14)}})
    assert res.status_code == 201
    at = now() + timedelta(days=1)
    res = client.post("/api/v1/me/sessions", json={"scheduled_for": at.isoformat(), "sitter_name": "Sam Sitter",
                                                   "sitter_phone": "(212) 555-0123"})
    assert res.status_code == 201, res.get_json()
    res = client.post("/api/v1/me/releases", json={"recipient_name": "Dr. Lee"})
    assert res.status_code == 201
    res = client.post("/api/v1/me/journal", json={"body": f"A private entry of patient {r.patient.id}."})
    assert res.status_code == 201
    home_sessions.record_blood_pressure(r.patient, None, 124, 78)
    outbox.enqueue(r.patient.patient_profile.phone_e164, "Telehealth Care: your package has shipped.",
                   "shipment_notice", priority=MessagePriority.ROUTINE, patient_id=r.patient.id)
    outbox.enqueue("+12125550199", "Urgent alert for a patient: log in to review.", "clinical_alert",
                   priority=MessagePriority.STAFF, patient_id=r.patient.id)
    db.session.commit()
    return r, client


def test_the_record_holds_every_section(app, db, create_user, clock):
    r, client = _patient_with_history(app, db, create_user)
    res = client.get("/api/v1/me/record")
    assert res.status_code == 200 and res.mimetype == "application/json"
    assert res.headers["Content-Disposition"] == 'attachment; filename="my-record-2026-03-02.json"'
    assert res.headers["Cache-Control"] == "no-store"
    record = json.loads(res.get_data(as_text=True))
    assert set(record) == SECTIONS
    assert record["profile"]["id"] == r.patient.id
    assert record["profile"]["patient"]["date_of_birth"] == "1985-05-17"
    assert [a["outcome"] for a in record["assessments"]] == ["likely_candidate"]
    [measure] = record["measures"]
    assert measure["total"] == 14 and measure["answers"]["q1"] in range(4)          # answers, not just scores
    assert [a["type"] for a in record["appointments"]] == ["consult"]
    assert [p["id"] for p in record["prescriptions"]] == [r.prescription.id]
    assert record["prescriptions"][0]["directions"]
    assert [s["id"] for s in record["shipments"]] == [s.id for s in r.stages]
    [session] = record["sessions"]
    assert session["sitter_name"] == "Sam Sitter" and len(session["check_ins"]) == 3
    assert {c["kind"] for c in record["check_ins"]} == {"pre", "post", "next_day"}
    assert {c["session_id"] for c in record["check_ins"]} == {session["id"]}
    assert [(x["systolic"], x["diastolic"]) for x in record["readings"]] == [(124, 78)]
    assert record["credits"]["balances"].keys() >= {"consult", "medication_session"}
    assert record["adverse_events"] == [] and record["pauses"] == [] and record["orders"] == []
    # texts to the patient, not the on-call pages about them
    assert [m["body"] for m in record["messages"]] == ["Telehealth Care: your package has shipped."]
    assert record["consents"]["sms"]["phone"] == r.patient.patient_profile.phone_e164
    assert [x["recipient_name"] for x in record["releases"]] == ["Dr. Lee"]
    assert record["coaching_summaries"] == [] and record["follow_up_decisions"] == []
    assert record["treatment_status"] == "active"
    [entry] = record["journal"]                     # the journal, private entries included
    assert entry["body"] == f"A private entry of patient {r.patient.id}." and entry["shared"] is False
    # times in the patient's zone
    assert record["exported_at"] == "2026-03-02T10:00:00-05:00"


def test_the_record_holds_nothing_of_anyone_else(app, db, create_user, clock):
    mine, client = _patient_with_history(app, db, create_user)
    theirs, _ = _patient_with_history(app, db, create_user)
    record = json.loads(client.get("/api/v1/me/record").get_data(as_text=True))
    assert theirs.patient.email not in json.dumps(record)
    assert {p["patient_id"] for p in record["prescriptions"]} == {mine.patient.id}
    assert {s["patient_id"] for s in record["sessions"]} == {mine.patient.id}
    assert len(record["messages"]) == 1 and len(record["readings"]) == 1
    assert [e["body"] for e in record["journal"]] == [f"A private entry of patient {mine.patient.id}."]


def test_the_record_as_fhir(app, db, create_user, clock):
    r, client = _patient_with_history(app, db, create_user)
    res = client.get("/api/v1/me/record?format=fhir")
    assert res.status_code == 200 and res.mimetype == "application/fhir+json"
    assert res.headers["Content-Disposition"] == 'attachment; filename="my-record-2026-03-02.fhir.json"'
    bundle = Bundle.model_validate_json(res.get_data(as_text=True))
    kinds = sorted(e.resource.get_resource_type() for e in bundle.entry)
    assert kinds == ["Appointment", "MedicationRequest", "Observation", "Patient", "Practitioner",
                     "QuestionnaireResponse"]


def test_the_export_is_audited_with_its_sections(app, db, create_user, clock):
    r, client = _patient_with_history(app, db, create_user)
    assert client.get("/api/v1/me/record").status_code == 200
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export",
                                                          AuditEvent.resource_type == "patient_record")).all()
    assert (event.actor_id, event.patient_id) == (r.patient.id, r.patient.id)
    assert {"measures", "prescriptions", "readings", "messages", "releases"} <= set(event.fields.split(","))


@pytest.mark.parametrize("role", ["physician", "coach", "ops", "admin"])
def test_only_patients_download_a_record(client, auth, role):
    auth.as_role(role)
    assert client.get("/api/v1/me/record").status_code == 403
    assert client.get("/api/v1/me/record?format=fhir").status_code == 403


def test_bad_format_is_a_field_error(client, auth):
    auth.as_role("patient")
    res = client.get("/api/v1/me/record?format=xml")
    assert res.status_code == 422 and "format" in res.get_json()["error"]["fields"]


def test_downloads_are_rate_limited_per_account(app, db, create_user, clock, monkeypatch):
    monkeypatch.setitem(app.config, "RECORD_EXPORT_RATE_LIMIT", "2 per hour")
    r, client = _patient_with_history(app, db, create_user)
    assert client.get("/api/v1/me/record?format=xml").status_code == 422        # a refused request costs nothing
    assert client.get("/api/v1/me/record").status_code == 200
    assert client.get("/api/v1/me/record?format=fhir").status_code == 200
    limited = client.get("/api/v1/me/record")
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    other = login(app, create_user("patient"))                                  # another account is not held up
    assert other.get("/api/v1/me/record").status_code == 200
    clock.shift(3600)
    assert client.get("/api/v1/me/record").status_code == 200


def test_the_rate_limit_logs_no_email(app, db, create_user, clock, monkeypatch, caplog):
    # flask-limiter logs the key of a request over the limit (and stores it as a Redis key): the
    # patient's id, never their email.
    monkeypatch.setitem(app.config, "RECORD_EXPORT_RATE_LIMIT", "1 per hour")
    r, client = _patient_with_history(app, db, create_user)
    caplog.set_level(logging.DEBUG)
    assert client.get("/api/v1/me/record").status_code == 200
    assert client.get("/api/v1/me/record").status_code == 429
    limiter_lines = [rec.getMessage() for rec in caplog.records if "exceeded" in rec.getMessage()]
    assert limiter_lines and f"record-export:{r.patient.id}" in limiter_lines[0]   # the line is there...
    email = r.patient.email
    assert not [rec for rec in caplog.records if email in rec.getMessage() or email in str(rec.args)]  # ...no email


def test_the_record_holds_coaching_summaries_and_decisions_not_the_private_notes(app, db, create_user, clock):
    r, client = _patient_with_history(app, db, create_user)
    coach = create_user("coach")
    db.session.add(CareAssignment(patient_id=r.patient.id, staff_id=coach.id, care_role=CareRole.COACH))
    starts = now() - timedelta(days=2)
    appointment = Appointment(patient_id=r.patient.id, provider_id=coach.id, appointment_type="coaching_60",
                              starts_at=starts, ends_at=starts + timedelta(minutes=60), blocks_from=starts,
                              blocks_until=starts + timedelta(minutes=60), status=AppointmentStatus.COMPLETED,
                              credit_kind="coaching_60", video_room=f"room-{r.patient.id}-coaching")
    db.session.add(appointment)
    db.session.flush()
    note = CoachingNote(appointment_id=appointment.id, patient_id=r.patient.id, coach_id=coach.id,
                        private_note="Coach's private observations", patient_summary="We practised grounding",
                        created_at=starts + timedelta(hours=2), updated_at=starts + timedelta(hours=3))
    decision = FollowUpDecision(patient_id=r.patient.id, physician_id=r.physician.id,
                                decision=DecisionKind.MAINTENANCE, note="Physician's reasoning",
                                decided_at=now() - timedelta(days=1))
    db.session.add_all([note, decision, PatientTreatmentPhase(patient_id=r.patient.id,
                                                              phase=TreatmentPhase.MAINTENANCE)])
    db.session.commit()
    raw = client.get("/api/v1/me/record").get_data(as_text=True)
    record = json.loads(raw)
    [summary] = record["coaching_summaries"]
    assert (summary["id"], summary["appointment_id"], summary["summary"]) == \
        (note.id, appointment.id, "We practised grounding")
    assert summary["written_at"] == "2026-02-28T12:00:00-05:00"
    [made] = record["follow_up_decisions"]
    assert (made["id"], made["decision"]) == (decision.id, "maintenance")
    assert made["decided_at"] == "2026-03-01T10:00:00-05:00"
    assert record["treatment_status"] == "maintenance"
    assert "private observations" not in raw and "Physician's reasoning" not in raw
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export",
                                                          AuditEvent.resource_type == "patient_record")).all()
    assert {"coaching_summaries", "follow_up_decisions", "treatment_status"} <= set(event.fields.split(","))


def test_the_record_costs_the_same_queries_however_many_sessions(app, db, create_user, clock, count_queries):
    r, client = _patient_with_history(app, db, create_user)      # one session, three check-ins

    def statements() -> int:
        db.session.expire_all()
        with count_queries() as counter:
            assert client.get("/api/v1/me/record").status_code == 200
        return counter.count

    one = statements()
    for n in range(2, 6):
        at = now() + timedelta(days=3 * n)
        session = HomeSession(patient_id=r.patient.id, prescription_id=r.prescription.id, number=n,
                              scheduled_for=at, sitter_name="Sam Sitter", sitter_phone="+12125550123")
        session.check_ins = [CheckIn(kind=kind, due_at=at, status=CheckInStatus.PENDING) for kind in CheckInKind]
        db.session.add(session)
    db.session.commit()
    five = statements()
    record = json.loads(client.get("/api/v1/me/record").get_data(as_text=True))
    assert len(record["sessions"]) == 5 and len(record["check_ins"]) == 15
    assert five == one
