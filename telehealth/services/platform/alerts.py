"""Alerts as their readers see them (physicians the clinical ones of their patients, and every urgent
one while on call; ops the logistics ones), acknowledging one, and raising one exactly once from a sweep."""
from __future__ import annotations

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from telehealth.clock import in_zone, now
from telehealth.errors import Conflict, NotFound
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.platform.alerts import OPS, PHYSICIAN_RECIPIENTS, AlertPage, AlertStatus, ClinicalAlert
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.services.platform import audit, on_call
from telehealth.services.platform.authz import deny


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


def _physician_sees(viewer: User, at):
    """Which clinical alerts a physician sees (minimum necessary): those of their care-team
    patients, whatever their status (acknowledging never hides an alert from the patient's own
    physicians); those of patients with no physician on their care team yet (an anonymous
    screening, an unknown number: the clinical team's); those they were paged for or acknowledged;
    and, while they are on call (or while nobody is, when every physician is paged), every urgent one."""
    team = select(CareAssignment.id).where(CareAssignment.patient_id == ClinicalAlert.patient_id,
                                           CareAssignment.care_role == CareRole.PHYSICIAN,
                                           CareAssignment.ended_at.is_(None))
    paged = select(AlertPage.id).where(AlertPage.alert_id == ClinicalAlert.id, AlertPage.user_id == viewer.id)
    seen = [team.where(CareAssignment.staff_id == viewer.id).exists(), ~team.exists(), paged.exists(),
            ClinicalAlert.acknowledged_by == viewer.id]
    shifts = on_call.on_call_at(at)
    if not shifts or any(s.physician_id == viewer.id for s in shifts):
        seen.append(ClinicalAlert.urgency == "urgent")
    return or_(*seen)


def _visible(viewer: User, at):
    query = select(ClinicalAlert).where(ClinicalAlert.recipient.in_(_recipients_for(viewer)))
    return query.where(_physician_sees(viewer, at)) if viewer.role is Role.PHYSICIAN else query


def open_alerts(viewer: User, *, before_id: int | None = None, limit: int = 100,
                status: str = "open", urgent_first: bool = False) -> list[ClinicalAlert]:
    """Alerts the viewer may see (physicians: clinical ones, by `_physician_sees`; ops and admin:
    logistics ones), `open` (not acknowledged, the default), `acknowledged` or `all`, newest first
    (so a new crisis is never below the fold); `urgent_first`: the urgent ones before the routine
    ones (a first page only: `before_id` follows ids); each is an audited read of the patient's record."""
    order = (case((ClinicalAlert.urgency == "urgent", 0), else_=1),) if urgent_first else ()
    query = _visible(viewer, now()).order_by(*order, ClinicalAlert.id.desc()).limit(limit)
    if status == "open":
        query = query.where(ClinicalAlert.status != AlertStatus.ACKNOWLEDGED)
    elif status == "acknowledged":
        query = query.where(ClinicalAlert.status == AlertStatus.ACKNOWLEDGED)
    if before_id is not None:
        query = query.where(ClinicalAlert.id < before_id)
    items = list(db.session.scalars(query))
    audit.record_each(viewer, "read", "clinical_alert", [(alert.id, alert.patient_id) for alert in items])
    db.session.commit()
    return items


def acknowledge(viewer: User, alert_id: int) -> ClinicalAlert:
    """Record who acknowledged the alert and when (which stops its re-paging); it stays visible."""
    alert = db.session.get(ClinicalAlert, alert_id)
    if alert is None or alert.recipient not in _recipients_for(viewer):
        raise NotFound("No such alert.")
    if db.session.scalar(_visible(viewer, now()).where(ClinicalAlert.id == alert_id)) is None:
        deny(viewer, "clinical_alert", alert_id, patient_id=alert.patient_id,
             message="This alert is for the patient's care team and whoever is on call.")
    if alert.status is AlertStatus.ACKNOWLEDGED:
        raise already_acknowledged(viewer, alert.id)
    alert.acknowledge(viewer.id, now())
    # Claimed with a conditional UPDATE: of two acknowledgements at once, the one that finds the
    # row still unacknowledged wins; the other updates nothing and gets the same 409 as a second
    # acknowledgement, so who and when are never overwritten. (No autoflush: the object's own
    # change must not be written before the guard has looked at the row.)
    with db.session.no_autoflush:
        claimed = db.session.execute(
            update(ClinicalAlert)
            .where(ClinicalAlert.id == alert.id, ClinicalAlert.acknowledged_at.is_(None))
            .values(status=AlertStatus.ACKNOWLEDGED, acknowledged_at=alert.acknowledged_at,
                    acknowledged_by=alert.acknowledged_by)
            .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise already_acknowledged(viewer, alert.id)
    audit.record(viewer, "update", "clinical_alert", alert.id, patient_id=alert.patient_id, fields=["status"])
    db.session.commit()
    return alert


def already_acknowledged(viewer: User, alert_id: int) -> Conflict:
    """The refusal of a second acknowledgement, saying who acknowledged first and when (in the
    viewer's zone), so the second physician knows whom to ask before calling the patient too."""
    row = db.session.execute(select(ClinicalAlert.acknowledged_at, ClinicalAlert.acknowledged_by, User.display_name)
                             .outerjoin(User, User.id == ClinicalAlert.acknowledged_by)
                             .where(ClinicalAlert.id == alert_id)).first()
    if row is None or row.acknowledged_at is None:
        return Conflict("This alert was already acknowledged.")
    who = "you" if row.acknowledged_by == viewer.id else (row.display_name or "a former staff member")
    local = in_zone(row.acknowledged_at, viewer.time_zone)
    when = f"{local:%b} {local.day}, {local.hour % 12 or 12}:{local:%M} {local:%p} {local.tzname()}"
    return Conflict(f"This alert was already acknowledged by {who} at {when}.")
