"""Clinical alerts as physicians see them: the open ones, and acknowledging one."""
from __future__ import annotations

from sqlalchemy import select

from telehealth.clock import now
from telehealth.errors import NotFound
from telehealth.extensions import db
from telehealth.models.accounts import User
from telehealth.models.alerts import AlertStatus, ClinicalAlert
from telehealth.services import audit


def open_alerts(viewer: User, *, before_id: int | None = None, limit: int = 100) -> list[ClinicalAlert]:
    """Unacknowledged alerts, newest first (so a new crisis is never below the fold); each is an
    audited read of the patient's record."""
    query = (select(ClinicalAlert).where(ClinicalAlert.status != AlertStatus.ACKNOWLEDGED)
             .order_by(ClinicalAlert.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(ClinicalAlert.id < before_id)
    items = list(db.session.scalars(query))
    for alert in items:
        audit.record(viewer, "read", "clinical_alert", alert.id, patient_id=alert.patient_id)
    db.session.commit()
    return items


def acknowledge(physician: User, alert_id: int) -> ClinicalAlert:
    alert = db.session.get(ClinicalAlert, alert_id)
    if alert is None:
        raise NotFound("No such alert.")
    alert.acknowledge(physician.id, now())
    audit.record(physician, "update", "clinical_alert", alert.id, patient_id=alert.patient_id, fields=["status"])
    db.session.commit()
    return alert
