"""Availability, slot search, booking and cancelling."""
from flask import Blueprint, Response, current_app
from flask_login import current_user

from telehealth.api import PUBLIC, Empty, endpoint
from telehealth.errors import ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.scheduling.scheduling import (
    AppointmentListOut, AppointmentOut, AvailabilityOut, BookIn, CalendarFeedOut, CancelIn, EncounterIn, ExceptionIn,
    ExceptionOut, RescheduleIn, SlotListOut, SlotOut, SlotQuery, VideoTokenOut, WeeklyAvailabilityIn, WindowOut,
    appointment_out,
)
from telehealth.services.scheduling import calendars, scheduling

bp = Blueprint("scheduling", __name__, url_prefix="/api/v1")
feeds = Blueprint("calendar_feeds", __name__, url_prefix="/calendar")
PROVIDERS = (Role.PHYSICIAN, Role.COACH)


def _availability_out(provider) -> AvailabilityOut:
    return AvailabilityOut(time_zone=provider.time_zone, windows=[
        WindowOut(weekday=w.weekday, start_time=w.start_time, end_time=w.end_time)
        for w in scheduling.windows_of(provider.id)])


@bp.put("/me/availability")
@endpoint("Replace my weekly availability (wall-clock times in my own time zone)", tags=["scheduling"],
          auth=PROVIDERS, body=WeeklyAvailabilityIn, response=AvailabilityOut)
def set_availability(body: WeeklyAvailabilityIn):
    scheduling.set_weekly_windows(current_user, [(w.weekday, w.start_time, w.end_time) for w in body.windows])
    return _availability_out(current_user)


@bp.get("/me/availability")
@endpoint("My weekly availability", tags=["scheduling"], auth=PROVIDERS, response=AvailabilityOut)
def get_availability():
    return _availability_out(current_user)


@bp.post("/me/availability/exceptions")
@endpoint("Time off or extra hours on one date", tags=["scheduling"], auth=PROVIDERS, body=ExceptionIn,
          response=ExceptionOut, status=201)
def add_exception(body: ExceptionIn):
    row = scheduling.add_exception(current_user, body.day, body.kind, body.start_time, body.end_time)
    return ExceptionOut(id=row.id, day=row.day, kind=row.kind.value, start_time=row.start_time, end_time=row.end_time)


@bp.get("/slots")
@endpoint("Free slots for an appointment type, across every provider who may see me, in my time zone",
          tags=["scheduling"], auth=(Role.PATIENT,), query=SlotQuery, response=SlotListOut)
def slots(query: SlotQuery):
    if query.end <= query.start:
        raise ValidationFailed("The range is empty.", fields={"end": ["Must be after start."]})
    found = scheduling.find_slots(current_user, query.type, query.start, query.end, query.provider_id)
    return SlotListOut(items=[SlotOut(provider_id=s.provider.id, provider_name=s.provider.display_name,
                                      starts_at=s.starts_at, ends_at=s.ends_at, preferred=s.preferred) for s in found])


@bp.post("/appointments")
@endpoint("Book a slot (debits the matching credit)", tags=["scheduling"], auth=(Role.PATIENT,), body=BookIn,
          response=AppointmentOut, status=201, errors=(409,))
def book(body: BookIn):
    appointment = scheduling.book(current_user, body.type, body.provider_id, body.starts_at)
    return appointment_out(appointment, late=scheduling.is_late(appointment))


@bp.get("/me/appointments")
@endpoint("My appointments (as patient or provider)", tags=["scheduling"], response=AppointmentListOut)
def my_appointments():
    return AppointmentListOut(items=[appointment_out(a, late=scheduling.is_late(a))
                                     for a in scheduling.list_for(current_user)])


@bp.get("/appointments/<int:appointment_id>")
@endpoint("One appointment (its patient or provider; audited)", tags=["scheduling"], response=AppointmentOut)
def get_appointment(appointment_id: int):
    appointment = scheduling.read_appointment(current_user, appointment_id)
    return appointment_out(appointment, late=scheduling.is_late(appointment))


