"""The one audit call: who read or changed which patient record.

`record` adds the event to the current transaction, so a change and its audit row commit (or roll
back) together. Only identifiers and field names are stored, never values.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select

from telehealth.extensions import db
from telehealth.logs import current_request_id
from telehealth.models.accounts.accounts import User
from telehealth.models.platform.audit import AuditEvent


def _row(actor: User | None, action: str, resource_type: str, resource_id: object, patient_id: int | None,
         fields: Iterable[str]) -> dict:
    """An audit row's columns (occurred_at is the model's default, `now()`, on insert)."""
    return {"actor_id": getattr(actor, "id", None), "actor_role": getattr(getattr(actor, "role", None), "value", None),
            "action": action, "resource_type": resource_type,
            "resource_id": None if resource_id is None else str(resource_id), "patient_id": patient_id,
            "request_id": current_request_id(), "fields": ",".join(sorted(fields))[:500] or None}


def record(actor: User | None, action: str, resource_type: str, resource_id: object = None, *,
           patient_id: int | None = None, fields: Iterable[str] = ()) -> AuditEvent:
    event = AuditEvent(**_row(actor, action, resource_type, resource_id, patient_id, fields))
    db.session.add(event)
    return event


def record_many(actor: User | None, action: str, resource_type: str, resource_id: object,
                entries: Iterable[tuple[int, Iterable[str]]]) -> None:
    """One row per (patient_id, fields) in one INSERT: a list that shows many patients is audited
    in each one's trail at the cost of one statement."""
    rows = [_row(actor, action, resource_type, resource_id, patient_id, fields) for patient_id, fields in entries]
    if rows:
        db.session.execute(insert(AuditEvent), rows)


def trail(*, patient_id: int | None = None, actor_id: int | None = None, before_id: int | None = None,
          limit: int = 100) -> list[AuditEvent]:
    """Newest first; `before_id` pages backwards through the trail."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query))


def record_each(actor: User | None, action: str, resource_type: str,
                entries: Iterable[tuple[object, int | None]]) -> None:
    """One row per (resource_id, patient_id), in one INSERT: a page listing many records (alerts,
    screenings) audits each one's read at the cost of one statement, on every database."""
    rows = [_row(actor, action, resource_type, resource_id, patient_id, ()) for resource_id, patient_id in entries]
    if rows:
        db.session.execute(insert(AuditEvent), rows)
