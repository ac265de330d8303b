"""The sweeps that turn reminders and shipment notices into texts: what they read does not grow with
the number of rows (each row's appointment or shipment, patient and phone come with the first
SELECT); what grows is only the outbox's own work for each text."""
from __future__ import annotations

import collections
import re
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from telehealth.clock import now
from telehealth.models import Appointment, OutboundMessage, Reminder, ShipmentNotice, SmsConsent
from telehealth.models.pharmacy.shipments import Shipment
from telehealth.services.messaging import notifications
from tests.pharmacy.test_shipments import shipment  # noqa: F401  (the fixture)

NOON_NY = datetime(2026, 1, 15, 17, 0, tzinfo=timezone.utc)
_phones = iter(range(1000))
# What one more text may cost: the outbox's dedupe lookup, consent lookup and INSERT (in a
# savepoint), and the row marked sent. Never a read of the row's appointment, shipment or patient.
PER_TEXT = {("SELECT", ("outbound_messages",)), ("SELECT", ("sms_consents",)), ("INSERT", ("outbound_messages",)),
            ("SAVEPOINT", ()), ("RELEASE", ()), ("UPDATE", ("appointment_reminders",)),
            ("UPDATE", ("shipment_notices",))}
ROW_TABLES = {"appointments", "shipments", "users", "patient_profiles"}


def _shape(statement: str) -> tuple[str, tuple[str, ...]]:
    verb = statement.split(None, 1)[0].upper()
    tables = re.findall(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(\w+)', statement, re.IGNORECASE)
    return verb, tuple(sorted(set(tables)))


def _patient(db, create_user):
    patient = create_user("patient", phone=f"+1212777{next(_phones):04d}")
    db.session.add(SmsConsent(user_id=patient.id, phone_e164=patient.patient_profile.phone_e164, opted_in_at=now(),
                              wording="I agree.", wording_version="test"))
    return patient


def _sweep(db, count_queries, sweep):
    db.session.commit()
    db.session.expunge_all()  # a scheduler run starts with nothing loaded
    with count_queries() as counter:
        done = sweep()
    return done, counter.statements


def _assert_constant_reads(few: list[str], many: list[str], extra_texts: int) -> None:
    shapes_few, shapes_many = collections.Counter(map(_shape, few)), collections.Counter(map(_shape, many))
    grown = shapes_many - shapes_few
    assert set(grown) <= PER_TEXT, grown
    assert sum(grown.values()) == len(many) - len(few)
    assert all(n % extra_texts == 0 for n in grown.values()), grown  # the same cost for every text
    reads = [s for s in many if _shape(s)[0] == "SELECT" and ROW_TABLES & set(_shape(s)[1])]
    assert len(reads) == 1, reads  # one SELECT loads the rows with their appointment/shipment, patient, phone


def test_due_reminders_are_read_in_one_select_whatever_their_number(app, db, create_user, count_queries):
    def reminders(n: int) -> None:
        for _ in range(n):
            starts = NOON_NY + timedelta(hours=2)
            appointment = Appointment(patient_id=_patient(db, create_user).id, provider_id=create_user("coach").id,
                                      appointment_type="coaching_30", starts_at=starts,
                                      ends_at=starts + timedelta(minutes=30), blocks_from=starts,
                                      blocks_until=starts + timedelta(minutes=30), credit_kind="coaching_30",
                                      video_room=f"room-{next(_phones)}")
            db.session.add(appointment)
            db.session.flush()
            db.session.add(Reminder(appointment_id=appointment.id, lead="1h", due_at=NOON_NY - timedelta(minutes=1)))

    with time_machine.travel(NOON_NY, tick=False):
        reminders(2)
        done_few, few = _sweep(db, count_queries, notifications.enqueue_due_reminders)
        reminders(6)
        done_many, many = _sweep(db, count_queries, notifications.enqueue_due_reminders)
    assert (done_few, done_many) == (2, 6)
    _assert_constant_reads(few, many, extra_texts=4)
    bodies = db.session.scalars(select(OutboundMessage.body)
                                .where(OutboundMessage.purpose == "appointment_reminder")).all()
    assert len(bodies) == 8 and all("Thu, Jan 15 at 2:00 PM EST" in body for body in bodies)


def test_shipment_notices_are_read_in_one_select_whatever_their_number(app, db, create_user, count_queries,
                                                                       shipment):  # noqa: F811
    def notices(n: int) -> None:
        for _ in range(n):
            patient = _patient(db, create_user)
            row = Shipment(prescription_id=shipment.prescription_id, patient_id=patient.id, stage=1, sessions=2,
                           shipping_address=patient.patient_profile.shipping_address, carrier="UPS",
                           tracking_number=f"1ZNOTICE{next(_phones):04d}", ship_by=now() + timedelta(days=3),
                           deliver_by=now() + timedelta(days=5))
            db.session.add(row)
            db.session.flush()
            db.session.add(ShipmentNotice(shipment_id=row.id, kind="shipped"))

    notifications.enqueue_shipment_notices()  # anything pending before this test
    notices(2)
    done_few, few = _sweep(db, count_queries, notifications.enqueue_shipment_notices)
    notices(6)
    done_many, many = _sweep(db, count_queries, notifications.enqueue_shipment_notices)
    assert (done_few, done_many) == (2, 6)
    _assert_constant_reads(few, many, extra_texts=4)
    bodies = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.purpose == "shipment_shipped")).all()
    assert len([body for body in bodies if "https://www.ups.com/track?tracknum=1ZNOTICE" in body]) == 8