@bp.post("/appointments/<int:appointment_id>/cancel")
@endpoint("Cancel: in time the credit comes back; a patient's late cancellation needs accept_late", tags=["scheduling"],
          body=CancelIn, response=AppointmentOut, errors=(409,))
def cancel(appointment_id: int, body: CancelIn):
    appointment = scheduling.cancel(current_user, appointment_id, accept_late=body.accept_late)
    return appointment_out(appointment, late=appointment.late_cancellation)


@bp.post("/appointments/<int:appointment_id>/reschedule")
@endpoint("Move my appointment to another free slot (until the cancellation cutoff); the credit moves with it",
          tags=["scheduling"], auth=(Role.PATIENT,), body=RescheduleIn, response=AppointmentOut, status=201,
          errors=(409,))
def reschedule(appointment_id: int, body: RescheduleIn):
    appointment = scheduling.reschedule(current_user, appointment_id, body.starts_at, body.provider_id)
    return appointment_out(appointment, late=scheduling.is_late(appointment))


@bp.post("/appointments/<int:appointment_id>/no-show")
@endpoint("Mark that the patient did not come (the provider, once it has started)", tags=["scheduling"],
          auth=PROVIDERS, body=Empty, response=AppointmentOut, errors=(409,))
def no_show(appointment_id: int, body: Empty):
    return appointment_out(scheduling.mark_no_show(current_user, appointment_id), late=False)


@bp.post("/appointments/<int:appointment_id>/complete")
@endpoint("Record the video encounter (start, end, notes) and complete the appointment", tags=["scheduling"],
          auth=PROVIDERS, body=EncounterIn, response=AppointmentOut, errors=(409,))
def complete(appointment_id: int, body: EncounterIn):
    appointment = scheduling.complete(current_user, appointment_id, started_at=body.started_at,
                                      ended_at=body.ended_at, notes=body.notes)
    return appointment_out(appointment, late=False)


@bp.post("/appointments/<int:appointment_id>/video-token")
@endpoint("A Twilio Video access token for this appointment's room (its patient or provider, around its time)",
          tags=["scheduling"], body=Empty, response=VideoTokenOut, errors=(409,))
def video_token(appointment_id: int, body: Empty):
    token, room, closes = scheduling.video_token(current_user, appointment_id)
    return VideoTokenOut(token=token, room=room, expires_at=closes)


@bp.get("/appointments/<int:appointment_id>/calendar.ics")
@endpoint("The appointment as an iCalendar file (its patient or provider; audited)", tags=["scheduling"],
          content_type="text/calendar")
def appointment_ics(appointment_id: int):
    appointment = scheduling.read_appointment(current_user, appointment_id, as_file=True)
    return Response(calendars.appointment_ics(appointment, for_provider=appointment.provider_id == current_user.id),
                    mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="appointment-{appointment.id}.ics"'})


@bp.post("/me/calendar-feed")
@endpoint("A new private calendar feed URL (the previous one stops working)", tags=["scheduling"], auth=PROVIDERS,
          body=Empty, response=CalendarFeedOut, status=201)
def create_feed(body: Empty):
    token = calendars.create_feed(current_user)
    return CalendarFeedOut(url=f"{current_app.config['PUBLIC_BASE_URL']}/calendar/feeds/{token}.ics")


@bp.delete("/me/calendar-feed")
@endpoint("Revoke my calendar feed", tags=["scheduling"], auth=PROVIDERS, status=204, errors=(404,))
def revoke_feed():
    calendars.revoke_feed(current_user)


@feeds.get("/feeds/<token>.ics")
@endpoint("A provider's private calendar feed (the token is the secret)", tags=["scheduling"], auth=PUBLIC,
          content_type="text/calendar")
def feed(token: str):
    return Response(calendars.feed_ics(token), mimetype="text/calendar", headers={"Cache-Control": "no-store"})
