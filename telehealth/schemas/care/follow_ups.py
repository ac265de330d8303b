"""Request and response bodies for physician follow-up decisions."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import MAX_DB_ID, DbId, text
from telehealth.schemas.pharmacy.prescriptions import PrescriptionIn, SecondFactorCode

Decision = Literal["continue", "adjust", "pause", "resume", "discharge", "maintenance"]
TreatmentStatus = Literal["active", "paused", "maintenance", "discharged"]


class FollowUpDecisionIn(Schema):
    decision: Decision
    note: text(4000)
    appointment_id: DbId | None = None
    new_terms: PrescriptionIn | None = None
    release_shipment_id: DbId | None = None
    # an adjustment signs a new version: it needs the physician's second factor
    second_factor_code: SecondFactorCode | None = None
    # the id of the newest decision the client saw (0: none): a decision recorded since is refused
    # (409) instead of recorded twice; without it, no such check
    seen_latest_id: Annotated[int, Field(ge=0, le=MAX_DB_ID)] | None = None


class FollowUpDecisionOut(Schema):
    id: int
    patient_id: int
    physician_id: int
    appointment_id: int | None
    decision: Decision
    note: str | None  # the physician's; None for the patient
    prescription_id: int | None
    released_shipment_id: int | None
    decided_at: Timestamp


class FollowUpDecisionResultOut(Schema):
    decision: FollowUpDecisionOut
    treatment_status: TreatmentStatus


class FollowUpDecisionListOut(Schema):
    items: list[FollowUpDecisionOut]
    treatment_status: TreatmentStatus


def decision_out(d) -> FollowUpDecisionOut:
    """A decision, or `follow_ups.DecisionView` (whose note is None for anyone but a physician)."""
    return FollowUpDecisionOut(id=d.id, patient_id=d.patient_id, physician_id=d.physician_id,
                               appointment_id=d.appointment_id, decision=d.decision.value, note=d.note,
                               prescription_id=d.prescription_id, released_shipment_id=d.released_shipment_id,
                               decided_at=d.decided_at)
