"""What a prescriber sees before signing or changing a prescription, and a prescription's stages,
read from the rules in `prescriptions` and `shipments` (none is restated here).

The checklist is `prescriptions.preconditions`, the very list `sign` refuses from, plus the one
conflict `sign` and `supersede` check first (a second active prescription, an old version): what
the page ticks is what signing accepts, and a cross is the refusal's own words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from telehealth.clock import today_in
from telehealth.errors import NotFound
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PhysicianLicense, User
from telehealth.models.pharmacy.prescriptions import Prescription, PrescriptionStatus
from telehealth.models.pharmacy.shipments import Shipment, ShipmentStatus
from telehealth.models.scheduling.scheduling import Appointment
from telehealth.services.accounts.care_team import get_patient
from telehealth.services.pharmacy import prescriptions, shipments
from telehealth.services.pharmacy.prescriptions import Precondition
from telehealth.services.platform import audit
from telehealth.services.platform.authz import Scope, authorize_patient


def patient_name(patient: User) -> str:
    profile = patient.patient_profile
    return f"{profile.legal_first_name} {profile.legal_last_name}" if profile else patient.display_name


@dataclass(frozen=True)
class Checklist:
    patient: User
    patient_name: str
    state: str                       # the patient's state of residence
    items: list[Precondition]
    encounter: Appointment | None    # the recorded video consult the prescription will name
    license: PhysicianLicense | None
    dea_number: str | None
    dea_expires_on: date | None
    active: Prescription | None      # the patient's current version, if any
    changing: Prescription | None    # the version being changed (the change page), else None
    refills_until: date              # refills ship until then: 6 months from signing, kept by a new version
    max_refills: int

    @property
    def ready(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def failing(self) -> list[Precondition]:
        return [item for item in self.items if not item.ok]


def _checklist(physician: User, patient: User, changing: Prescription | None) -> Checklist:
    today = today_in(patient.time_zone)
    state = patient.patient_profile.state_of_residence
    items, encounter = prescriptions.preconditions(physician, patient, today)
    active = prescriptions.active_prescription(patient.id)
    if changing is None:
        current = Precondition("current", "No other active prescription for the patient", active is None,
                               None if active is None else prescriptions.ALREADY_ACTIVE)
    else:
        is_current = changing.status is PrescriptionStatus.ACTIVE
        current = Precondition("current", "The version you change is the current one", is_current,
                               None if is_current else prescriptions.NOT_CURRENT)
    profile = physician.physician_profile
    refills_until = (changing.refills_until if changing is not None
                     else prescriptions.add_months(today, prescriptions.REFILL_WINDOW_MONTHS))
    audit.record(physician, "read", "prescribing_checklist", patient.id, patient_id=patient.id)
    db.session.commit()
    return Checklist(patient=patient, patient_name=patient_name(patient), state=state, items=[current, *items],
                     encounter=encounter, license=profile.license_for(state, today) if profile else None,
                     dea_number=profile.dea_number if profile else None,
                     dea_expires_on=profile.dea_expires_on if profile else None, active=active, changing=changing,
                     refills_until=refills_until, max_refills=prescriptions.MAX_REFILLS)


def signing_checklist(physician: User, patient_id: int) -> Checklist:
    """Before a first prescription: every precondition, met or with the reason it is not (the
    patient's physicians only: a clinical read, audited)."""
    patient = get_patient(patient_id, require_profile=True)
    authorize_patient(physician, patient.id, Scope.CLINICAL, not_found="No such patient.")
    return _checklist(physician, patient, None)


def _prescription(physician: User, prescription_id: int) -> Prescription:
    prescription = db.session.get(Prescription, prescription_id)
    if prescription is None:
        raise NotFound("No such prescription.")
    authorize_patient(physician, prescription.patient_id, Scope.CLINICAL, not_found="No such prescription.")
    return prescription


def change_checklist(physician: User, prescription_id: int) -> Checklist:
    """Before a new version of `prescription_id`: the same checklist, the version shown beside it."""
    prescription = _prescription(physician, prescription_id)
    return _checklist(physician, get_patient(prescription.patient_id), prescription)


# ------------------------------------------------------------------ stages

STAGES_PER_PAGE = 10


@dataclass(frozen=True)
class StageList:
    prescription: Prescription       # the version asked for
    current: Prescription | None     # the lineage's active version (stages are sent from it)
    patient_name: str
    shipments: list[Shipment]        # this page, latest stage first
    page: int
    pages: int
    sessions_sent: int               # live stages (not cancelled or returned), across every version
    sessions_allowed: int            # the current version's sessions with its refills
    latest: Shipment | None          # the last live stage: the one a physician releases the next from
    send_refusal: str | None = None     # why no stage can be sent now (`shipments.next_stage_refusal`)
    release_refusal: str | None = None  # why `latest` cannot be released now (`shipments.release_refusal`)

    @property
    def sessions_left(self) -> int:
        return max(0, self.sessions_allowed - self.sessions_sent)


def stage_list(physician: User, prescription_id: int, page: int = 1) -> StageList:
    """Every stage of a prescription's lineage (stages count across versions), paged, with the
    sessions sent and left; the patient's physicians only (audited)."""
    prescription = _prescription(physician, prescription_id)
    versions = prescriptions.versions_of(prescription.lineage)
    current = db.session.scalar(select(Prescription).where(Prescription.id.in_(versions),
                                                           Prescription.status == PrescriptionStatus.ACTIVE))
    live = Shipment.status.not_in((ShipmentStatus.CANCELLED, ShipmentStatus.RETURNED))
    count, sent = db.session.execute(select(func.count(Shipment.id), func.coalesce(
        func.sum(Shipment.sessions).filter(live), 0)).where(Shipment.prescription_id.in_(versions))).one()
    pages = max(1, -(-count // STAGES_PER_PAGE))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(select(Shipment).where(Shipment.prescription_id.in_(versions))
                                   .order_by(Shipment.stage.desc(), Shipment.id.desc())
                                   .offset((page - 1) * STAGES_PER_PAGE).limit(STAGES_PER_PAGE)))
    latest = db.session.scalar(select(Shipment).where(Shipment.prescription_id.in_(versions), live)
                               .order_by(Shipment.stage.desc(), Shipment.id.desc()).limit(1))
    patient = db.session.get(User, prescription.patient_id)
    # The very refusals sending and releasing raise, so the page offers only what would succeed.
    send_refused = shipments.next_stage_refusal(physician, current) if current else None
    release_refused = shipments.release_refusal(latest) if latest is not None else None
    audit.record(physician, "read", "shipments", prescription.id, patient_id=patient.id)
    db.session.commit()
    return StageList(prescription=prescription, current=current, patient_name=patient_name(patient), shipments=rows,
                     page=page, pages=pages, sessions_sent=sent,
                     sessions_allowed=current.total_sessions if current else 0, latest=latest,
                     send_refusal=send_refused.message if send_refused else None,
                     release_refusal=release_refused.message if release_refused else None)
