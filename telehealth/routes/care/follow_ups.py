"""Physician follow-ups: record a decision (and carry it out), read a patient's decisions."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.care.follow_ups import (
    FollowUpDecisionIn, FollowUpDecisionListOut, FollowUpDecisionResultOut, decision_out,
)
from telehealth.services.care import follow_ups
from telehealth.services.pharmacy import prescriptions

bp = Blueprint("follow_ups", __name__, url_prefix="/api/v1")
TAGS = ["follow-ups"]


@bp.post("/patients/<int:patient_id>/follow-up-decisions")
@endpoint("Record a follow-up decision (continue, adjust, pause, resume, discharge, maintenance) and carry it out, "
          "optionally releasing the next medication stage, in one transaction", tags=TAGS, auth=(Role.PHYSICIAN,),
          body=FollowUpDecisionIn, response=FollowUpDecisionResultOut, status=201, errors=(409, 423))
def record(patient_id: int, body: FollowUpDecisionIn):
    terms = prescriptions.PrescriptionTerms(**body.new_terms.model_dump()) if body.new_terms else None
    row, status = follow_ups.record_decision(current_user, patient_id, body.decision, body.note,
                                             appointment_id=body.appointment_id, new_terms=terms,
                                             release_shipment_id=body.release_shipment_id,
                                             second_factor_code=body.second_factor_code,
                                             seen_latest_id=body.seen_latest_id)
    # the physician who decided reads their own note
    return FollowUpDecisionResultOut(decision=decision_out(row), treatment_status=status)


@bp.get("/patients/<int:patient_id>/follow-up-decisions")
@endpoint("A patient's follow-up decisions, newest first, and their treatment status (the patient and their "
          "physicians; audited)", tags=TAGS, auth=(Role.PATIENT, Role.PHYSICIAN), response=FollowUpDecisionListOut)
def list_for_patient(patient_id: int):
    rows, status = follow_ups.decisions_for(current_user, patient_id)
    return FollowUpDecisionListOut(items=[decision_out(v) for v in rows], treatment_status=status)
