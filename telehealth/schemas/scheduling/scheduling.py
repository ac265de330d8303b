"""Request and response bodies for availability, slots and appointments."""
from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import DbId, Moment, WallTime, text

TypeCode = Literal["consult", "follow_up", "coaching_30", "coaching_60"]


class WindowIn(Schema):
    weekday: int = Field(ge=0, le=6, description="0 is Monday")
    start_time: WallTime
    end_time: WallTime


class WeeklyAvailabilityIn(Schema):
    windows: list[WindowIn] = Field(max_length=50)


class ExceptionIn(Schema):
    day: date
    kind: Literal["off", "extra"]
    start_time: WallTime | None = None
    end_time: WallTime | None = None


class WindowOut(Schema):
    weekday: int
    start_time: time
    end_time: time


class AvailabilityOut(Schema):
    time_zone: str
    windows: list[WindowOut]


class ExceptionOut(Schema):
    id: int
    day: date
    kind: str
    start_time: time | None
    end_time: time | None


class SlotQuery(Schema):
    type: TypeCode
    start: Moment
    end: Moment
    provider_id: DbId | None = None


class SlotOut(Schema):
    provider_id: int
    provider_name: str
    starts_at: Timestamp
    ends_at: Timestamp
    preferred: bool


class SlotListOut(Schema):
    items: list[SlotOut]


class BookIn(Schema):
    type: TypeCode
    provider_id: DbId
    starts_at: Moment


class CancelIn(Schema):
    accept_late: bool = False


class RescheduleIn(Schema):
    starts_at: Moment
    provider_id: DbId | None = None


class EncounterIn(Schema):
    started_at: Moment
    ended_at: Moment
    notes: text(10000, min_length=0) = ""


class VideoTokenOut(Schema):
    token: str
    room: str
    expires_at: Timestamp


class CalendarFeedOut(Schema):
    url: str


class AppointmentOut(Schema):
    id: int
    type: str
    patient_id: int
    provider_id: int
    starts_at: Timestamp
    ends_at: Timestamp
    status: str
    late_cancellation: bool
    cancellation_is_late: bool


class AppointmentListOut(Schema):
    items: list[AppointmentOut]


def appointment_out(a, *, late: bool) -> AppointmentOut:
    return AppointmentOut(id=a.id, type=a.appointment_type, patient_id=a.patient_id, provider_id=a.provider_id,
                          starts_at=a.starts_at, ends_at=a.ends_at, status=a.status.value,
                          late_cancellation=a.late_cancellation, cancellation_is_late=late)
