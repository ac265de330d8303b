"""Patient records as the care team and ops see them (minimum necessary, every read audited)."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.schemas.accounts.accounts import PatientRecordOut, patient_record_out
from telehealth.services.accounts import care_team

bp = Blueprint("patients", __name__, url_prefix="/api/v1/patients")


@bp.get("/<int:patient_id>")
@endpoint("A patient's profile, limited to what the viewer's role may see", tags=["patients"],
          response=PatientRecordOut)
def get_patient(patient_id: int):
    patient, scopes = care_team.read_patient_record(current_user, patient_id)
    return patient_record_out(patient, scopes)
