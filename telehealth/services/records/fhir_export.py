"""The patient's record as a FHIR R4 Bundle (type `collection`), for their own providers and for the
patient to take with them.

Resources: Patient; Practitioner (each physician or coach referred to, physicians with their NPI);
QuestionnaireResponse for every PHQ-9 (LOINC panel 44249-1) and GAD-7 (LOINC panel 69737-5), with
each item's answer (LOINC answer codes) and the total score; Appointment for consults, follow-ups and
coaching; MedicationRequest for every prescription version (a superseded one is `stopped`, and the
version that replaced it points back to it with `priorPrescription`; `groupIdentifier` is the
lineage); Observation for every blood-pressure reading (LOINC 85354-9, components 8480-6 systolic
and 8462-4 diastolic, in mm[Hg]).

Every resource is built with the `fhir.resources` models (the R4B package: identical to R4 for every
resource used here), so a resource that does not validate raises at once: that is a bug, and the
tests parse the whole bundle back. The patient exports their own record at any time; a physician
on the care team only under the patient's active `fhir_record` release (`export`). Ids are stable: `urn:uuid:` names derived from the record's own
ids, so exporting twice gives the same references.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from telehealth import questionnaires
from telehealth.clock import local_day, now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.screening.assessments import Measure
from telehealth.models.home_care.home_sessions import BloodPressureReading
from telehealth.models.pharmacy.prescriptions import Prescription, PrescriptionStatus
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.models.records.releases import ReleaseScope
from telehealth.services.home_care import treatment_oversight
from telehealth.services.platform import audit
from telehealth.services.records import releases
from telehealth.services.screening.assessments import SCREENING
from telehealth.services.platform.authz import Scope, authorize_patient, require_role
from telehealth.services.accounts.care_team import get_patient

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
APPOINTMENT_REASON = "http://terminology.hl7.org/CodeSystem/v2-0276"
EXPORTERS = (Role.PATIENT, Role.PHYSICIAN)

# The published LOINC panels, their items in our questionnaires' order, and the total score.
INSTRUMENTS = {
    "phq9": {
        "panel": ("44249-1", "PHQ-9 quick depression assessment panel"),
        "items": ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"),
        "total": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score"),
    },
    "gad7": {
        "panel": ("69737-5", "Generalized anxiety disorder 7 item (GAD-7)"),
        "items": ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
        "total": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score"),
    },
}
# LOINC answer list LL358-3 (frequency over the last two weeks), by the score each answer carries.
FREQUENCY_ANSWERS = {0: ("LA6568-5", "Not at all"), 1: ("LA6569-3", "Several days"),
                     2: ("LA6570-1", "More than half the days"), 3: ("LA6571-9", "Nearly every day")}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_SYSTOLIC = ("8480-6", "Systolic blood pressure")
BP_DIASTOLIC = ("8462-4", "Diastolic blood pressure")

# Our states as FHIR codes (each from the element's required value set).
APPOINTMENT_STATUS = {AppointmentStatus.BOOKED: "booked", AppointmentStatus.CANCELLED: "cancelled",
                      AppointmentStatus.COMPLETED: "fulfilled", AppointmentStatus.NO_SHOW: "noshow"}
# A superseded version is `stopped` (halted before all of it was used), with the reason; the
# medicationrequest-status value set has no "replaced".
PRESCRIPTION_STATUS = {PrescriptionStatus.ACTIVE: "active", PrescriptionStatus.SUPERSEDED: "stopped"}
APPOINTMENT_KIND = {"consult": ("ROUTINE", "Initial physician consult"),
                    "follow_up": ("FOLLOWUP", "Physician follow-up"),
                    "coaching_30": ("ROUTINE", "Integration coaching, 30 minutes"),
                    "coaching_60": ("ROUTINE", "Integration coaching, 60 minutes")}
FORM_UNIT = {"sublingual_tablet": ("tablet", "sublingual"), "troche": ("troche", "buccal")}


class _Ids:
    """Stable urn:uuid names for the records of one deployment."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.base}/fhir")

    def id(self, kind: str, key: object) -> str:
        return str(uuid.uuid5(self.namespace, f"{kind}/{key}"))

    def ref(self, kind: str, key: object, display: str | None = None) -> dict:
        ref = {"reference": f"urn:uuid:{self.id(kind, key)}"}
        if display:
            ref["display"] = display
        return ref

    def identifier(self, kind: str, key: object) -> dict:
        return {"system": f"{self.base}/fhir/sid/{kind.lower()}", "value": str(key)}


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def _coding(system: str, code_display: tuple[str, str]) -> dict:
    return {"system": system, "code": code_display[0], "display": code_display[1]}


