"""The care team's views of their patients: the patient timeline and the physician's work list."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.care.care import TimelineOut, TimelineQuery, WorklistOut, WorklistQuery, timeline_out, worklist_out
from telehealth.services.care import timeline, worklist

bp = Blueprint("care", __name__, url_prefix="/api/v1")
TAGS = ["care team"]


@bp.get("/patients/<int:patient_id>/timeline")
@endpoint("A patient's timeline, newest first, paged by cursor (what the viewer may see; audited)", tags=TAGS,
          auth=(Role.PATIENT, Role.PHYSICIAN, Role.COACH), query=TimelineQuery, response=TimelineOut)
def patient_timeline(patient_id: int, query: TimelineQuery):
    """The patient sees everything of their own, a physician on the care team everything clinical,
    an assigned coach only sessions (date and status), check-in moods, coaching appointments and
    summaries, and which reminder texts went out."""
    return timeline_out(timeline.patient_timeline(current_user, patient_id, before=query.before, limit=query.limit))


@bp.get("/me/worklist")
@endpoint("My patients needing action, urgent first, each with its reasons and when they became due (audited)",
          tags=TAGS, auth=(Role.PHYSICIAN,), query=WorklistQuery, response=WorklistOut)
def my_worklist(query: WorklistQuery):
    return worklist_out(worklist.worklist(current_user, limit=query.limit))
