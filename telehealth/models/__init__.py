"""Models grouped by domain; importing this package registers every table on the metadata."""
from telehealth.models.accounts.accounts import (
    CoachProfile, LoginSession, PatientProfile, PhysicianLicense, PhysicianProfile, Role, User,
)
from telehealth.models.platform.alerts import AlertPage, AlertStatus, ClinicalAlert, OnCallShift
from telehealth.models.screening.assessments import (
    Assessment, AssessmentStatus, Decision, Measure, ReviewDecision, ReviewStatus,
)
from telehealth.models.platform.audit import AuditEvent
from telehealth.models.billing.billing import (
    BillingCustomer, CreditBalance, CreditEntry, CreditKind, Diagnosis, EntryType, Order, OrderStatus, Product,
    ProductKind, Refund, StripeEvent, Subscription, SubscriptionStatus,
)
from telehealth.models.accounts.care import CareAssignment, CareRole
from telehealth.models.accounts.two_factor import StaffRecoveryCode, StaffTwoFactor
from telehealth.models.care.care_notes import (
    CoachingNote, DecisionKind, FollowUpDecision, PatientTreatmentPhase, RetakeRequest, TreatmentPhase,
)
from telehealth.models.care.journal import JournalEntry
from telehealth.models.pharmacy.prescriptions import DosageForm, Prescription, PrescriptionStatus
from telehealth.models.pharmacy.shipments import Shipment, ShipmentEvent, ShipmentNotice, ShipmentStatus
from telehealth.models.scheduling.scheduling import (
    Appointment, AppointmentStatus, AvailabilityException, AvailabilityWindow, CalendarFeed, ExceptionKind, Reminder,
)
from telehealth.models.messaging.mail import OutboxMail
from telehealth.models.home_care.home_sessions import (
    AdverseEvent, AdverseGrade, BloodPressureReading, BpBand, BpSource, CheckIn, CheckInKind, CheckInStatus,
    HomeSession, SessionStatus, TreatmentPause,
)
from telehealth.models.messaging.messaging import (
    InboundMessage, MessagePriority, MessageStatus, OutboundMessage, SmsConsent,
)
from telehealth.models.records.releases import RecordRelease, ReleaseScope, ReleaseStatus

__all__ = [
    "CoachingNote", "DecisionKind", "FollowUpDecision", "PatientTreatmentPhase", "RetakeRequest", "TreatmentPhase",
    "JournalEntry",
    "AdverseEvent", "AdverseGrade", "BloodPressureReading", "BpBand", "BpSource", "CheckIn", "CheckInKind",
    "CheckInStatus", "HomeSession", "SessionStatus", "TreatmentPause",
    "RecordRelease", "ReleaseScope", "ReleaseStatus",
    "InboundMessage", "MessagePriority", "MessageStatus", "OutboundMessage", "SmsConsent",
    "Shipment", "ShipmentEvent", "ShipmentNotice", "ShipmentStatus",
    "DosageForm", "Prescription", "PrescriptionStatus",
    "Appointment", "AppointmentStatus", "AvailabilityException", "AvailabilityWindow", "CalendarFeed", "ExceptionKind",
    "Reminder",
    "BillingCustomer", "CreditBalance", "CreditEntry", "CreditKind", "Diagnosis", "EntryType", "Order", "OrderStatus",
    "Product", "ProductKind", "Refund", "StripeEvent", "Subscription", "SubscriptionStatus",
    "AlertPage", "AlertStatus", "OnCallShift", "Assessment", "AssessmentStatus", "ClinicalAlert", "Decision", "Measure", "ReviewDecision",
    "ReviewStatus", "AuditEvent", "CareAssignment", "CareRole", "CoachProfile", "LoginSession", "OutboxMail", "PatientProfile",
    "PhysicianLicense", "PhysicianProfile", "Role", "User",
    "StaffRecoveryCode", "StaffTwoFactor",
]
