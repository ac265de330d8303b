"""The SLA watch: a scheduler sweep that raises one alert for each promise the program is breaking.

Screenings not reviewed within the review SLA (24 hours by default) alert the clinical team;
medication not shipped within 3 business days, or not delivered within 5, alerts ops. Each breach
is alerted once, by a unique key on the alert, even if two scheduler processes run the sweep at
the same moment. The alerts say which record is late and nothing clinical.
"""
from __future__ import annotations

from sqlalchemy import String, cast, exists, literal, select

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.platform.alerts import OPS, ClinicalAlert
from telehealth.models.screening.assessments import Assessment, AssessmentStatus, ReviewStatus
from telehealth.models.pharmacy.shipments import Shipment
from telehealth.services.platform.alerts import raise_once
from telehealth.services.pharmacy.shipments import NOT_YET_DELIVERED, NOT_YET_SHIPPED


def _not_alerted(prefix: str, column):
    return ~exists().where(ClinicalAlert.dedupe_key == literal(prefix) + cast(column, String))


def flag_breaches(limit: int = 500) -> dict[str, int]:
    """Raise the alerts of breaches not yet alerted; the counts raised by this run."""
    moment = now()
    counts = {"review": 0, "ship": 0, "deliver": 0}
    overdue = db.session.execute(select(Assessment.id, Assessment.patient_id).where(
        Assessment.first_reviewed_at.is_(None), Assessment.review_due_at < moment,
        Assessment.status == AssessmentStatus.SUBMITTED, Assessment.review_status == ReviewStatus.PENDING,
        _not_alerted("review_overdue:", Assessment.id))
        .order_by(Assessment.review_due_at).limit(limit)).all()
    for assessment_id, patient_id in overdue:
        counts["review"] += raise_once(
            f"review_overdue:{assessment_id}", kind="review_overdue", urgency="routine", recipient="clinical_team",
            patient_id=patient_id, assessment_id=assessment_id,
            summary="A screening is past its review SLA and has not been reviewed.")
    for breach, statuses, deadline, words in (
            ("ship", NOT_YET_SHIPPED, Shipment.ship_by, "has not shipped by its deadline"),
            ("deliver", NOT_YET_DELIVERED, Shipment.deliver_by, "has not been delivered by its deadline")):
        late = db.session.execute(select(Shipment.id, Shipment.patient_id).where(
            Shipment.status.in_(statuses), deadline < moment, _not_alerted(f"{breach}_breach:", Shipment.id))
            .order_by(deadline).limit(limit)).all()
        for shipment_id, patient_id in late:
            counts[breach] += raise_once(
                f"{breach}_breach:{shipment_id}", kind=f"shipment_{breach}_breach", urgency="routine", recipient=OPS,
                patient_id=patient_id, shipment_id=shipment_id, summary=f"Shipment #{shipment_id} {words}.")
    db.session.commit()
    return counts
