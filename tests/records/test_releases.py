"""Releases of information and the progress report for the patient's own provider: the patient's
consent is required (none, expired, revoked: refused with the reason; active: served), the report
holds what the release promises, who may generate it, and every step is audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from telehealth.clock import now
from telehealth.models import (
    AdverseEvent, AdverseGrade, AuditEvent, BloodPressureReading, BpBand, BpSource, CareAssignment, CareRole, DosageForm,
    HomeSession, Measure, Prescription, PrescriptionStatus, RecordRelease, SessionStatus,
)
from telehealth.services.screening import scoring
from tests import sessions_support
from tests.conftest import error_of
from tests.sessions_support import login, ready

clock = sessions_support.clock  # the shared fixture

PROVIDER = {"name": "Dr. Rosa Rivera", "practice": "Hudson Valley Psychiatry", "phone": "+12125550188",
            "email": "rivera@example.org"}


def _measure(db, patient, instrument: str, items: list[int], days_ago: int) -> Measure:
    answers = {f"q{i + 1}": v for i, v in enumerate(items)}
    score = getattr(scoring, instrument)(answers)
    row = Measure(patient_id=patient.id, instrument=instrument, questionnaire_version=1, answers=answers,
                  total=score.total, band=score.band, taken_at=now() - timedelta(days=days_ago), source="retake")
    db.session.add(row)
    return row


def treated(db, create_user, *, provider: dict | None = PROVIDER):
    """A patient in treatment: two PHQ-9 and GAD-7 measures, a session taken and one scheduled, a
    reading, a moderate adverse event, and a prescription changed once (version 2 supersedes 1)."""
    r = ready(db, create_user)
    profile = r.patient.patient_profile
    profile.mental_health_provider = dict(provider) if provider else None
    _measure(db, r.patient, "phq9", [2, 2, 2, 2, 2, 2, 2, 2, 0], 20)          # 16
    _measure(db, r.patient, "gad7", [2, 2, 2, 2, 2, 1, 1], 20)                # 12
    _measure(db, r.patient, "phq9", [1, 1, 1, 1, 1, 0, 0, 1, 0], 1)           # 6
    _measure(db, r.patient, "gad7", [1, 1, 1, 0, 0, 0, 1], 1)                 # 4
    taken = HomeSession(patient_id=r.patient.id, prescription_id=r.prescription.id, number=1,
                        scheduled_for=now() - timedelta(days=3), status=SessionStatus.COMPLETED,
                        sitter_name="Sam Sitter", sitter_phone="+12125550123",
                        started_at=now() - timedelta(days=3), completed_at=now() - timedelta(days=3, hours=-2))
    planned = HomeSession(patient_id=r.patient.id, prescription_id=r.prescription.id, number=2,
                          scheduled_for=now() + timedelta(days=4), sitter_name="Sam Sitter",
                          sitter_phone="+12125550123")
    db.session.add_all([taken, planned])
    db.session.flush()
    db.session.add(BloodPressureReading(patient_id=r.patient.id, session_id=taken.id, systolic=128, diastolic=82,
                                        taken_at=now() - timedelta(days=3, hours=1), source=BpSource.APP,
                                        band=BpBand.GO))
    db.session.add(AdverseEvent(patient_id=r.patient.id, session_id=taken.id, grade=AdverseGrade.MODERATE,
                                description="strong nausea", source="check_in", opened_at=now() - timedelta(days=3)))
    old = r.prescription
    old.status, old.superseded_at = PrescriptionStatus.SUPERSEDED, now()
    v2 = Prescription(patient_id=old.patient_id, physician_id=old.physician_id, lineage_id=old.id, version=2,
                      supersedes_id=old.id, medication="ketamine", form=DosageForm.SUBLINGUAL_TABLET,
                      strength_mg=100, dose_per_session_mg=300, sessions=6, refills=1, directions=old.directions,
                      diagnosis_code="F33.2", refills_until=old.refills_until,
                      encounter_appointment_id=old.encounter_appointment_id, license_state="NY",
                      license_number="NY1", dea_number="AB1234563", signed_at=now())
    db.session.add(v2)
    db.session.commit()
    r.current = v2
    return r


def _grant(client, **body):
    r = client.post("/api/v1/me/releases", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _audits(db, action: str, resource_type: str):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.resource_type == resource_type)).all()


# --------------------------------------------------------------------------- releases


def test_a_release_defaults_to_the_profiles_provider_and_keeps_the_words(app, db, create_user, clock):
    r = treated(db, create_user)
    client = login(app, r.patient)
    release = _grant(client)
    assert release["status"] == "active" and release["scope"] == "progress_report"
    assert release["recipient_name"] == PROVIDER["name"]
    assert release["recipient_organization"] == PROVIDER["practice"]
    assert release["recipient_contact"] == {"phone": PROVIDER["phone"], "email": PROVIDER["email"]}
    assert PROVIDER["name"] in release["wording"] and "revoke" in release["wording"]
    row = db.session.get(RecordRelease, release["id"])
    assert row.expires_at - row.granted_at == timedelta(days=365)
    assert row.wording == release["wording"]
    # the recipient and the words are encrypted at rest
    raw = db.session.execute(text("SELECT recipient_name, wording FROM record_releases WHERE id = :id"),
                             {"id": row.id}).one()
    assert PROVIDER["name"] not in raw[0] and PROVIDER["name"] not in raw[1]
    [event] = _audits(db, "create", "record_release")
    assert (event.actor_id, event.resource_id) == (r.patient.id, str(row.id))


def test_a_release_names_another_recipient_or_needs_one(app, db, create_user, clock):
    r = treated(db, create_user, provider=None)
    client = login(app, r.patient)
    before = db.session.query(RecordRelease).count()
    bad = client.post("/api/v1/me/releases", json={})
    assert bad.status_code == 422 and "recipient_name" in error_of(bad)["fields"]
    assert db.session.query(RecordRelease).count() == before
    release = _grant(client, recipient_name="Dr. Lee", recipient_contact={"email": "lee@example.org"}, valid_days=30)
    assert release["recipient_name"] == "Dr. Lee" and release["recipient_organization"] == ""
    row = db.session.get(RecordRelease, release["id"])
    assert row.expires_at - row.granted_at == timedelta(days=30)
    assert client.post("/api/v1/me/releases", json={"valid_days": 366, "recipient_name": "X"}).status_code == 422


def test_revoking_is_one_step_and_only_of_ones_own(app, db, create_user, clock):
    r = treated(db, create_user)
    client = login(app, r.patient)
    release = _grant(client)
    revoked = client.post(f"/api/v1/me/releases/{release['id']}/revoke", json={})
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    again = client.post(f"/api/v1/me/releases/{release['id']}/revoke", json={})
    assert again.status_code == 409 and error_of(again)["code"] == "release_revoked"
    listed = client.get("/api/v1/me/releases").get_json()["items"]
    assert [x["status"] for x in listed] == ["revoked"]
    other = login(app, create_user("patient"))
    assert other.post(f"/api/v1/me/releases/{_grant(client)['id']}/revoke", json={}).status_code == 404
    assert other.get("/api/v1/me/releases").get_json()["items"] == []


def test_an_expired_release_cannot_be_revoked_and_shows_expired(app, db, create_user, clock):
    r = treated(db, create_user)
    client = login(app, r.patient)
    release = _grant(client, valid_days=1)
    clock.shift(timedelta(days=1))
    assert client.get("/api/v1/me/releases").get_json()["items"][0]["status"] == "expired"
    r2 = client.post(f"/api/v1/me/releases/{release['id']}/revoke", json={})
    assert r2.status_code == 409 and error_of(r2)["code"] == "release_expired"


# --------------------------------------------------------------------------- consent required


def _report(client, patient_id, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/v1/patients/{patient_id}/progress-report?{query}")


def test_no_report_without_a_release(app, db, create_user, clock):
    r = treated(db, create_user)
    doctor = login(app, r.physician)
    res = _report(doctor, r.patient.id)
    assert res.status_code == 409
    assert error_of(res)["code"] == "no_active_release" and "not authorized" in error_of(res)["message"]
    [refused] = _audits(db, "refused", "progress_report")
    assert refused.actor_id == r.physician.id and refused.patient_id == r.patient.id
    assert _audits(db, "generate", "progress_report") == []


def test_no_report_once_the_release_expired(app, db, create_user, clock):
    r = treated(db, create_user)
    _grant(login(app, r.patient), valid_days=30)
    doctor = login(app, r.physician)
    assert _report(doctor, r.patient.id).status_code == 200
    clock.shift(timedelta(days=30))
    res = _report(doctor, r.patient.id, format="pdf")
    assert res.status_code == 409 and "expired" in error_of(res)["message"]


def test_no_report_once_the_release_is_revoked(app, db, create_user, clock):
    r = treated(db, create_user)
    patient = login(app, r.patient)
    release = _grant(patient)
    doctor = login(app, r.physician)
    assert _report(doctor, r.patient.id).status_code == 200
    assert patient.post(f"/api/v1/me/releases/{release['id']}/revoke", json={}).status_code == 200
    res = _report(doctor, r.patient.id)
    assert res.status_code == 409 and "revoked" in error_of(res)["message"]
    # naming the revoked release does not get round it
    res = _report(doctor, r.patient.id, release_id=release["id"])
    assert res.status_code == 409
    # a release of another patient is no release of this one
    other = treated(db, create_user)
    theirs = _grant(login(app, other.patient))
    assert _report(doctor, r.patient.id, release_id=theirs["id"]).status_code == 404


def test_an_active_release_serves_html_and_pdf(app, db, create_user, clock):
    r = treated(db, create_user)
    release = _grant(login(app, r.patient), recipient_name="Dr. Quinn O'Hara", recipient_organization="Riverside Clinic")
    doctor = login(app, r.physician)
    res = _report(doctor, r.patient.id)
    assert res.status_code == 200 and res.mimetype == "text/html"
    assert res.headers["Cache-Control"] == "no-store"
    page = res.get_data(as_text=True)
    profile = r.patient.patient_profile
    assert "Dr. Quinn O&#39;Hara, Riverside Clinic" in page            # the recipient, escaped
    assert f"{profile.legal_first_name} {profile.legal_last_name}" in page
    assert "May 17, 1985" in page                                      # date of birth
    assert r.physician.physician_profile.npi in page and r.physician.display_name in page
    assert "300 mg" in page and "ketamine" in page                    # the current version's dose
    assert "Sessions taken (1)" in page                                # the scheduled one is not taken
    assert "-10" in page and "-8" in page                              # PHQ-9 16 -> 6, GAD-7 12 -> 4
    assert "Moderate" in page and "strong nausea" not in page          # grade and date, no description
    pdf = _report(doctor, r.patient.id, format="pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    [*_, event] = _audits(db, "generate", "progress_report")
    assert (event.actor_id, event.resource_id, event.patient_id) == (r.physician.id, str(release["id"]), r.patient.id)
    assert "measures" in event.fields and "Quinn" not in (event.fields or "")


# Who may see a treated patient's clinical record (the report here, the FHIR export too): the status each gets.
CLINICAL_ACCESS = [
    ("patient", 200), ("physician_on_team", 200), ("physician_not_on_team", 403), ("other_patient", 404),
    ("coach", 403), ("ops", 403), ("admin", 403),
]


def actor_for(db, create_user, r, who: str):
    """The actor named in CLINICAL_ACCESS, for the treated patient `r` (a coach on their care team)."""
    if who == "coach":
        actor = create_user("coach")
        db.session.add(CareAssignment(patient_id=r.patient.id, staff_id=actor.id, care_role=CareRole.COACH))
        db.session.commit()
        return actor
    if who == "patient":
        return r.patient
    if who == "physician_on_team":
        return r.physician
    return create_user({"physician_not_on_team": "physician", "other_patient": "patient"}.get(who, who))


@pytest.mark.parametrize("who, status", CLINICAL_ACCESS)
def test_who_may_generate_the_report(app, db, create_user, clock, who, status):
    r = treated(db, create_user)
    _grant(login(app, r.patient))
    actor = actor_for(db, create_user, r, who)
    res = _report(login(app, actor), r.patient.id)
    assert res.status_code == status, res.get_data(as_text=True)[:300]
    generated = [e.actor_id for e in _audits(db, "generate", "progress_report")]
    assert generated == ([actor.id] if status == 200 else [])


def test_the_reports_baseline_is_the_outcomes_baseline(app, db, create_user, clock):
    # A screening PHQ-9 of 22, a retake of 18 before the first session, then 9 after it: the
    # outcomes view and the report both take 18 (the last measure at or before the first session).
    r = ready(db, create_user)
    r.patient.patient_profile.mental_health_provider = dict(PROVIDER)
    screening = _measure(db, r.patient, "phq9", [3, 3, 3, 3, 3, 3, 2, 2, 0], 10)    # 22
    screening.source = "screening"
    _measure(db, r.patient, "phq9", [3, 3, 2, 2, 2, 2, 2, 2, 0], 5)                 # 18
    db.session.add(HomeSession(patient_id=r.patient.id, prescription_id=r.prescription.id, number=1,
                               scheduled_for=now() - timedelta(days=3), status=SessionStatus.COMPLETED,
                               sitter_name="Sam Sitter", sitter_phone="+12125550123",
                               started_at=now() - timedelta(days=3), completed_at=now() - timedelta(days=3, hours=-2)))
    _measure(db, r.patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 2, 0], 1)                 # 9
    db.session.commit()
    _grant(login(app, r.patient))
    doctor = login(app, r.physician)
    [phq9] = [o for o in doctor.get(f"/api/v1/patients/{r.patient.id}/outcomes").get_json()["instruments"]
              if o["instrument"] == "phq9"]
    assert (phq9["baseline"]["total"], phq9["latest"]["total"], phq9["change"]) == (18, 9, -9)
    page = _report(doctor, r.patient.id).get_data(as_text=True)
    assert "<dt>Baseline</dt><dd>18 (moderately severe)" in page
    assert "<dt>Latest</dt><dd>9 (mild)" in page and "<dt>Change</dt><dd>-9</dd>" in page
    assert "<td class=\"amount\">22</td>" in page                       # the screening stays in the history
    # GAD-7 never measured: no baseline, said so
    assert "GAD-7 history" in page
    with app.test_request_context():
        from telehealth.services.records import progress_report
        report = progress_report.build(r.physician, r.patient.id)
    [phq9_scale, gad7_scale] = report.scales
    assert (phq9_scale.baseline.total, phq9_scale.change) == (18, -9)
    assert gad7_scale.baseline is None and gad7_scale.change is None
    assert progress_report.pdf(report).startswith(b"%PDF")


def test_a_report_before_any_follow_up_shows_no_change(app, db, create_user, clock):
    # a measure before treatment and none after: baseline and latest are the same, change unknown
    r = ready(db, create_user)
    r.patient.patient_profile.mental_health_provider = dict(PROVIDER)
    _measure(db, r.patient, "phq9", [3, 3, 2, 2, 2, 2, 2, 2, 0], 5)                 # 18
    db.session.add(HomeSession(patient_id=r.patient.id, prescription_id=r.prescription.id, number=1,
                               scheduled_for=now() - timedelta(days=3), status=SessionStatus.COMPLETED,
                               sitter_name="Sam Sitter", sitter_phone="+12125550123",
                               started_at=now() - timedelta(days=3), completed_at=now() - timedelta(days=3, hours=-2)))
    # a measure after the first session with none before it: no baseline at all
    _measure(db, r.patient, "gad7", [1, 1, 1, 0, 0, 0, 1], 1)
    db.session.commit()
    _grant(login(app, r.patient))
    page = _report(login(app, r.physician), r.patient.id).get_data(as_text=True)
    assert "<dt>Change</dt><dd>-</dd>" in page
    assert "<dt>Baseline</dt><dd>None before treatment</dd>" in page
    pdf = _report(login(app, r.physician), r.patient.id, format="pdf")
    assert pdf.status_code == 200
