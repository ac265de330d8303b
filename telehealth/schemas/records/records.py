"""Request and response bodies for releases of information, the provider's progress report, the FHIR
export and the patient's own full record."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from telehealth.api import Schema, Timestamp
from telehealth.models.records.releases import ReleaseScope
from telehealth.schemas.accounts.accounts import UserOut, user_out
from telehealth.schemas.screening.assessments import MeasureOut, ReasonOut, ReviewOut, _review
from telehealth.schemas.billing.billing import CreditsOut, OrderOut, SubscriptionOut, credits_out, order_out, subscription_out
from telehealth.schemas.common import DbId, Phone, Text100, text
from telehealth.schemas.home_care.home_sessions import (
    AdverseEventOut, CheckInOut, PauseOut, ReadingOut, SessionOut, adverse_event_out, check_in_out, pause_out,
    reading_out, session_out,
)
from telehealth.schemas.messaging.messaging import SmsConsentOut
from telehealth.schemas.pharmacy.prescriptions import PrescriptionOut, prescription_out
from telehealth.schemas.scheduling.scheduling import AppointmentOut, appointment_out
from telehealth.schemas.pharmacy.shipments import ShipmentOut, shipment_out
from telehealth.services.records.releases import DEFAULT_VALID_DAYS, MAX_VALID_DAYS

# ------------------------------------------------------------------ input


class RecipientContact(Schema):
    phone: Phone | None = None
    email: EmailStr | None = None


class ReleaseIn(Schema):
    """Whom to share with; leave the recipient out to use the mental-health provider of my profile."""

    recipient_name: Text100 | None = None
    recipient_organization: text(200, min_length=0) | None = None
    recipient_contact: RecipientContact | None = None
    scope: Literal["progress_report", "fhir_record"] = Field(
        default=ReleaseScope.PROGRESS_REPORT.value,
        description="what may be shared: the progress report, or the FHIR record a physician exports (one scope "
                    "per release: grant two to share both)")
    valid_days: int = Field(default=DEFAULT_VALID_DAYS, ge=1, le=MAX_VALID_DAYS,
                            description="how long the release lasts (at most a year)")


class ProgressReportQuery(Schema):
    format: Literal["html", "pdf"] = "html"
    release_id: DbId | None = Field(default=None, description="the release to report under (default: the newest "
                                                               "active one)")


class RecordQuery(Schema):
    format: Literal["json", "fhir"] = "json"


# ------------------------------------------------------------------ output


class ReleaseOut(Schema):
    id: int
    status: str                      # active, expired, revoked
    recipient_name: str
    recipient_organization: str
    recipient_contact: dict | None
    scope: str
    wording: str
    wording_version: str
    granted_at: Timestamp
    expires_at: Timestamp
    revoked_at: Timestamp | None


class ReleaseListOut(Schema):
    items: list[ReleaseOut]


class ScreeningScoresOut(Schema):
    phq9_total: int | None
    phq9_band: str | None
    gad7_total: int | None
    gad7_band: str | None
    cssrs_risk: str | None


class AssessmentRecordOut(Schema):
    """A submitted screening with its answers (scores may be missing: the columns allow it)."""

    id: int
    questionnaire: str
    version: int
    submitted_at: Timestamp
    outcome: str | None
    reasons: list[ReasonOut]
    scores: ScreeningScoresOut
    review: ReviewOut | None
    answers: dict


class MeasureRecordOut(MeasureOut):
    questionnaire_version: int
    answers: dict


class CheckInRecordOut(CheckInOut):
    session_id: int


class MessageRecordOut(Schema):
    id: int
    to: str
    body: str
    purpose: str
    status: str
    created_at: Timestamp
    sent_at: Timestamp | None


class CoachingSummaryOut(Schema):
    """The summary of a coaching session the coach wrote for me (the coach's private note is not mine)."""

    id: int
    appointment_id: int
    summary: str
    written_at: Timestamp
    updated_at: Timestamp


class FollowUpDecisionRecordOut(Schema):
    """What my physician decided at a follow-up, and when (their clinical note stays with the care team)."""

    id: int
    decision: str
    decided_at: Timestamp
    appointment_id: int | None
    prescription_id: int | None


class JournalEntryRecordOut(Schema):
    """An entry of my integration journal, as I wrote it, and whether my coach may read it."""

    id: int
    session_id: int | None
    body: str
    shared: bool
    shared_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class RecordOut(Schema):
    """Everything the program holds about me."""

    exported_at: Timestamp
    profile: UserOut
    assessments: list[AssessmentRecordOut]
    measures: list[MeasureRecordOut]
    orders: list[OrderOut]
    subscription: SubscriptionOut | None
    credits: CreditsOut
    appointments: list[AppointmentOut]
    prescriptions: list[PrescriptionOut]
    shipments: list[ShipmentOut]
    sessions: list[SessionOut]
    check_ins: list[CheckInRecordOut]
    readings: list[ReadingOut]
    adverse_events: list[AdverseEventOut]
    pauses: list[PauseOut]
    coaching_summaries: list[CoachingSummaryOut]
    follow_up_decisions: list[FollowUpDecisionRecordOut]
    treatment_status: str = Field(description="active, paused, maintenance or discharged")
    journal: list[JournalEntryRecordOut]
    messages: list[MessageRecordOut]
    consents: dict[str, SmsConsentOut | None]
    releases: list[ReleaseOut]


# ------------------------------------------------------------------ presenters


def release_out(r, at: datetime) -> ReleaseOut:
    return ReleaseOut(id=r.id, status=r.status(at).value, recipient_name=r.recipient_name,
                      recipient_organization=r.recipient_organization, recipient_contact=r.recipient_contact,
                      scope=r.scope, wording=r.wording, wording_version=r.wording_version, granted_at=r.granted_at,
                      expires_at=r.expires_at, revoked_at=r.revoked_at)


def assessment_record_out(a) -> AssessmentRecordOut:
    reasons = [ReasonOut(**r) for r in a.reasons or []]
    if a.outcome == "crisis":  # as in the app: the person in crisis reads the crisis findings only
        reasons = [r for r in reasons if r.outcome == "crisis"]
    review = _review(a, for_physician=False) if a.review_status is not None and a.review_due_at else None
    return AssessmentRecordOut(
        id=a.id, questionnaire=a.questionnaire_id, version=a.questionnaire_version, submitted_at=a.submitted_at,
        outcome=a.outcome, reasons=reasons,
        scores=ScreeningScoresOut(phq9_total=a.phq9_total, phq9_band=a.phq9_band, gad7_total=a.gad7_total,
                                  gad7_band=a.gad7_band, cssrs_risk=a.cssrs_risk),
        review=review, answers=a.answers or {})


def record_out(rec) -> RecordOut:
    from telehealth.services.scheduling.scheduling import is_late
    from telehealth.models.scheduling.scheduling import AppointmentStatus

    at = rec.exported_at
    return RecordOut(
        exported_at=at, profile=user_out(rec.patient),
        assessments=[assessment_record_out(a) for a in rec.assessments],
        measures=[MeasureRecordOut(id=m.id, instrument=m.instrument, total=m.total, band=m.band, taken_at=m.taken_at,
                                   source=m.source, questionnaire_version=m.questionnaire_version,
                                   answers=m.answers or {}) for m in rec.measures],
        orders=[order_out(o) for o in rec.orders],
        subscription=subscription_out(rec.subscription) if rec.subscription is not None else None,
        credits=credits_out(rec.credit_balances, rec.credit_entries),
        appointments=[appointment_out(a, late=a.status is AppointmentStatus.BOOKED and is_late(a))
                      for a in rec.appointments],
        prescriptions=[prescription_out(p) for p in rec.prescriptions],
        shipments=[shipment_out(s) for s in rec.shipments],
        sessions=[session_out(s) for s in rec.sessions],
        check_ins=[CheckInRecordOut(**dict(check_in_out(c)), session_id=c.session_id) for c in rec.check_ins],
        readings=[reading_out(r) for r in rec.readings],
        adverse_events=[adverse_event_out(e) for e in rec.adverse_events],
        pauses=[pause_out(p) for p in rec.pauses],
        coaching_summaries=[CoachingSummaryOut(id=v.note.id, appointment_id=v.note.appointment_id,
                                               summary=v.note.patient_summary, written_at=v.note.created_at,
                                               updated_at=v.note.updated_at) for v in rec.coaching_notes],
        follow_up_decisions=[FollowUpDecisionRecordOut(id=d.id, decision=d.decision.value, decided_at=d.decided_at,
                                                       appointment_id=d.appointment_id,
                                                       prescription_id=d.prescription_id)
                             for d in rec.follow_up_decisions],
        treatment_status=rec.treatment_status,
        journal=[JournalEntryRecordOut(id=e.id, session_id=e.session_id, body=e.body, shared=e.shared,
                                       shared_at=e.shared_at, created_at=e.created_at, updated_at=e.updated_at)
                 for e in rec.journal],
        messages=[MessageRecordOut(id=m.id, to=m.to_phone, body=m.body, purpose=m.purpose, status=m.status.value,
                                   created_at=m.created_at, sent_at=m.sent_at) for m in rec.messages],
        consents={"sms": SmsConsentOut(**rec.sms_consent) if rec.sms_consent is not None else None},
        releases=[release_out(r, at) for r in rec.releases],
    )
