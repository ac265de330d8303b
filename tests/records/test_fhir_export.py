"""The FHIR R4 export: every resource validates with fhir.resources (the bundle is parsed back whole),
the LOINC codes are there, prescription versions chain with priorPrescription, the codes we emit are
in their required value sets, and only the patient and their care-team physicians may export."""
from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlalchemy import select

from telehealth import questionnaires
from telehealth.clock import now
from telehealth.models import (
    AuditEvent, DosageForm, Measure, Prescription, PrescriptionStatus,
)
from telehealth.services.records import fhir_export
from tests import sessions_support
from tests.conftest import error_of
from tests.sessions_support import login
from tests.records.test_releases import CLINICAL_ACCESS, actor_for, treated

clock = sessions_support.clock  # the shared fixture

# Required bindings of the elements we fill (FHIR R4), which fhir.resources does not check.
REQUIRED_CODES = {
    ("QuestionnaireResponse", "status"): {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    ("Appointment", "status"): {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                                "entered-in-error", "checked-in", "waitlist"},
    ("MedicationRequest", "status"): {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
                                      "draft", "unknown"},
    ("MedicationRequest", "intent"): {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                                      "instance-order", "option"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                "entered-in-error", "unknown"},
}


def _bundle(client, patient_id) -> tuple[dict, Bundle]:
    res = client.get(f"/api/v1/patients/{patient_id}/fhir")
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    assert res.mimetype == "application/fhir+json"
    raw = res.get_data(as_text=True)
    return json.loads(raw), Bundle.model_validate_json(raw)  # a resource that does not validate raises here


def _share(app, r, **body) -> dict:
    """The patient's release of their FHIR record (to the provider on their profile)."""
    res = login(app, r.patient).post("/api/v1/me/releases", json={"scope": "fhir_record", **body})
    assert res.status_code == 201, res.get_json()
    return res.get_json()


def _resources(doc: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind]


def _codings(element: dict) -> set[str]:
    return {c["code"] for c in element.get("coding", [])}


def test_the_bundle_validates_and_holds_every_resource(app, db, create_user, clock):
    r = treated(db, create_user)
    doc, bundle = _bundle(login(app, r.patient), r.patient.id)
    assert bundle.type == "collection"
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Patient") == 1
    assert kinds.count("QuestionnaireResponse") == 4
    assert kinds.count("Appointment") == 1          # the consult of `ready`
    assert kinds.count("MedicationRequest") == 2    # both versions
    assert kinds.count("Observation") == 1
    # every reference resolves inside the bundle
    full_urls = {e["fullUrl"] for e in doc["entry"]}
    references = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                references.add(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([e["resource"] for e in doc["entry"]])
    assert references and references <= full_urls
    # each entry's fullUrl names its resource
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in doc["entry"])
    for (kind, element), allowed in REQUIRED_CODES.items():
        for resource in _resources(doc, kind):
            assert resource[element] in allowed, (kind, element, resource[element])
    [patient] = _resources(doc, "Patient")
    profile = r.patient.patient_profile
    assert patient["birthDate"] == "1985-05-17"
    assert patient["name"][0]["family"] == profile.legal_last_name


def test_questionnaire_responses_carry_loinc_answers_and_totals(app, db, create_user, clock):
    r = treated(db, create_user)
    _share(app, r)
    doc, _ = _bundle(login(app, r.physician), r.patient.id)
    responses = _resources(doc, "QuestionnaireResponse")
    phq9 = [q for q in responses if q["questionnaire"] == "http://loinc.org/q/44249-1"]
    gad7 = [q for q in responses if q["questionnaire"] == "http://loinc.org/q/69737-5"]
    assert len(phq9) == 2 and len(gad7) == 2
    assert {t["code"] for q in phq9 for t in q["meta"]["tag"]} == {"44249-1"}
    assert {t["code"] for q in gad7 for t in q["meta"]["tag"]} == {"69737-5"}
    baseline = min(phq9, key=lambda q: q["authored"])
    items = {i["linkId"]: i for i in baseline["item"]}
    assert len(items) == 10                                    # nine answers and the total
    assert items["44261-6"]["answer"] == [{"valueInteger": 16}]
    assert items["44250-9"]["answer"][0]["valueCoding"]["code"] == "LA6570-1"   # 2: more than half the days
    assert items["44260-8"]["answer"][0]["valueCoding"]["code"] == "LA6568-5"   # item 9: not at all
    latest_gad7 = max(gad7, key=lambda q: q["authored"])
    totals = {i["linkId"]: i["answer"][0] for i in latest_gad7["item"] if i["linkId"] == "70274-6"}
    assert totals == {"70274-6": {"valueInteger": 4}}
    assert len(latest_gad7["item"]) == 8


def _third_version(db, v2, *, signed_at):
    """Version 3 of the patient's prescription, superseding `v2` (written directly)."""
    v2.status, v2.superseded_at = PrescriptionStatus.SUPERSEDED, now()
    v3 = Prescription(patient_id=v2.patient_id, physician_id=v2.physician_id, lineage_id=v2.lineage_id, version=3,
                      supersedes_id=v2.id, medication="ketamine", form=DosageForm.TROCHE, strength_mg=100,
                      dose_per_session_mg=200, sessions=6, refills=3, directions="Hold in the cheek.",
                      diagnosis_code="F33.2", refills_until=v2.refills_until,
                      encounter_appointment_id=v2.encounter_appointment_id, license_state="NY",
                      license_number="NY1", dea_number="AB1234563", signed_at=signed_at)
    db.session.add(v3)
    return v3


def test_prescription_versions_chain_with_prior_prescription(app, db, create_user, clock):
    r = treated(db, create_user)
    # a third version, so the chain has two links
    v2 = r.current
    v3 = _third_version(db, v2, signed_at=now() + timedelta(minutes=1))
    db.session.commit()
    _share(app, r)
    doc, _ = _bundle(login(app, r.physician), r.patient.id)
    requests = {int(m["identifier"][0]["value"]): m for m in _resources(doc, "MedicationRequest")}
    assert len(requests) == 3
    first, second, third = (requests[i] for i in (r.prescription.id, v2.id, v3.id))
    urls = {m["id"]: f"urn:uuid:{m['id']}" for m in requests.values()}
    assert "priorPrescription" not in first
    assert second["priorPrescription"]["reference"] == urls[first["id"]]
    assert third["priorPrescription"]["reference"] == urls[second["id"]]
    assert [m["status"] for m in (first, second, third)] == ["stopped", "stopped", "active"]
    assert first["statusReason"]["text"] == "Replaced by version 2"
    assert len({m["groupIdentifier"]["value"] for m in (first, second, third)}) == 1   # one lineage
    assert third["dispenseRequest"]["numberOfRepeatsAllowed"] == 3
    assert second["dispenseRequest"]["numberOfRepeatsAllowed"] == 1
    assert third["dosageInstruction"][0]["text"] == "Hold in the cheek."
    assert third["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 200
    assert third["requester"]["reference"] in {e["fullUrl"] for e in doc["entry"]
                                                if e["resource"]["resourceType"] == "Practitioner"}


def test_blood_pressure_is_a_loinc_panel_in_mm_hg(app, db, create_user, clock):
    r = treated(db, create_user)
    doc, _ = _bundle(login(app, r.patient), r.patient.id)
    [bp] = _resources(doc, "Observation")
    assert _codings(bp["code"]) == {"85354-9"}
    assert _codings(bp["category"][0]) == {"vital-signs"}
    values = {next(iter(_codings(c["code"]))): c["valueQuantity"] for c in bp["component"]}
    assert values["8480-6"]["value"] == 128 and values["8462-4"]["value"] == 82
    assert {v["code"] for v in values.values()} == {"mm[Hg]"} and {v["unit"] for v in values.values()} == {"mm[Hg]"}
    [practitioner] = _resources(doc, "Practitioner")
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": r.physician.physician_profile.npi} in \
        practitioner["identifier"]


def test_a_resource_breaking_the_specification_fails_the_export(app, db, create_user, clock, monkeypatch):
    # Each resource is built with the fhir.resources models: an empty code is not a FHIR code, so
    # the export raises instead of handing out an invalid document.
    r = treated(db, create_user)
    monkeypatch.setattr(fhir_export, "BP_SYSTOLIC", ("", "Systolic blood pressure"))
    with app.test_request_context(), pytest.raises(ValidationError):
        fhir_export.build_bundle(r.patient.id)


def test_exports_are_stable_and_audited(app, db, create_user, clock):
    r = treated(db, create_user)
    release = _share(app, r)
    client = login(app, r.physician)
    first, _ = _bundle(client, r.patient.id)
    second, _ = _bundle(client, r.patient.id)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export",
                                                         AuditEvent.resource_type == "fhir_bundle")).all()
    assert [(e.actor_id, e.patient_id, e.resource_id) for e in events] == \
        [(r.physician.id, r.patient.id, str(release["id"]))] * 2          # under the release
    assert "MedicationRequest" in events[0].fields