def _mmhg(value: int) -> dict:
    return {"value": value, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}


# ----------------------------------------------------------------------------- resources


def patient_resource(ids: _Ids, patient: User) -> Patient:
    p = patient.patient_profile
    address = p.shipping_address or {}
    data = {
        "id": ids.id("Patient", patient.id), "identifier": [ids.identifier("Patient", patient.id)], "active": True,
        "name": [{"use": "official", "family": p.legal_last_name, "given": [p.legal_first_name],
                  "text": f"{p.legal_first_name} {p.legal_last_name}"}],
        "telecom": [{"system": "phone", "value": p.phone_e164, "use": "mobile"},
                    {"system": "email", "value": patient.email}],
        "birthDate": p.date_of_birth.isoformat(),
        "address": [{"use": "home", "type": "postal",
                     "line": [x for x in (address.get("line1"), address.get("line2")) if x],
                     "city": address.get("city"), "state": address.get("state"),
                     "postalCode": address.get("postal_code"), "country": "US"}] if address else None,
    }
    contact = p.emergency_contact or {}
    if contact.get("name"):
        data["contact"] = [{"relationship": [{"text": f"Emergency contact ({contact.get('relationship', '')})".replace(
            " ()", "")}], "name": {"text": contact["name"]},
            "telecom": [{"system": "phone", "value": contact["phone"]}] if contact.get("phone") else None}]
    return Patient(**data)


def practitioner_resource(ids: _Ids, staff: User) -> Practitioner:
    data = {"id": ids.id("Practitioner", staff.id), "identifier": [ids.identifier("Practitioner", staff.id)],
            "active": staff.active, "name": [{"text": staff.display_name}]}
    if staff.physician_profile is not None:
        data["identifier"].append({"system": NPI, "value": staff.physician_profile.npi})
    return Practitioner(**data)


def instrument_version(measure: Measure) -> int:
    """The version of the PHQ-9 / GAD-7 instrument the measure's answers are to. A retake stores the
    instrument's own version; a screening-sourced measure stores the screening questionnaire's
    version (services/screening/assessments._record_measures), whose section names the instrument version."""
    if measure.source != "screening":
        return measure.questionnaire_version
    screening = questionnaires.get_questionnaire(SCREENING, measure.questionnaire_version)
    return next(s.instrument_version for s in screening.sections if s.instrument == measure.instrument)


def questionnaire_response(ids: _Ids, patient: User, measure: Measure) -> QuestionnaireResponse:
    spec = INSTRUMENTS[measure.instrument]
    instrument = questionnaires.get_instrument(measure.instrument, instrument_version(measure))
    items = []
    for question, loinc in zip(instrument.questions, spec["items"], strict=True):
        value = (measure.answers or {}).get(question.id)
        item = {"linkId": loinc, "text": question.text}
        if value is not None:
            code, display = FREQUENCY_ANSWERS[int(value)]
            item["answer"] = [{"valueCoding": {"system": LOINC, "code": code, "display": display}}]
        items.append(item)
    total_code, total_text = spec["total"]
    items.append({"linkId": total_code, "text": total_text,
                  "answer": [{"valueInteger": measure.total}]})
    subject = ids.ref("Patient", patient.id)
    return QuestionnaireResponse(
        id=ids.id("QuestionnaireResponse", measure.id), identifier=ids.identifier("Measure", measure.id),
        meta={"tag": [_coding(LOINC, spec["panel"])]},
        questionnaire=f"{LOINC}/q/{spec['panel'][0]}", status="completed", subject=subject,
        authored=_instant(measure.taken_at), author=subject, source=subject, item=items)


