"""Sweeps that turn durable rows owed to people into texts in the outbox: appointment reminders,
shipment notices and clinical alerts for the on-call physician. Each is idempotent (a dedupe key
per row), so two scheduler processes running the same sweep enqueue each text once.

Bodies say nothing clinical: a time, a tracking link, "log in to review".
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from telehealth.clock import in_zone, now
from telehealth.extensions import db
from telehealth.models.accounts import PatientProfile, User
from telehealth.models.alerts import PHYSICIAN_RECIPIENTS, AlertStatus, ClinicalAlert
from telehealth.models.messaging import MessagePriority
from telehealth.models.scheduling import Appointment, AppointmentStatus, Reminder
from telehealth.models.shipments import Shipment, ShipmentNotice
from telehealth.services import outbox

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


def page_on_call(alert: ClinicalAlert) -> bool:
    """Queue the staff text for one alert and mark it delivered, in the caller's transaction; a
    crisis pages this way at once, so the next dispatcher tick sends it. False without ON_CALL_PHONE
    (the alert stays pending and the sweep complains)."""
    on_call = current_app.config.get("ON_CALL_PHONE")
    if not on_call:
        return False
    outbox.enqueue(on_call, alert_text(alert), "alert", priority=MessagePriority.STAFF,
                   dedupe_key=f"alert:{alert.id}:on_call")
    alert.status, alert.delivered_at = AlertStatus.DELIVERED, now()
    return True


def deliver_clinical_alerts() -> int:
    """Pending urgent clinical alerts become staff texts to the on-call phone, then count as delivered.
    (Physician profiles hold no phone number yet, so the care team is reached through on-call.)
    Ops alerts (a late shipment) are read on the ops board, never paged to a physician."""
    # Only urgent alerts page the on-call phone, at any hour; routine ones wait in the physicians'
    # alert list (GET /api/v1/alerts) rather than wake someone at 3 am.
    pending = (select(ClinicalAlert).where(ClinicalAlert.status == AlertStatus.PENDING,
                                           ClinicalAlert.urgency == "urgent",
                                           ClinicalAlert.recipient.in_(PHYSICIAN_RECIPIENTS))
               .order_by(ClinicalAlert.id).limit(BATCH))
    if not current_app.config.get("ON_CALL_PHONE"):
        if db.session.scalar(pending.with_only_columns(ClinicalAlert.id)) is not None:
            log.error("clinical alerts are waiting and ON_CALL_PHONE is not set")
        return 0
    alerts = db.session.scalars(pending.with_for_update(skip_locked=True)).all()
    for alert in alerts:
        page_on_call(alert)
    db.session.commit()
    return len(alerts)
