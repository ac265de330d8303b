"""Shared set-up for the at-home session tests: a patient with an approved screening, a recorded
consult with a physician on their care team, a signed prescription and delivered stages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from telehealth.clock import now
from telehealth.models import (
    Appointment, AppointmentStatus, CareAssignment, CareRole, Prescription, Shipment, ShipmentStatus, User,
)
from tests.conftest import PASSWORD
from tests.pharmacy.test_prescriptions import TERMS, _approve

UTC = timezone.utc
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York


@pytest.fixture
def clock(app, monkeypatch):
    """Time stands at START and moves only when told; days pass in these tests, so the logins made
    at the start must outlast the idle logoff."""
    monkeypatch.setitem(app.config, "PATIENT_IDLE_TIMEOUT_MINUTES", 60 * 24 * 30)
    monkeypatch.setitem(app.config, "STAFF_IDLE_TIMEOUT_MINUTES", 60 * 24 * 30)
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@dataclass
class Ready:
    patient: User
    physician: User
    prescription: Prescription
    stages: list[Shipment]


def encounter(db, patient, physician, ended_at: datetime, type_: str = "consult") -> Appointment:
    start = ended_at - timedelta(minutes=30)
    row = Appointment(patient_id=patient.id, provider_id=physician.id, appointment_type=type_, starts_at=start,
                      ends_at=ended_at, blocks_from=start, blocks_until=ended_at, status=AppointmentStatus.COMPLETED,
                      credit_kind=type_, video_room=f"room-{patient.id}-{type_}-{ended_at.timestamp():.0f}",
                      encounter_started_at=start, encounter_ended_at=ended_at - timedelta(minutes=5),
                      encounter_modality="video")
    db.session.add(row)
    db.session.flush()
    return row


def deliver(db, prescription, sessions: int, status=ShipmentStatus.DELIVERED) -> Shipment:
    stage = 1 + db.session.query(Shipment).filter_by(prescription_id=prescription.id).count()
    row = Shipment(prescription_id=prescription.id, patient_id=prescription.patient_id, stage=stage,
                   sessions=sessions, status=status, shipping_address={"line1": "1 Main St"},
                   ship_by=now(), deliver_by=now(), delivered_at=now() if status is ShipmentStatus.DELIVERED else None)
    db.session.add(row)
    db.session.flush()
    return row


def ready(db, create_user, *, sessions: int = 6, refills: int = 0, stages=(3,), consult_at=None) -> Ready:
    patient = create_user("patient")
    physician = create_user("physician", states=["NY"])
    _approve(db, patient)
    consult = encounter(db, patient, physician, consult_at or now() - timedelta(days=1))
    db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))
    rx = Prescription(patient_id=patient.id, physician_id=physician.id, medication="ketamine",
                      form="sublingual_tablet", strength_mg=100, dose_per_session_mg=200, sessions=sessions,
                      refills=refills, directions=TERMS["directions"], diagnosis_code="F33.2",
                      refills_until=now().date() + timedelta(days=180), encounter_appointment_id=consult.id,
                      license_state="NY", license_number="NY1", dea_number="AB1234563", signed_at=now())
    db.session.add(rx)
    db.session.flush()
    shipped = [deliver(db, rx, n) for n in stages]
    db.session.commit()
    return Ready(patient, physician, rx, shipped)


def login(app, user):
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return client


def start_session_via_api(client, clock, at=None) -> int:
    """Schedule through the API, move to the time, confirm the sitter, record a go reading, start;
    the session's id."""
    at = at or now() + timedelta(hours=1)
    r = client.post("/api/v1/me/sessions", json={"scheduled_for": at.isoformat(), "sitter_name": "Sam Sitter",
                                                 "sitter_phone": "(212) 555-0123"})
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    clock.move_to(at)
    assert client.post(f"/api/v1/me/sessions/{sid}/sitter", json={"confirmed": True}).status_code == 200
    assert client.post(f"/api/v1/me/sessions/{sid}/blood-pressure",
                       json={"systolic": 118, "diastolic": 76}).status_code == 201
    r = client.post(f"/api/v1/me/sessions/{sid}/start", json={})
    assert r.status_code == 200, r.get_json()
    return sid
