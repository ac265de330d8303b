"""Request and response bodies for SMS consent and the SMS outbox."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.models.messaging.messaging import OutboundMessage
from telehealth.schemas.common import DbId
from telehealth.services.messaging.messages_admin import Category, ops_view


class SmsConsentIn(Schema):
    agree: Literal[True] = Field(description="true: I agree to the wording returned by GET")


class SmsConsentOut(Schema):
    phone: str
    wording: str
    wording_version: str
    opted_in: bool
    opted_in_at: Timestamp | None
    opted_out_at: Timestamp | None
    agreed_wording_version: str | None


class SmsOutboxQuery(Schema):
    status: Literal["pending", "sending", "sent", "failed", "suppressed", "cancelled"] | None = None
    before_id: DbId | None = None
    limit: int = Field(default=50, ge=1, le=200)


class SmsOutboxItem(Schema):
    """A text as ops see it: logistics, never its clinical purpose, priority or words."""
    id: int
    to: str
    category: Category
    body: str | None = Field(description="the words, only for shipping and account texts; null otherwise")
    status: str
    attempts: int
    last_error: str | None
    patient_id: int | None
    provider_sid: str | None
    not_before: Timestamp
    created_at: Timestamp
    sent_at: Timestamp | None


class SmsOutboxOut(Schema):
    items: list[SmsOutboxItem]
    next_before_id: int | None


def outbox_item(m: OutboundMessage) -> SmsOutboxItem:
    view = ops_view(m)
    return SmsOutboxItem(id=m.id, to=m.to_phone, category=view.category, body=view.body,
                         status=m.status.value, attempts=m.attempts, last_error=m.last_error, patient_id=m.patient_id,
                         provider_sid=m.provider_sid, not_before=m.not_before, created_at=m.created_at,
                         sent_at=m.sent_at)
