"""A patient's own full record, downloadable at any time (PRODUCT.md: "a provider that shut down left
patients with nothing").

Everything the program holds about the patient, gathered through the services that already read
each part (so each keeps its own rules and audit): profile, screenings with answers and reviews,
symptom measures with answers, orders, credits, the subscription, appointments, prescriptions,
shipments, at-home sessions with their check-ins, blood-pressure readings, adverse events, pauses,
the summaries of their coaching sessions (never the coach's private note), the physician's follow-up
decisions (what was decided and when, never the physician's note) and the treatment status, their
integration journal (every entry, shared or private), the texts sent to them, their SMS consent and their releases. Only the patient themself may export
it; the export is audited as one event naming its sections.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.screening.assessments import Assessment, Measure
from telehealth.models.billing.billing import CreditEntry, CreditKind, Order, Subscription
from telehealth.models.home_care.home_sessions import (
    AdverseEvent, BloodPressureReading, CheckIn, HomeSession, TreatmentPause,
)
from telehealth.models.messaging.messaging import MessagePriority, OutboundMessage
from telehealth.models.pharmacy.prescriptions import Prescription
from telehealth.models.records.releases import RecordRelease
from telehealth.models.scheduling.scheduling import Appointment
from telehealth.models.pharmacy.shipments import Shipment
from telehealth.models.care.care_notes import FollowUpDecision
from telehealth.models.care.journal import JournalEntry
from telehealth.services.billing import ledger, purchases
from telehealth.services.care import coaching, follow_ups, journal
from telehealth.services.home_care import treatment_oversight
from telehealth.services.messaging import sms_consent
from telehealth.services.pharmacy import prescriptions, shipments
from telehealth.services.platform import audit
from telehealth.services.records import releases
from telehealth.services.scheduling import scheduling
from telehealth.services.screening import assessments, measures
from telehealth.services.platform.authz import require_role

SECTIONS = ("profile", "assessments", "measures", "orders", "subscription", "credits", "appointments",
            "prescriptions", "shipments", "sessions", "check_ins", "readings", "adverse_events", "pauses",
            "coaching_summaries", "follow_up_decisions", "treatment_status", "journal", "messages", "consents",
            "releases")


@dataclass(frozen=True)
class PatientRecord:
    patient: User
    exported_at: datetime
    assessments: list[Assessment]
    measures: list[Measure]
    orders: list[Order]
    subscription: Subscription | None
    credit_balances: dict[CreditKind, int]
    credit_entries: list[CreditEntry]
    appointments: list[Appointment]
    prescriptions: list[Prescription]
    shipments: list[Shipment]
    sessions: list[HomeSession]
    check_ins: list[CheckIn]
    readings: list[BloodPressureReading]
    adverse_events: list[AdverseEvent]
    pauses: list[TreatmentPause]
    coaching_notes: list[coaching.NoteView]       # private_note is None: the patient's view
    follow_up_decisions: list[FollowUpDecision]   # presented without the physician's note
    treatment_status: str
    journal: list[JournalEntry]                    # oldest first
    messages: list[OutboundMessage]
    sms_consent: dict | None
    releases: list[RecordRelease]


def _messages_to(patient: User) -> list[OutboundMessage]:
    """Texts the program sent, or will send, about the patient to a person (not the on-call staff pages)."""
    return list(db.session.scalars(select(OutboundMessage).where(
        OutboundMessage.patient_id == patient.id, OutboundMessage.priority != MessagePriority.STAFF)
        .order_by(OutboundMessage.created_at, OutboundMessage.id)))


def full_record(patient: User) -> PatientRecord:
    """The patient's whole record, for the patient alone. Audited."""
    require_role(patient, (Role.PATIENT,))
    sessions, _, events, pauses = treatment_oversight.patient_overview(patient, patient.id)
    sessions = sorted(sessions, key=lambda s: (s.scheduled_for, s.id))
    decisions, status = follow_ups.decisions_for(patient, patient.id)
    record = PatientRecord(
        patient=patient, exported_at=now(),
        assessments=assessments.list_for_patient(patient),
        measures=measures.history(patient, patient.id),
        orders=purchases.list_orders(patient.id),
        subscription=purchases.current_subscription(patient.id),
        credit_balances=ledger.balances(patient.id),
        credit_entries=ledger.entries(patient.id, limit=None),  # every entry
        appointments=scheduling.list_for(patient),
        prescriptions=prescriptions.for_patient(patient, patient.id),
        shipments=shipments.for_patient(patient),
        sessions=sessions,
        check_ins=[c for s in sessions for c in s.check_ins],
        readings=treatment_oversight.readings(patient.id),  # every one, not the overview's latest 100
        adverse_events=sorted(events, key=lambda e: (e.opened_at, e.id)),
        pauses=sorted(pauses, key=lambda p: (p.started_at, p.id)),
        coaching_notes=sorted(coaching.notes_for_patient(patient, patient.id),
                              key=lambda v: (v.note.created_at, v.note.id)),
        follow_up_decisions=sorted(decisions, key=lambda d: (d.decided_at, d.id)),
        treatment_status=status,
        journal=sorted(journal.my_entries(patient), key=lambda e: (e.created_at, e.id)),
        messages=_messages_to(patient),
        sms_consent=sms_consent.state(patient) if patient.patient_profile is not None else None,
        releases=releases.list_releases(patient),
    )
    audit.record(patient, "export", "patient_record", patient.id, patient_id=patient.id, fields=SECTIONS)
    db.session.commit()
    return record
