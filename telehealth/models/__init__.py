"""Models grouped by domain; importing this package registers every table on the metadata."""
from telehealth.models.accounts import (
    CoachProfile, LoginSession, PatientProfile, PhysicianLicense, PhysicianProfile, Role, User,
)
from telehealth.models.alerts import AlertPage, AlertStatus, ClinicalAlert, OnCallShift
from telehealth.models.assessments import (
    Assessment, AssessmentStatus, Decision, Measure, ReviewDecision, ReviewStatus,
)
from telehealth.models.audit import AuditEvent
from telehealth.models.billing import (
    BillingCustomer, CreditBalance, CreditEntry, CreditKind, Diagnosis, EntryType, Order, OrderStatus, Product,
    ProductKind, Refund, StripeEvent, Subscription, SubscriptionStatus,
)
from telehealth.models.care import CareAssignment, CareRole
from telehealth.models.care_notes import (
    CoachingNote, DecisionKind, FollowUpDecision, PatientTreatmentPhase, RetakeRequest, TreatmentPhase,
)
from telehealth.models.prescriptions import DosageForm, Prescription, PrescriptionStatus
from telehealth.models.shipments import Shipment, ShipmentEvent, ShipmentNotice, ShipmentStatus
from telehealth.models.scheduling import (
    Appointment, AppointmentStatus, AvailabilityException, AvailabilityWindow, CalendarFeed, ExceptionKind, Reminder,
)
from telehealth.models.mail import OutboxMail
from telehealth.models.home_sessions import (
    AdverseEvent, AdverseGrade, BloodPressureReading, BpBand, BpSource, CheckIn, CheckInKind, CheckInStatus,
    HomeSession, SessionStatus, TreatmentPause,
)
from telehealth.models.messaging import (
    InboundMessage, MessagePriority, MessageStatus, OutboundMessage, SmsConsent,
)
from telehealth.models.releases import RecordRelease, ReleaseScope, ReleaseStatus

__all__ = [
    "CoachingNote", "DecisionKind", "FollowUpDecision", "PatientTreatmentPhase", "RetakeRequest", "TreatmentPhase",
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
]