@pytest.mark.parametrize("who, status", CLINICAL_ACCESS)
def test_who_may_export(app, db, create_user, clock, who, status):
    r = treated(db, create_user)
    _share(app, r)
    actor = actor_for(db, create_user, r, who)
    res = login(app, actor).get(f"/api/v1/patients/{r.patient.id}/fhir")
    assert res.status_code == status
    exported = db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "export")).all()
    assert exported == ([actor.id] if status == 200 else [])
    if who == "physician_not_on_team":
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "denied")).all()
        assert [e.actor_id for e in denied] == [actor.id]


def test_a_patient_with_nothing_yet_exports_a_valid_bundle(app, db, create_user):
    patient = create_user("patient")
    with app.test_request_context():
        bundle = fhir_export.build_bundle(patient.id)
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds == ["Patient"]
    Bundle.model_validate_json(fhir_export.to_json(bundle))


# --------------------------------------------------------------------------- consent for the physician's export


def _audits(db, action: str):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.resource_type == "fhir_bundle")).all()


def test_a_physician_exports_only_under_an_active_fhir_release(app, db, create_user, clock):
    r = treated(db, create_user)
    doctor = login(app, r.physician)
    url = f"/api/v1/patients/{r.patient.id}/fhir"
    res = doctor.get(url)
    assert res.status_code == 409
    assert error_of(res)["code"] == "no_active_release" and "not authorized" in error_of(res)["message"]
    [refused] = _audits(db, "refused")
    assert (refused.actor_id, refused.patient_id) == (r.physician.id, r.patient.id)
    assert _audits(db, "export") == []
    # a release of the progress report does not share the FHIR record
    assert login(app, r.patient).post("/api/v1/me/releases", json={}).get_json()["scope"] == "progress_report"
    assert doctor.get(url).status_code == 409
    release = _share(app, r, valid_days=30)
    assert "FHIR" in release["wording"] and "prescriptions" in release["wording"]
    assert doctor.get(url).status_code == 200
    clock.shift(timedelta(days=30))                                        # expired
    res = doctor.get(url)
    assert res.status_code == 409 and "expired" in error_of(res)["message"]
    again = _share(app, r)
    assert doctor.get(url).status_code == 200
    assert login(app, r.patient).post(f"/api/v1/me/releases/{again['id']}/revoke", json={}).status_code == 200
    res = doctor.get(url)
    assert res.status_code == 409 and "revoked" in error_of(res)["message"]
    assert [e.resource_id for e in _audits(db, "export")] == [str(release["id"]), str(again["id"])]


