"""The SMS outbox as ops and admin read it: newest first, paged, each row an audited read."""
from __future__ import annotations

from sqlalchemy import select

from telehealth.extensions import db
from telehealth.models.accounts.accounts import User
from telehealth.models.messaging.messaging import MessageStatus, OutboundMessage
from telehealth.services.platform import audit


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
                     fields=["to_phone", "body"])
    db.session.commit()
    return rows
