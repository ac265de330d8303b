"""Repeated PHQ-9 / GAD-7 measures and the score history."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.screening.assessments import (
    MeasureHistoryOut, MeasureIn, MeasureQuery, MeasureResultOut, crisis_payload, measure_out,
)
from telehealth.services.screening import measures

bp = Blueprint("measures", __name__, url_prefix="/api/v1")


@bp.post("/me/measures")
@endpoint("Retake PHQ-9 or GAD-7", tags=["measures"], auth=(Role.PATIENT,), body=MeasureIn,
          response=MeasureResultOut, status=201)
def retake(body: MeasureIn):
    """A PHQ-9 with item 9 above 0 returns crisis resources and alerts the on-call physician."""
    measure, is_crisis = measures.record_retake(current_user, body.instrument, body.version, body.answers)
    return MeasureResultOut(measure=measure_out(measure), crisis=is_crisis, **crisis_payload(is_crisis))


@bp.get("/me/measures")
@endpoint("My PHQ-9 and GAD-7 history, oldest first", tags=["measures"], auth=(Role.PATIENT,), query=MeasureQuery,
          response=MeasureHistoryOut)
def my_history(query: MeasureQuery):
    return MeasureHistoryOut(items=[measure_out(m) for m in measures.history(current_user, current_user.id,
                                                                               query.instrument)])


@bp.get("/patients/<int:patient_id>/measures")
@endpoint("A patient's PHQ-9 and GAD-7 history (the patient and their physicians)", tags=["measures"],
          query=MeasureQuery, response=MeasureHistoryOut)
def patient_history(patient_id: int, query: MeasureQuery):
    return MeasureHistoryOut(items=[measure_out(m) for m in measures.history(current_user, patient_id,
                                                                               query.instrument)])
