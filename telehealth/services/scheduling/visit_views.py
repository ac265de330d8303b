"""What an appointment's provider (a physician or a coach) sees of it on the visit page, read from
the rules in `scheduling` (none is restated here): the patient's name, whether the video room is
open (or too early, or over, in the service's words), and what may be recorded now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telehealth.clock import now
from telehealth.errors import Forbidden
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.scheduling.scheduling import Appointment, AppointmentStatus
from telehealth.services.scheduling import scheduling
from telehealth.services.scheduling.patient_views import outcome_of, room_state
from telehealth.services.scheduling.scheduling import AppointmentType


@dataclass(frozen=True)
class VisitView:
    appointment: Appointment
    kind: AppointmentType
    patient_name: str
    opens_at: datetime     # its video room
    closes_at: datetime
    room: str              # "open", "too_early", "ended" or "cancelled" (`scheduling.check_video_open`)
    room_message: str      # the service's words when it is not open
    outcome: str           # "booked", "ended", "held", "missed", "cancelled"...
    by_physician: bool     # a consult or a follow-up (else a coaching session)

    @property
    def booked(self) -> bool:
        return self.appointment.status is AppointmentStatus.BOOKED

    @property
    def started(self) -> bool:
        return scheduling.has_started(self.appointment)

    @property
    def recorded(self) -> bool:
        return self.appointment.status is AppointmentStatus.COMPLETED

    def suggested_times(self) -> tuple[datetime, datetime]:
        """The encounter's start and end as the form first offers them: the booked time, cut at now."""
        start = self.appointment.starts_at
        return start, max(start, min(self.appointment.ends_at, now()))


def my_visit(provider: User, appointment_id: int) -> VisitView:
    """One appointment for its own provider (its patient, another provider, ops, admin: refused and
    audited by `scheduling.get_appointment`, or here for the patient); the read is audited."""
    appointment = scheduling.read_appointment(provider, appointment_id)
    if appointment.provider_id != provider.id:
        raise Forbidden("Only the appointment's provider holds this visit.")
    patient = db.session.get(User, appointment.patient_id)
    profile = patient.patient_profile
    # A physician reads the legal name (the one on a prescription); a coach the display name, as on
    # every other coach page (`coach_desk`).
    by_physician = provider.role is Role.PHYSICIAN
    name = (f"{profile.legal_first_name} {profile.legal_last_name}" if profile and by_physician
            else patient.display_name)
    opens, closes = scheduling.video_window(appointment)
    room, message = room_state(appointment)
    return VisitView(appointment=appointment, kind=scheduling.appointment_type(appointment.appointment_type),
                     patient_name=name, opens_at=opens, closes_at=closes, room=room, room_message=message,
                     outcome=outcome_of(appointment, room), by_physician=by_physician)
