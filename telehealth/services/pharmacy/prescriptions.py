"""Prescribing ketamine (Schedule III): every legal precondition checked at signing, the record
immutable, changes made as a new version that supersedes the old.

A physician may sign only for a patient with an approved screening, after a completed and recorded
video consult with that physician, holding a license in the patient's state valid today and a
recorded, unexpired DEA registration; refills are at most 5, within 6 months.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from telehealth.clock import now, today_in
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, ReviewStatus
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.pharmacy.prescriptions import DosageForm, Prescription, PrescriptionStatus
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient
from telehealth.services.billing.billing_documents import normalize_icd10
from telehealth.services.accounts import two_factor
from telehealth.services.accounts.care_team import get_patient

REFILL_WINDOW_MONTHS = 6
MAX_REFILLS = 5  # Schedule III: at most 5 refills, within REFILL_WINDOW_MONTHS (the API's schema says so too)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PrescribingRefused(Conflict):
    code = "prescribing_not_allowed"


# Said when a second supply would start, and when an old version is changed (the checklist says it too).
ALREADY_ACTIVE = "This patient already has an active prescription: change it with a new version."
NOT_CURRENT = "Only the current version can be changed."


@dataclass(frozen=True)
class PrescriptionTerms:
    medication: str
    form: str
    strength_mg: int
    dose_per_session_mg: int
    sessions: int
    refills: int
    directions: str
    diagnosis_code: str


@dataclass(frozen=True)
class Precondition:
    """One Schedule III precondition as a prescriber's checklist shows it: `label` says what must
    hold, `reason` (None when it holds) is the signing refusal's own words for it."""

    key: str
    label: str
    ok: bool
    reason: str | None = None


def preconditions(physician: User, patient: User, today: date) -> tuple[list[Precondition], Appointment | None]:
    """Every precondition of signing, met or not (in the order a prescriber checks them), and the
    consult encounter when there is one. `refusals` (what `sign` refuses with) is read from this,
    so a checklist built on it and the refusal can never disagree."""
    approved = db.session.scalar(select(Assessment.id).where(
        Assessment.patient_id == patient.id, Assessment.status == AssessmentStatus.SUBMITTED,
        Assessment.review_status == ReviewStatus.APPROVED).limit(1))
    encounter = db.session.scalar(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.provider_id == physician.id,
        Appointment.appointment_type == "consult", Appointment.status == AppointmentStatus.COMPLETED,
        Appointment.encounter_modality == "video", Appointment.encounter_ended_at.is_not(None))
        .order_by(Appointment.encounter_ended_at.desc()).limit(1))
    items = [
        Precondition("screening", "A screening approved by a physician", approved is not None,
                     None if approved is not None else "The patient has no screening approved by a physician."),
        Precondition("encounter", "A completed, recorded video consult between you and the patient",
                     encounter is not None,
                     None if encounter is not None else
                     "There is no completed, recorded video consult between you and this patient."),
    ]
    items += prescriber_preconditions(physician, patient.patient_profile.state_of_residence, today)
    return items, encounter


def refusals(physician: User, patient: User, today: date) -> tuple[list[str], Appointment | None]:
    """Every unmet precondition, in plain words, and the consult encounter when there is one."""
    items, encounter = preconditions(physician, patient, today)
    return [item.reason for item in items if not item.ok], encounter


def active_prescription(patient_id: int) -> Prescription | None:
    """The patient's current version (at most one is active)."""
    return db.session.scalar(select(Prescription).where(
        Prescription.patient_id == patient_id, Prescription.status == PrescriptionStatus.ACTIVE).limit(1))


def versions_of(lineage: int):
    """The ids of every version of a prescription lineage (a subquery): stages and sessions count
    across versions, so a new version never starts them over."""
    return select(Prescription.id).where(Prescription.lineage == lineage)


def prescriber_preconditions(physician: User, state: str, today: date) -> list[Precondition]:
    """What lets this physician prescribe (or send a controlled substance) into `state` today: a
    license there valid today and an unexpired DEA registration, both recorded."""
    profile = physician.physician_profile
    licensed = profile is not None and profile.license_for(state, today) is not None
    dea = (profile is not None and bool(profile.dea_number) and profile.dea_expires_on is not None
           and profile.dea_expires_on >= today)
    return [
        Precondition("license", f"A license valid today in the patient's state ({state})", licensed,
                     None if licensed else f"You hold no license valid today in the patient's state ({state})."),
        Precondition("dea", "A recorded DEA registration, not expired", dea,
                     None if dea else "Your DEA registration is not recorded, or has expired."),
    ]


def prescriber_refusals(physician: User, state: str, today: date) -> list[str]:
    """What keeps this physician from prescribing (or sending a controlled substance) into
    `state` today, in plain words (`prescriber_preconditions` not met)."""
    return [item.reason for item in prescriber_preconditions(physician, state, today) if not item.ok]


