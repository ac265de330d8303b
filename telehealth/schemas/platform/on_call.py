"""Request and response bodies of the on-call rota (admin) and of who is on call now (staff)."""
from __future__ import annotations

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.schemas.common import DbId, Moment, Phone


class ShiftIn(Schema):
    physician_id: DbId
    starts_at: Moment
    ends_at: Moment = Field(description="Exclusive: the next shift may start at this instant.")
    phone: Phone | None = Field(default=None, description="The number to page; default: the physician's own.")


class ShiftQuery(Schema):
    since: Moment | None = Field(default=None, description="Default: now.")
    until: Moment | None = Field(default=None, description="Default: 14 days after since; at most 92 days.")


class ShiftOut(Schema):
    id: int
    physician_id: int
    physician_name: str
    phone: str
    starts_at: Timestamp
    ends_at: Timestamp
    created_by: int | None
    created_at: Timestamp


class ShiftListOut(Schema):
    items: list[ShiftOut]


class OnCallNowOut(Schema):
    on_call: list[ShiftOut] = Field(description="The shift under way now (empty: nobody is on call, every "
                                                "active physician and the fallback number are paged).")
    next: ShiftOut | None


def shift_out(s) -> ShiftOut:
    return ShiftOut(id=s.id, physician_id=s.physician_id, physician_name=s.physician.display_name, phone=s.phone_e164,
                    starts_at=s.starts_at, ends_at=s.ends_at, created_by=s.created_by, created_at=s.created_at)
