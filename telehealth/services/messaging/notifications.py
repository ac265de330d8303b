"""Sweeps that turn durable rows owed to people into texts in the outbox: appointment reminders,
shipment notices and the pages of urgent clinical alerts (the on-call rota, then the escalation
ladder below). Each is idempotent (a dedupe key per row, a claimed round per page), so two
scheduler processes running the same sweep enqueue each text once.

Bodies say nothing clinical: a time, a tracking link, "log in to review".
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from telehealth.clock import in_zone, now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import PatientProfile, PhysicianProfile, Role, User
from telehealth.models.platform.alerts import PHYSICIAN_RECIPIENTS, AlertPage, AlertStatus, ClinicalAlert
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.messaging.messaging import MessagePriority
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus, Reminder
from telehealth.models.pharmacy.shipments import Shipment, ShipmentNotice
from telehealth.policy import current_policy
from telehealth.services.messaging import outbox
from telehealth.services.platform import on_call

log = logging.getLogger(__name__)
BATCH = 500


def reminder_text(appointment: Appointment, zone: str) -> str:
    local = in_zone(appointment.starts_at, zone)
    when = f"{local:%a, %b} {local.day} at {local:%I:%M %p}".replace(" 0", " ") + f" {local.tzname()}"
    return (f"{outbox.program_name()}: reminder of your appointment on {when}. "
            "Details and the video link are in your account.")


def enqueue_due_reminders() -> int:
    """Pending appointment reminders whose time has come become routine texts (marked sent)."""
    at = now()
    # each reminder with its appointment, patient and phone in one SELECT (not three per reminder)
    rows = db.session.execute(
        select(Reminder, Appointment, User, PatientProfile.phone_e164)
        .outerjoin(Appointment, Appointment.id == Reminder.appointment_id)
        .outerjoin(User, User.id == Appointment.patient_id)
        .outerjoin(PatientProfile, PatientProfile.user_id == User.id)
        .where(Reminder.status == "pending", Reminder.due_at <= at)
        .order_by(Reminder.due_at).limit(BATCH)).all()
    done = 0
    for reminder, appointment, patient, phone in rows:
        if appointment is None or appointment.status is not AppointmentStatus.BOOKED:
            reminder.status = "cancelled"
            continue
        if appointment.starts_at <= at:  # too late to remind
            reminder.status = "skipped"
            continue
        if phone is not None:
            outbox.enqueue(phone, reminder_text(appointment, patient.time_zone), "appointment_reminder",
                           priority=MessagePriority.ROUTINE, patient_id=patient.id, dedupe_key=f"reminder:{reminder.id}")
            done += 1
        reminder.status = "sent"
    db.session.commit()
    return done


def shipment_text(notice: ShipmentNotice, shipment: Shipment) -> str:
    clinic = outbox.program_name()
    if notice.kind == "delivered":
        return f"{clinic}: your package has been delivered."
    link = shipment.tracking_url
    return f"{clinic}: your package has shipped: {link}" if link else f"{clinic}: your package has shipped."


def enqueue_shipment_notices() -> int:
    # each notice with its shipment, patient and phone in one SELECT (not three per notice)
    rows = db.session.execute(
        select(ShipmentNotice, Shipment, User, PatientProfile.phone_e164)
        .outerjoin(Shipment, Shipment.id == ShipmentNotice.shipment_id)
        .outerjoin(User, User.id == Shipment.patient_id)
        .outerjoin(PatientProfile, PatientProfile.user_id == User.id)
        .where(ShipmentNotice.status == "pending")
        .order_by(ShipmentNotice.id).limit(BATCH)).all()
    done = 0
    for notice, shipment, patient, phone in rows:
        if phone is not None:
            outbox.enqueue(phone, shipment_text(notice, shipment), f"shipment_{notice.kind}",
                           priority=MessagePriority.ROUTINE, patient_id=patient.id,
                           dedupe_key=f"shipment_notice:{notice.id}")
            done += 1
        notice.status = "sent"
    db.session.commit()
    return done


def alert_text(alert: ClinicalAlert) -> str:
    if alert.urgency == "urgent":
        return "Urgent alert for a patient: log in to review."
    return "An alert for a patient is waiting: log in to review."


# ------------------------------------------------------------------ paging urgent alerts
#
# The ladder, one round per page (round 0 at once, each next one when the alert is still not
# acknowledged `urgent_alert_repage_minutes` after the last):
#   round 0: whoever is on call now (the rota's phone); nobody on call: every active physician with
#            a phone AND the fallback number (ON_CALL_FALLBACK_PHONE);
#   round 1: round 0 again, plus the patient's care-team physicians and whoever is on call next;
#   round 2 and on: round 1 again, plus every active physician and the fallback number.
# Each round is claimed with a conditional UPDATE of `page_rounds` (two scheduler processes page
# once) and each phone paged is an `AlertPage` row (who, why, when) and a dedupe-keyed text.


@dataclass(frozen=True)
class Target:
    phone: str
    user_id: int | None
    reason: str


def _everyone() -> list[Target]:
    rows = db.session.execute(select(User.id, PhysicianProfile.phone_e164)
                              .join(PhysicianProfile, PhysicianProfile.user_id == User.id)
                              .where(User.role == Role.PHYSICIAN, User.active.is_(True),
                                     PhysicianProfile.phone_e164.is_not(None)).order_by(User.id)).all()
    targets = [Target(phone, user_id, "everyone") for user_id, phone in rows]
    fallback = on_call.fallback_phone()
    return targets + ([Target(fallback, None, "fallback")] if fallback else [])


def _care_team(patient_id: int | None) -> list[Target]:
    if patient_id is None:
        return []
    rows = db.session.execute(select(User.id, PhysicianProfile.phone_e164)
                              .join(CareAssignment, CareAssignment.staff_id == User.id)
                              .join(PhysicianProfile, PhysicianProfile.user_id == User.id)
                              .where(CareAssignment.patient_id == patient_id,
                                     CareAssignment.care_role == CareRole.PHYSICIAN,
                                     CareAssignment.ended_at.is_(None), User.active.is_(True),
                                     PhysicianProfile.phone_e164.is_not(None)).order_by(User.id)).all()
    return [Target(phone, user_id, "care_team") for user_id, phone in rows]


def page_targets(alert: ClinicalAlert, round_: int, at: datetime) -> list[Target]:
    """Who round `round_` of paging `alert` reaches at `at`, each phone once (first reason wins)."""
    shifts = on_call.on_call_at(at)
    targets = [Target(s.phone_e164, s.physician_id, "on_call") for s in shifts] or _everyone()
    if round_ >= 1:
        targets += _care_team(alert.patient_id)
        upcoming = on_call.next_shift(max((s.ends_at for s in shifts), default=at) - timedelta(microseconds=1))
        if upcoming is not None:
            targets.append(Target(upcoming.phone_e164, upcoming.physician_id, "next_shift"))
    if round_ >= 2:
        targets += _everyone()
    unique: dict[str, Target] = {}
    for target in targets:
        unique.setdefault(target.phone, target)
    return list(unique.values())


def _page_round(alert: ClinicalAlert, round_: int, at: datetime) -> bool:
    """Claim round `round_` of paging `alert` and queue its texts, in the caller's transaction;
    False when another process claimed it first, it was acknowledged, or there is nobody to page."""
    targets = page_targets(alert, round_, at)
    if not targets:
        return False
    values = {"page_rounds": round_ + 1, "last_paged_at": at}
    if round_ == 0:
        values.update(status=AlertStatus.DELIVERED, delivered_at=at)
    claimed = db.session.execute(update(ClinicalAlert).where(
        ClinicalAlert.id == alert.id, ClinicalAlert.page_rounds == round_,
        ClinicalAlert.status != AlertStatus.ACKNOWLEDGED).values(**values)).rowcount
    if claimed != 1:
        return False
    for target in targets:
        outbox.enqueue(target.phone, alert_text(alert), "alert", priority=MessagePriority.STAFF,
                       dedupe_key=f"alert:{alert.id}:page:{round_}:{target.phone}")
        db.session.add(AlertPage(alert_id=alert.id, round=round_, user_id=target.user_id, phone_e164=target.phone,
                                 reason=target.reason, paged_at=at))
    return True


def page_on_call(alert: ClinicalAlert) -> bool:
    """Page an urgent alert now (round 0 of the ladder) and mark it delivered, in the caller's
    transaction; a crisis pages this way at once, so the next dispatcher tick sends it. False
    when there is nobody at all to page (no shift, no physician phone, no fallback number: the
    alert stays pending and the sweep complains)."""
    db.session.flush()
    return _page_round(alert, 0, now())


def deliver_clinical_alerts() -> int:
    """Pending urgent clinical alerts page the on-call physician (or everyone, nobody being on
    call), then count as delivered. Ops alerts (a late shipment) are read on the ops board, never
    paged to a physician."""
    # Only urgent alerts page, at any hour; routine ones wait in the physicians' alert list
    # (GET /api/v1/alerts) rather than wake someone at 3 am.
    pending = (select(ClinicalAlert).where(ClinicalAlert.status == AlertStatus.PENDING,
                                           ClinicalAlert.urgency == "urgent",
                                           ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS))
               .order_by(ClinicalAlert.id).limit(BATCH))
    alerts = db.session.scalars(pending.with_for_update(skip_locked=True)).all()
    paged = sum(page_on_call(alert) for alert in alerts)
    if alerts and not paged:
        log.error("clinical alerts are waiting and nobody can be paged (no shift, no physician phone, "
                  "no ON_CALL_FALLBACK_PHONE)")
    db.session.commit()
    return paged


def repage_unacknowledged() -> int:
    """Urgent alerts still not acknowledged `urgent_alert_repage_minutes` after their last page are
    paged again, one rung up the ladder. Safe in two processes: rows are locked (PostgreSQL) and
    each round is claimed by a conditional UPDATE."""
    at = now()
    due = at - timedelta(minutes=current_policy().urgent_alert_repage_minutes)
    alerts = db.session.scalars(
        select(ClinicalAlert).where(ClinicalAlert.status == AlertStatus.DELIVERED, ClinicalAlert.urgency == "urgent",
                                    ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS),
                                    ClinicalAlert.last_paged_at <= due)
        .order_by(ClinicalAlert.id).limit(BATCH).with_for_update(skip_locked=True)).all()
    paged = sum(_page_round(alert, alert.page_rounds, at) for alert in alerts)
    db.session.commit()
    return paged
