"""Models grouped by domain; importing this package registers every table on the metadata."""
from telehealth.models.accounts import CoachProfile, PatientProfile, PhysicianLicense, PhysicianProfile, Role, User
from telehealth.models.audit import AuditEvent
from telehealth.models.care import CareAssignment, CareRole
from telehealth.models.mail import OutboxMail

__all__ = [
    "AuditEvent", "CareAssignment", "CareRole", "CoachProfile", "OutboxMail", "PatientProfile",
    "PhysicianLicense", "PhysicianProfile", "Role", "User",
]