def appointment_resource(ids: _Ids, appointment: Appointment, provider: User) -> FhirAppointment:
    reason, name = APPOINTMENT_KIND.get(appointment.appointment_type,
                                        ("ROUTINE", appointment.appointment_type.replace("_", " ")))
    status = APPOINTMENT_STATUS[appointment.status]
    participation = "declined" if status == "cancelled" else "accepted"
    return FhirAppointment(
        id=ids.id("Appointment", appointment.id), identifier=[ids.identifier("Appointment", appointment.id)],
        status=status, appointmentType={"coding": [{"system": APPOINTMENT_REASON, "code": reason}], "text": name},
        serviceType=[{"coding": [{"system": f"{ids.base}/fhir/CodeSystem/appointment-type",
                                  "code": appointment.appointment_type}], "text": name}],
        description=name, start=_instant(appointment.starts_at), end=_instant(appointment.ends_at),
        minutesDuration=int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        created=_instant(appointment.created_at),
        participant=[{"actor": ids.ref("Patient", appointment.patient_id), "required": "required",
                      "status": participation},
                     {"actor": ids.ref("Practitioner", provider.id, provider.display_name), "required": "required",
                      "status": participation}])


def medication_request(ids: _Ids, rx: Prescription, physician: User, replaced_by: Prescription | None,
                       zone: str) -> MedicationRequest:
    """`zone`: the patient's; the validity period runs from the local day of signing to
    `refills_until` (itself a local date), so both ends are days of the same calendar."""
    unit, route = FORM_UNIT.get(str(rx.form), (str(rx.form).replace("_", " "), None))
    units_per_session = rx.dose_per_session_mg // rx.strength_mg
    data = {
        "id": ids.id("MedicationRequest", rx.id),
        "identifier": [ids.identifier("Prescription", rx.id)],
        "groupIdentifier": ids.identifier("PrescriptionLineage", rx.lineage),
        "status": PRESCRIPTION_STATUS[rx.status], "intent": "order",
        "medicationCodeableConcept": {"text": f"{rx.medication} {rx.strength_mg} mg {str(rx.form).replace('_', ' ')}"},
        "subject": ids.ref("Patient", rx.patient_id),
        "authoredOn": _instant(rx.signed_at),
        "requester": ids.ref("Practitioner", physician.id, physician.display_name),
        "reasonCode": [{"coding": [{"system": ICD10CM, "code": rx.diagnosis_code}]}],
        "note": [{"text": f"Version {rx.version} of this prescription; {rx.sessions} sessions."}],
        "dosageInstruction": [{
            "sequence": 1, "text": rx.directions,
            "route": {"text": route} if route else None,
            "doseAndRate": [{"doseQuantity": {"value": rx.dose_per_session_mg, "unit": "mg", "system": UCUM,
                                              "code": "mg"}}],
        }],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": rx.refills,
            "quantity": {"value": rx.sessions * units_per_session, "unit": unit},
            "validityPeriod": {"start": local_day(rx.signed_at, zone).isoformat(), "end": rx.refills_until.isoformat()},
        },
    }
    if rx.supersedes_id is not None:
        data["priorPrescription"] = ids.ref("MedicationRequest", rx.supersedes_id)
    if rx.status == PrescriptionStatus.SUPERSEDED:
        reason = f"Replaced by version {replaced_by.version}" if replaced_by is not None else "Replaced"
        data["statusReason"] = {"text": reason}
    return MedicationRequest(**data)