def sign(physician: User, patient_id: int, terms: PrescriptionTerms, *, second_factor_code: str | None,
         commit: bool = True) -> Prescription:
    """Sign, with a fresh second factor (commit=False: only flush, for a caller that writes more in
    the same transaction, such as a follow-up decision, and commits it all at once).

    The second factor is checked after every other precondition (so a refused precondition spends
    no code) and before anything is written (21 CFR 1311.140: two factors at the signing of a
    controlled-substance prescription); a missing, wrong or replayed code, or none enrolled, is
    refused (services/accounts/two_factor.py) and nothing of the prescription is written."""
    return _sign(physician, get_patient(patient_id), terms, supersedes=None, commit=commit,
                 second_factor_code=second_factor_code)


def _sign(physician: User, patient: User, terms: PrescriptionTerms, *, supersedes: Prescription | None,
          commit: bool, second_factor_code: str | None) -> Prescription:
    # One active prescription per patient: two clicks (or two physicians) must not make two supplies.
    db.session.execute(select(User.id).where(User.id == patient.id).with_for_update())
    active = active_prescription(patient.id)
    if active is not None and (supersedes is None or active.id != supersedes.id):
        raise Conflict(ALREADY_ACTIVE,
                       code="prescription_exists")
    today = today_in(patient.time_zone)
    problems, encounter = refusals(physician, patient, today)
    if problems:
        raise PrescribingRefused(" ".join(problems))
    validate_terms(terms)
    diagnosis = normalize_icd10(terms.diagnosis_code)
    two_factor.verify(physician, second_factor_code)  # the last check, before the first write
    license_ = physician.physician_profile.license_for(patient.patient_profile.state_of_residence, today)
    prescription = Prescription(
        patient_id=patient.id, physician_id=physician.id, medication=terms.medication, form=DosageForm(terms.form),
        strength_mg=terms.strength_mg, dose_per_session_mg=terms.dose_per_session_mg, sessions=terms.sessions,
        refills=terms.refills, directions=terms.directions, diagnosis_code=diagnosis, signed_at=now(),
        refills_until=supersedes.refills_until if supersedes else add_months(today, REFILL_WINDOW_MONTHS),
        encounter_appointment_id=encounter.id, license_state=license_.state,
        license_number=license_.license_number, dea_number=physician.physician_profile.dea_number,
        version=supersedes.version + 1 if supersedes else 1,
        supersedes_id=supersedes.id if supersedes else None,
        # written once, at insert: a first version has none (it is its own lineage), later versions
        # name the first version's id
        lineage_id=supersedes.lineage if supersedes else None)
    db.session.add(prescription)
    db.session.flush()
    if supersedes is not None:
        supersedes.status, supersedes.superseded_at = PrescriptionStatus.SUPERSEDED, now()
    _ensure_on_care_team(physician, patient)
    audit.record(physician, "create", "prescription", prescription.id, patient_id=patient.id)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return prescription


def _ensure_on_care_team(physician: User, patient: User) -> None:
    """The prescriber treats the patient from now on."""
    assigned = db.session.scalar(select(CareAssignment.id).where(
        CareAssignment.patient_id == patient.id, CareAssignment.staff_id == physician.id,
        CareAssignment.care_role == CareRole.PHYSICIAN, CareAssignment.ended_at.is_(None)))
    if assigned is None:
        db.session.add(CareAssignment(patient_id=patient.id, staff_id=physician.id, care_role=CareRole.PHYSICIAN))


def supersede(physician: User, prescription_id: int, terms: PrescriptionTerms, *, second_factor_code: str | None,
              commit: bool = True) -> Prescription:
    """Change a prescription: a new signed version, with a fresh second factor as at `sign`; the
    old one stays exactly as it was, superseded (commit=False: the caller commits, see `sign`)."""
    old = db.session.get(Prescription, prescription_id, with_for_update=True)
    if old is None:
        raise NotFound("No such prescription.")
    authorize_patient(physician, old.patient_id, Scope.CLINICAL)
    if old.status is not PrescriptionStatus.ACTIVE:
        raise Conflict(NOT_CURRENT)
    return _sign(physician, get_patient(old.patient_id), terms, supersedes=old, commit=commit,
                 second_factor_code=second_factor_code)


def for_patient(actor: User, patient_id: int) -> list[Prescription]:
    """Every version, newest first: the patient and their physicians (clinical data)."""
    authorize_patient(actor, patient_id, Scope.CLINICAL)
    rows = list(db.session.scalars(select(Prescription).where(Prescription.patient_id == patient_id)
                                   .order_by(Prescription.signed_at.desc(), Prescription.id.desc())))
    audit.record(actor, "read", "prescriptions", patient_id, patient_id=patient_id)
    db.session.commit()
    return rows


def validate_terms(terms: PrescriptionTerms) -> None:
    if terms.dose_per_session_mg % terms.strength_mg:
        raise ValidationFailed("A session's dose must be whole units of the strength.", fields={
            "dose_per_session_mg": ["A whole number of units of the strength (e.g. 200 with 100 mg units)."]})
