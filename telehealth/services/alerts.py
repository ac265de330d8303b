"""Alerts as their readers see them (physicians the clinical ones, ops the logistics ones), acknowledging
one, and raising one exactly once from a sweep."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from telehealth.clock import now
from telehealth.errors import NotFound
from telehealth.extensions import db
from telehealth.models.accounts import Role, User
from telehealth.models.alerts import OPS, PHYSICIAN_RECIPIENTS, AlertStatus, ClinicalAlert
from telehealth.services import audit


def raise_once(dedupe_key: str, **fields) -> bool:
    """Write an alert unless one with this key exists (in a savepoint of the caller's
    transaction); whether this call wrote it. Two sweeps racing write one alert between them."""
    if db.session.scalar(select(ClinicalAlert.id).where(ClinicalAlert.dedupe_key == dedupe_key)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ClinicalAlert(dedupe_key=dedupe_key, **fields))
    except IntegrityError:
        return False
    return True


def _recipients_for(viewer: User) -> tuple[str, ...]:
    return (OPS,) if viewer.role in (Role.OPS, Role.ADMIN) else PHYSICIAN_RECIPIENTS


def open_alerts(viewer: User, *, before_id: int | None = None, limit: int = 100) -> list[ClinicalAlert]:
    """Unacknowledged alerts for the viewer's role (physicians: clinical ones; ops and admin:
    logistics ones), newest first (so a new crisis is never below the fold); each is an audited
    read of the patient's record."""
    query = (select(ClinicalAlert).where(ClinicalAlert.status != AlertStatus.ACKNOWLEDGED,
                                         ClinicalAlert.recipient.in_(_recipients_for(viewer)))
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
    if alert is None or alert.recipient not in _recipients_for(physician):
        raise NotFound("No such alert.")
    alert.acknowledge(physician.id, now())
    audit.record(physician, "update", "clinical_alert", alert.id, patient_id=alert.patient_id, fields=["status"])
    db.session.commit()
    return alert