def blood_pressure(ids: _Ids, reading: BloodPressureReading) -> Observation:
    return Observation(
        id=ids.id("Observation", f"bp-{reading.id}"), identifier=[ids.identifier("BloodPressureReading", reading.id)],
        status="final",
        category=[{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
        code={"coding": [_coding(LOINC, BP_PANEL)], "text": "Blood pressure"},
        subject=ids.ref("Patient", reading.patient_id), effectiveDateTime=_instant(reading.taken_at),
        performer=[ids.ref("Patient", reading.patient_id)],
        method={"text": f"Self-measured at home, reported by {'text message' if reading.source.value == 'sms' else 'app'}"},
        component=[{"code": {"coding": [_coding(LOINC, BP_SYSTOLIC)]}, "valueQuantity": _mmhg(reading.systolic)},
                   {"code": {"coding": [_coding(LOINC, BP_DIASTOLIC)]}, "valueQuantity": _mmhg(reading.diastolic)}])


# ----------------------------------------------------------------------------- the bundle


def build_bundle(patient_id: int) -> Bundle:
    """The whole FHIR record of a patient (no authorization here: see `export`)."""
    patient = get_patient(patient_id, require_profile=True)
    ids = _Ids(current_app.config.get("PUBLIC_BASE_URL") or "http://localhost")
    measures = db.session.scalars(select(Measure).where(
        Measure.patient_id == patient_id, Measure.instrument.in_(list(INSTRUMENTS)))
        .order_by(Measure.taken_at, Measure.id))
    appointments = list(db.session.scalars(select(Appointment).where(Appointment.patient_id == patient_id)
                                           .order_by(Appointment.starts_at, Appointment.id)))
    prescriptions = list(db.session.scalars(select(Prescription).where(Prescription.patient_id == patient_id)
                                            .order_by(Prescription.signed_at, Prescription.id)))
    readings = treatment_oversight.readings(patient_id)
    staff_ids = {a.provider_id for a in appointments} | {rx.physician_id for rx in prescriptions}
    staff = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(staff_ids))
                                                 .options(selectinload(User.physician_profile)))} if staff_ids else {}
    replaced_by = {rx.supersedes_id: rx for rx in prescriptions if rx.supersedes_id is not None}

    resources = [patient_resource(ids, patient)]
    resources += [practitioner_resource(ids, staff[i]) for i in sorted(staff)]
    resources += [questionnaire_response(ids, patient, m) for m in measures]
    resources += [appointment_resource(ids, a, staff[a.provider_id]) for a in appointments]
    resources += [medication_request(ids, rx, staff[rx.physician_id], replaced_by.get(rx.id), patient.time_zone)
                  for rx in prescriptions]
    resources += [blood_pressure(ids, r) for r in readings]
    return Bundle(
        id=str(uuid.uuid4()), identifier=ids.identifier("Export", f"{patient_id}-{now().timestamp():.0f}"),
        type="collection", timestamp=_instant(now()),
        entry=[{"fullUrl": f"urn:uuid:{r.id}", "resource": r} for r in resources])


def export(actor: User, patient_id: int) -> Bundle:
    """The patient themself (their own copy, at any time), or a physician on their care team under
    the patient's active `fhir_record` release (issue 8: shared "with the patient's recorded
    consent"); without one, 409 `no_active_release` with the reason, audited as a refusal. Audited:
    the patient's own export under the patient's id, a physician's under the release's id."""
    require_role(actor, EXPORTERS)
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    resource_id: int = patient_id
    if actor.role is Role.PHYSICIAN:
        with releases.refusal_audited(actor, "fhir_bundle", None, patient_id):
            resource_id = releases.usable_release(patient_id, ReleaseScope.FHIR_RECORD).id
    bundle = build_bundle(patient_id)
    audit.record(actor, "export", "fhir_bundle", resource_id, patient_id=patient_id,
                 fields=sorted({e.resource.get_resource_type() for e in bundle.entry}))
    db.session.commit()
    return bundle


def to_json(bundle: Bundle) -> str:
    return bundle.model_dump_json()
