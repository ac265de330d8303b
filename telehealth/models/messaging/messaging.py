"""Text messages: the outbox of texts to send, SMS consent per phone number, and texts received.

An `OutboundMessage` is written in the transaction of the change that owes the text; dispatchers
(services/messaging/outbox.py, run by the scheduler) claim due rows with a lease, send them through the SMS
adapter and record Twilio's SID. Bodies are short and never clinical; they are encrypted at rest
all the same (a phone number next to an appointment time is still about a patient).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.clock import now
from telehealth.extensions import db
from telehealth.models.accounts.accounts import enum_column
from telehealth.models.types import EncryptedText, UTCDateTime


class MessagePriority(StrEnum):
    ROUTINE = "routine"    # quiet hours and opt-out apply
    REPLY = "reply"        # a direct answer to a text the person just sent: opt-out applies, no quiet hours
    CRISIS = "crisis"      # neither applies
    STAFF = "staff"        # to staff (on-call alerts): no quiet hours, no patient opt-out


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"      # claimed by a dispatcher under a lease
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # opt-out or no opt-in: never sent
    CANCELLED = "cancelled"    # the number said STOP before it went


class OutboundMessage(db.Model):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_due", "status", "not_before"),
        Index("ix_outbound_messages_lease", "status", "lease_until"),
        Index("ix_outbound_messages_to_status", "to_phone", "status"),
        Index("ix_outbound_messages_patient_created", "patient_id", "created_at"),  # the patient timeline
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_phone: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(EncryptedText)
    purpose: Mapped[str] = mapped_column(String(40))
    priority: Mapped[MessagePriority] = mapped_column(enum_column(MessagePriority, "message_priority"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, "outbound_message_status"),
                                                  default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))      # short, never PHI
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)  # the last attempt may have reached Twilio
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsConsent(db.Model):
    """A phone number's consent: when and to which exact words it agreed, and when it said STOP.
    A number that texted STOP without ever opting in has a row too (user unknown, never opted in)."""

    __tablename__ = "sms_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    phone_e164: Mapped[str] = mapped_column(String(16), unique=True)
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wording: Mapped[str | None] = mapped_column(Text)
    wording_version: Mapped[str | None] = mapped_column(String(20))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opt_out_keyword: Mapped[str | None] = mapped_column(String(20))

    @property
    def is_active(self) -> bool:
        return self.opted_in_at is not None and self.opted_out_at is None


class InboundMessage(db.Model):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(16), index=True)
    body: Mapped[str] = mapped_column(EncryptedText)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    handled_as: Mapped[str] = mapped_column(String(20))  # keyword | crisis | reply | unknown | ...