def test_the_patients_own_export_needs_no_release(app, db, create_user, clock):
    r = treated(db, create_user)
    client = login(app, r.patient)
    assert client.get(f"/api/v1/patients/{r.patient.id}/fhir").status_code == 200
    assert client.get("/api/v1/me/record?format=fhir").status_code == 200
    assert [(e.actor_id, e.resource_id) for e in _audits(db, "export")] == [(r.patient.id, str(r.patient.id))] * 2
    assert _audits(db, "refused") == []


# --------------------------------------------------------------------------- details


def test_the_validity_period_starts_on_the_patients_local_day_of_signing(app, db, create_user, clock):
    r = treated(db, create_user)
    v2 = r.current
    # signed at 22:30 in New York on March 1, which is already March 2 in UTC
    v3 = _third_version(db, v2, signed_at=datetime(2026, 3, 2, 3, 30, tzinfo=UTC))
    db.session.commit()
    doc, _ = _bundle(login(app, r.patient), r.patient.id)
    [current] = [m for m in _resources(doc, "MedicationRequest") if m["status"] == "active"]
    period = current["dispenseRequest"]["validityPeriod"]
    assert period == {"start": "2026-03-01", "end": v3.refills_until.isoformat()}


def test_a_screening_measure_is_read_with_the_instrument_version_it_answered(app, db, create_user, clock,
                                                                             monkeypatch):
    # A screening-sourced measure stores the screening questionnaire's version; a screening v2 (still
    # asking PHQ-9 v1 and GAD-7 v1) must not send the export looking for a PHQ-9 v2 that does not exist.
    r = treated(db, create_user)
    v1 = questionnaires.get_questionnaire("screening", 1)
    monkeypatch.setitem(questionnaires._QUESTIONNAIRES, ("screening", 2), dataclasses.replace(v1, version=2))
    with pytest.raises(KeyError):
        questionnaires.get_instrument("phq9", 2)
    answers = {f"q{i}": 3 for i in range(1, 10)} | {"q9": 0}
    db.session.add(Measure(patient_id=r.patient.id, instrument="phq9", questionnaire_version=2, answers=answers,
                           total=24, band="severe", taken_at=now() - timedelta(days=30), source="screening"))
    db.session.commit()
    doc, _ = _bundle(login(app, r.patient), r.patient.id)
    screening = min((q for q in _resources(doc, "QuestionnaireResponse")
                     if q["questionnaire"] == "http://loinc.org/q/44249-1"), key=lambda q: q["authored"])
    items = {i["linkId"]: i for i in screening["item"]}
    assert items["44261-6"]["answer"] == [{"valueInteger": 24}]
    assert items["44250-9"]["answer"][0]["valueCoding"]["code"] == "LA6571-9"   # 3: nearly every day
    assert items["44250-9"]["text"] == questionnaires.get_instrument("phq9", 1).questions[0].text
    # a retake stores the instrument's own version
    assert fhir_export.instrument_version(Measure(instrument="gad7", questionnaire_version=1, source="retake")) == 1
