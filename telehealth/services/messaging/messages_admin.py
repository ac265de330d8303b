"""The SMS outbox as ops and admin read it: newest first, paged, each row an audited read.

Minimum necessary: ops see logistics (to whom, when, held, failed, suppressed and why), never
what is clinical. `ops_view` is the one rule: a text's purpose becomes a non-clinical category,
its priority is not shown (a "crisis" priority would say what the text is), and its words are
shown only for shipping notices and account texts (STOP/START/HELP answers), which are fixed
wording with nothing clinical in them. A purpose not listed here is a `care_message`, words
hidden, so a new kind of text is private until someone decides otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.messaging.messaging import MessageStatus, OutboundMessage
from telehealth.services.platform import audit


Category = Literal["care_message", "reminder", "shipping", "account", "staff_page"]
CATEGORIES: tuple[Category, ...] = ("care_message", "reminder", "shipping", "account", "staff_page")
_ACCOUNT = frozenset({"opt_in_confirmation", "opt_out_confirmation", "opt_in_help", "help", "unknown_sender"})
_REMINDER_PREFIXES = ("appointment_reminder", "measure_retake", "check_in_prompt_", "check_in_remind_")
_BODY_SHOWN: frozenset[Category] = frozenset({"shipping", "account"})


@dataclass(frozen=True)
class OpsView:
    category: Category
    body: str | None


def category_of(purpose: str) -> Category:
    if purpose.startswith("shipment_"):
        return "shipping"
    if purpose in _ACCOUNT:
        return "account"
    if purpose.startswith(_REMINDER_PREFIXES):
        return "reminder"
    if purpose == "alert":
        return "staff_page"
    return "care_message"


def ops_view(message: OutboundMessage) -> OpsView:
    category = category_of(message.purpose)
    return OpsView(category=category, body=message.body if category in _BODY_SHOWN else None)


def outbox_page(viewer: User, *, status: str | None = None, before_id: int | None = None,
                limit: int = 50) -> list[OutboundMessage]:
    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboundMessage.status == MessageStatus(status))
    if before_id is not None:
        query = query.where(OutboundMessage.id < before_id)
    rows = list(db.session.scalars(query))
    for message in rows:
        audit.record(viewer, "read", "sms_message", message.id, patient_id=message.patient_id,
                     fields=["to_phone", "body"] if ops_view(message).body is not None else ["to_phone"])
    db.session.commit()
    return rows
