"""Prescriptions: signing, superseding, reading."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.pharmacy.prescriptions import (
    PrescriptionListOut, PrescriptionOut, SignPrescriptionIn, prescription_out,
)
from telehealth.services.pharmacy import prescriptions

bp = Blueprint("prescriptions", __name__, url_prefix="/api/v1")
PHYSICIAN = (Role.PHYSICIAN,)


def _terms(body: SignPrescriptionIn) -> prescriptions.PrescriptionTerms:
    return prescriptions.PrescriptionTerms(**body.terms())


@bp.post("/patients/<int:patient_id>/prescriptions")
@endpoint("Sign a prescription (every Schedule III precondition is checked; a fresh second factor is required)",
          tags=["prescriptions"], auth=PHYSICIAN, body=SignPrescriptionIn, response=PrescriptionOut, status=201,
          errors=(409, 423))
def sign(patient_id: int, body: SignPrescriptionIn):
    return prescription_out(prescriptions.sign(current_user, patient_id, _terms(body),
                                               second_factor_code=body.second_factor_code))


@bp.post("/prescriptions/<int:prescription_id>/versions")
@endpoint("Change a prescription: a new signed version supersedes it (a signed one is never edited)",
          tags=["prescriptions"], auth=PHYSICIAN, body=SignPrescriptionIn, response=PrescriptionOut, status=201,
          errors=(409, 423))
def supersede(prescription_id: int, body: SignPrescriptionIn):
    return prescription_out(prescriptions.supersede(current_user, prescription_id, _terms(body),
                                                    second_factor_code=body.second_factor_code))


@bp.get("/patients/<int:patient_id>/prescriptions")
@endpoint("A patient's prescriptions, every version, newest first (the patient and their physicians)",
          tags=["prescriptions"], auth=(Role.PATIENT, Role.PHYSICIAN), response=PrescriptionListOut)
def list_for_patient(patient_id: int):
    return PrescriptionListOut(items=[prescription_out(p) for p in prescriptions.for_patient(current_user, patient_id)])
