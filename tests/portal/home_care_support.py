"""Treatment-stage patients of the home-care and medication browser tests, built with the demo's own
helpers (telehealth/demo.py) inside an app context and committed: screened and approved, paid, a video
consult held with Dr. Chen (licensed in AZ), a prescription signed, a stage of medication delivered.
Each test gets a patient of its own, so no other test's stage patient changes."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import time_machine

from telehealth import demo
from telehealth.extensions import db
from telehealth.clock import UTC
from telehealth.models import Shipment, ShipmentStatus
from telehealth.services.accounts import accounts
from telehealth.services.home_care import home_sessions

ZONE = "America/Phoenix"  # no daylight saving: a datetime-local typed in the test is never ambiguous


def treatment_patient(app, monkeypatch, first: str = "Robin") -> str:
    """A new patient with medication for 3 sessions delivered a few days ago; their email."""
    local = f"homecare.{uuid.uuid4().hex[:10]}"
    spec = demo._patient(local, first, "Homecare", "1987-03-03", "AZ", ZONE, "+16025550190", "Phoenix", "85004")
    monkeypatch.setitem(demo.PATIENTS, local, spec)  # demo._screened finds the patient's answers there
    with app.app_context():
        patient = demo._sign_up(spec)
        physician = demo._by_email("dr.chen")
        demo._screened(patient, demo._ago(12), reviewer=physician)
        demo._paid(patient, "starter", demo._ago(11))
        demo._paid(patient, "three_month", demo._ago(11))
        demo._on_care_team(patient, physician)
        demo._held(patient, physician, "consult", demo._ago(9, hour=14), "Video consult held; plan agreed.")
        rx = demo._prescribed(physician, patient, demo._ago(9, hour=15))
        demo._delivered(physician, rx, 3, demo._ago(7))
        db.session.commit()
        db.session.remove()
    return spec["email"]


def stage_on_its_way(app, email: str) -> None:
    """A second stage the pharmacy has filled and handed to the carrier (as its webhooks report it)."""
    with app.app_context():
        patient = accounts.find_by_email(email)
        first = db.session.query(Shipment).filter_by(patient_id=patient.id).one()
        sent = demo._ago(1)
        stage = Shipment(prescription_id=first.prescription_id, patient_id=patient.id, stage=2, sessions=2,
                         shipping_address=first.shipping_address, ship_by=sent + timedelta(days=3),
                         deliver_by=sent + timedelta(days=5), created_at=sent, send_attempts=1,
                         status=ShipmentStatus.CREATED, pharmacy_order_id=f"demo-{uuid.uuid4().hex}")
        db.session.add(stage)
        db.session.flush()
        for status, hours in ((ShipmentStatus.SENT_TO_PHARMACY, 0), (ShipmentStatus.FILLED, 6),
                              (ShipmentStatus.SHIPPED, 9)):
            details = {"carrier": "UPS", "tracking_number": f"1ZHOMECARE{stage.id:08d}"}
            stage.apply(status, sent + timedelta(hours=hours), source="pharmacy", details=details)
        for notice in stage.notices:
            notice.status = "sent"
        db.session.commit()
        db.session.remove()


def session_taken_yesterday(app, email: str) -> int:
    """Session 1 planned, prepared, started and finished yesterday through the services (the test
    clock is moved for the services only, before the browser opens anything), its check-in after
    answered: the next-day check-in is due now. The session's id."""
    started = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=26)
    with app.app_context(), time_machine.travel(started - timedelta(hours=1), tick=False) as clock:
        patient = accounts.find_by_email(email)
        session = home_sessions.schedule_session(patient, started, "Jamie Homecare", "+16025550191")
        clock.move_to(started - timedelta(minutes=10))
        home_sessions.confirm_sitter(patient, session.id)
        home_sessions.record_blood_pressure(patient, session.id, 122, 76)
        home_sessions.record_check_in(patient, {"mood": 5}, session_id=session.id, kind="pre")
        clock.move_to(started)
        home_sessions.start_session(patient, session.id)
        clock.move_to(started + timedelta(hours=2))
        home_sessions.complete_session(patient, session.id)
        home_sessions.record_check_in(patient, {"mood": 7, "side_effects": []}, session_id=session.id, kind="post")
        session_id = session.id
        db.session.remove()
    return session_id
