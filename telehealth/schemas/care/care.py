"""Request and response bodies of the care team's views: the patient timeline and the physician's work list."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from telehealth.api import Schema, Timestamp
from telehealth.services.care.timeline import MAX_LIMIT as TIMELINE_MAX
from telehealth.services.care.timeline import Event, Page
from telehealth.services.care.worklist import MAX_LIMIT as WORKLIST_MAX
from telehealth.services.care.worklist import Reason, WorkItem, WorkList

# A detail's value; moments among them are shown in the viewer's zone like every other timestamp.
DetailValue = Timestamp | bool | int | str | list[Any] | dict[str, Any] | None


class TimelineQuery(Schema):
    before: str | None = Field(default=None, max_length=80, pattern=r"^[0-9]{1,19}\.[a-z_]{1,40}\.[0-9]{1,19}$",
                               description="next_before of the previous page")
    limit: int = Field(default=50, ge=1, le=TIMELINE_MAX)


class TimelineEventOut(Schema):
    id: str = Field(description="<kind>:<row id>, unique in the timeline")
    at: Timestamp
    kind: str
    title: str
    details: dict[str, DetailValue]


class TimelineOut(Schema):
    items: list[TimelineEventOut]
    next_before: str | None = Field(description="pass as `before` for the next (older) page; null on the last")


def timeline_event_out(event: Event) -> TimelineEventOut:
    return TimelineEventOut(id=event.id, at=event.at, kind=event.kind, title=event.title, details=event.details)


def timeline_out(page: Page) -> TimelineOut:
    return TimelineOut(items=[timeline_event_out(e) for e in page.items], next_before=page.next_before)


class WorklistQuery(Schema):
    limit: int = Field(default=100, ge=1, le=WORKLIST_MAX)


class WorkReasonOut(Schema):
    code: str = Field(description="follow_up_due, follow_up_overdue, adverse_event, treatment_pause, escalation, "
                                  "stage_review")
    title: str
    due_at: Timestamp
    urgent: bool
    count: int


class WorkItemOut(Schema):
    patient_id: int
    name: str
    urgent: bool
    due_at: Timestamp
    reasons: list[WorkReasonOut]


class WorklistOut(Schema):
    items: list[WorkItemOut]
    total: int = Field(description="patients needing action; items holds the first `limit`")


def _reason_out(reason: Reason) -> WorkReasonOut:
    return WorkReasonOut(code=reason.code, title=reason.title, due_at=reason.due_at, urgent=reason.urgent,
                         count=reason.count)


def _item_out(item: WorkItem) -> WorkItemOut:
    return WorkItemOut(patient_id=item.patient_id, name=item.name, urgent=item.urgent, due_at=item.due_at,
                       reasons=[_reason_out(r) for r in item.reasons])


def worklist_out(result: WorkList) -> WorklistOut:
    return WorklistOut(items=[_item_out(i) for i in result.items], total=result.total)
