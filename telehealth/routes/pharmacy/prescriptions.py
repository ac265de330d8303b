"""Prescriptions: signing, superseding, reading."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.pharmacy.prescriptions import PrescriptionIn, PrescriptionListOut, PrescriptionOut, prescription_out
from telehealth.services.pharmacy import prescriptions

bp = Blueprint("prescriptions", __name__, url_prefix="/api/v1")
PHYSICIAN = (Role.PHYSICIAN,)


def _terms(body: PrescriptionIn) -> prescriptions.PrescriptionTerms:
    return prescriptions.PrescriptionTerms(**body.model_dump())


@bp.post("/patients/<int:patient_id>/prescriptions")
@endpoint("Sign a prescription (every Schedule III precondition is checked)", tags=["prescriptions"],
          auth=PHYSICIAN, body=PrescriptionIn, response=PrescriptionOut, status=201, errors=(409,))
def sign(patient_id: int, body: PrescriptionIn):
    return prescription_out(prescriptions.sign(current_user, patient_id, _terms(body)))


@bp.post("/prescriptions/<int:prescription_id>/versions")
@endpoint("Change a prescription: a new signed version supersedes it (a signed one is never edited)",
          tags=["prescriptions"], auth=PHYSICIAN, body=PrescriptionIn, response=PrescriptionOut, status=201,
          errors=(409,))
def supersede(prescription_id: int, body: PrescriptionIn):
    return prescription_out(prescriptions.supersede(current_user, prescription_id, _terms(body)))


@bp.get("/patients/<int:patient_id>/prescriptions")
@endpoint("A patient's prescriptions, every version, newest first (the patient and their physicians)",
          tags=["prescriptions"], auth=(Role.PATIENT, Role.PHYSICIAN), response=PrescriptionListOut)
def list_for_patient(patient_id: int):
    return PrescriptionListOut(items=[prescription_out(p) for p in prescriptions.for_patient(current_user, patient_id)])
