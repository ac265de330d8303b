"""Prescribing a Schedule III medication: every precondition, immutability, versions, access."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import (
    Appointment, AppointmentStatus, Assessment, AssessmentStatus, CareAssignment, Prescription, ReviewStatus,
)
from telehealth.services.pharmacy.prescriptions import add_months
from tests.conftest import PASSWORD, error_of

UTC = timezone.utc
TERMS = {"form": "sublingual_tablet", "strength_mg": 100, "dose_per_session_mg": 200, "sessions": 3, "refills": 1,
         "directions": "Dissolve under the tongue with your sitter present.", "diagnosis_code": "f33.2"}


def _approve(db, patient):
    db.session.add(Assessment(questionnaire_id="screening", questionnaire_version=1, status=AssessmentStatus.SUBMITTED,
                              patient_id=patient.id, answers={}, submitted_at=now(), outcome="likely_candidate",
                              reasons=[], review_status=ReviewStatus.APPROVED, review_due_at=now(),
                              first_reviewed_at=now()))


def _consult(db, patient, physician, *, status=AppointmentStatus.COMPLETED, recorded=True, type_="consult"):
    start = now() - timedelta(days=1)
    db.session.add(Appointment(
        patient_id=patient.id, provider_id=physician.id, appointment_type=type_, starts_at=start,
        ends_at=start + timedelta(minutes=30), blocks_from=start, blocks_until=start + timedelta(minutes=30),
        status=status, credit_kind="consult", video_room=f"room-{patient.id}-{physician.id}-{type_}",
        encounter_started_at=start if recorded else None,
        encounter_ended_at=start + timedelta(minutes=25) if recorded else None,
        encounter_modality="video" if recorded else None))


@pytest.fixture
def ready(db, create_user):
    """A NY patient, approved, seen by video by a NY-licensed physician with a DEA registration."""
    patient = create_user("patient")
    physician = create_user("physician", states=["NY"])
    physician.physician_profile.dea_number = "AB1234563"
    physician.physician_profile.dea_expires_on = date.today() + timedelta(days=365)
    _approve(db, patient)
    _consult(db, patient, physician)
    db.session.commit()
    return patient, physician


def _login(app, user):
    client = app.test_client()
    assert client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    return client


def test_signing_records_the_legal_facts(app, db, ready, totp):
    patient, physician = ready
    r = _login(app, physician).post(f"/api/v1/patients/{patient.id}/prescriptions",
                                    json={**TERMS, "second_factor_code": totp.code(physician)})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["diagnosis_code"] == "F33.2" and body["version"] == 1 and body["status"] == "active"
    assert body["license_state"] == "NY" and body["dea_number"] == "AB1234563"
    encounter = db.session.get(Appointment, body["encounter_appointment_id"])
    assert encounter.provider_id == physician.id and encounter.encounter_modality == "video"
    # the prescriber is now on the patient's care team
    assert db.session.scalar(select(CareAssignment).where(CareAssignment.staff_id == physician.id)) is not None


@pytest.mark.parametrize("break_it, words", [
    (lambda db, p, d: db.session.execute(Assessment.__table__.update().values(review_status="pending")),
     "screening approved"),
    (lambda db, p, d: db.session.execute(Appointment.__table__.update().values(status="booked")), "video consult"),
    (lambda db, p, d: db.session.execute(Appointment.__table__.update().values(encounter_ended_at=None)),
     "video consult"),
    (lambda db, p, d: setattr(d.physician_profile.licenses[0], "expires_on", date.today() - timedelta(days=2)),
     "license"),
    (lambda db, p, d: setattr(p.patient_profile, "state_of_residence", "TX"), "license"),
    (lambda db, p, d: setattr(d.physician_profile, "dea_number", None), "DEA"),
    (lambda db, p, d: setattr(d.physician_profile, "dea_expires_on", date.today() - timedelta(days=1)), "DEA"),
])
def test_each_missing_precondition_refuses_and_writes_nothing(app, db, ready, break_it, words, totp):
    patient, physician = ready
    break_it(db, patient, physician)
    db.session.commit()
    r = _login(app, physician).post(f"/api/v1/patients/{patient.id}/prescriptions",
                                    json={**TERMS, "second_factor_code": totp.code(physician)})
    assert r.status_code == 409 and error_of(r)["code"] == "prescribing_not_allowed"
    assert words in error_of(r)["message"]
    assert db.session.scalar(select(Prescription)) is None


def test_another_physicians_consult_does_not_count(app, db, ready, create_user, totp):
    patient, _ = ready
    other = create_user("physician", states=["NY"])
    other.physician_profile.dea_number, other.physician_profile.dea_expires_on = "AB1234563", date(2099, 1, 1)
    db.session.commit()
    r = _login(app, other).post(f"/api/v1/patients/{patient.id}/prescriptions",
                                json={**TERMS, "second_factor_code": totp.code(other)})
    assert r.status_code == 409 and "video consult" in error_of(r)["message"]


@pytest.mark.parametrize("changes, field", [
    ({"refills": 6}, "refills"), ({"form": "injection"}, "form"), ({"strength_mg": 0}, "strength_mg"),
    ({"diagnosis_code": "depressed"}, "code"), ({"dose_per_session_mg": 150}, "dose_per_session_mg"),
    ({"medication": "esketamine"}, "medication"),
])
def test_bad_terms_are_refused(app, db, ready, changes, field, totp):
    patient, physician = ready
    r = _login(app, physician).post(f"/api/v1/patients/{patient.id}/prescriptions",
                                    json={**TERMS, **changes, "second_factor_code": totp.code(physician)})
    assert r.status_code == 422 and field in error_of(r)["fields"], error_of(r)
    assert db.session.scalar(select(Prescription)) is None


def test_a_signed_prescription_is_never_edited_only_superseded(app, db, ready, totp):
    patient, physician = ready
    doc = _login(app, physician)
    first = doc.post(f"/api/v1/patients/{patient.id}/prescriptions",
                     json={**TERMS, "second_factor_code": totp.code(physician)}).get_json()
    stored = db.session.get(Prescription, first["id"])
    with pytest.raises(ValueError, match="never edited"), db.session.begin_nested():
        stored.refills = 5
        db.session.flush()
    assert db.session.get(Prescription, first["id"]).refills == 1
    r = doc.post(f"/api/v1/prescriptions/{first['id']}/versions",
                 json={**TERMS, "dose_per_session_mg": 300, "second_factor_code": totp.code(physician)})
    assert r.status_code == 201
    second = r.get_json()
    assert second["version"] == 2 and second["supersedes_id"] == first["id"]
    history = doc.get(f"/api/v1/patients/{patient.id}/prescriptions").get_json()["items"]
    assert [(p["version"], p["status"], p["dose_per_session_mg"]) for p in history] == [
        (2, "active", 300), (1, "superseded", 200)]
    assert doc.post(f"/api/v1/prescriptions/{first['id']}/versions",
                    json={**TERMS, "second_factor_code": totp.code(physician)}).status_code == 409


def test_who_may_read_prescriptions(app, db, ready, create_user, totp):
    patient, physician = ready
    _login(app, physician).post(f"/api/v1/patients/{patient.id}/prescriptions",
                                json={**TERMS, "second_factor_code": totp.code(physician)})
    assert len(_login(app, patient).get(f"/api/v1/patients/{patient.id}/prescriptions").get_json()["items"]) == 1
    for role in ("ops", "coach", "admin"):
        r = _login(app, create_user(role)).get(f"/api/v1/patients/{patient.id}/prescriptions")
        assert r.status_code == 403, role
    assert _login(app, create_user("patient")).get(f"/api/v1/patients/{patient.id}/prescriptions").status_code == 404
    assert _login(app, create_user("physician")).get(f"/api/v1/patients/{patient.id}/prescriptions").status_code == 403


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 1, 31), 6, date(2026, 7, 31)), (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2027, 8, 31), 6, date(2028, 2, 29)), (date(2026, 12, 15), 1, date(2027, 1, 15)),
])
def test_refill_window_months(day, months, expected):
    assert add_months(day, months) == expected


def test_the_refill_window_is_six_months_from_signing(app, db, ready, totp):
    patient, physician = ready
    body = _login(app, physician).post(f"/api/v1/patients/{patient.id}/prescriptions",
                                       json={**TERMS, "second_factor_code": totp.code(physician)}).get_json()
    signed = datetime.fromisoformat(body["signed_at"]).astimezone(UTC)
    assert date.fromisoformat(body["refills_until"]) in {add_months(signed.date() + timedelta(days=d), 6)
                                                         for d in (-1, 0, 1)}
