"""Shipping SLAs in business days (Monday to Friday): shipped within 3 business days of the signed
prescription (of the stage's release for later stages), delivered within 5."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHIP_WITHIN_BUSINESS_DAYS = 3
DELIVER_WITHIN_BUSINESS_DAYS = 5
BUSINESS_ZONE = "America/New_York"  # the pharmacy's working days


def add_business_days(start: datetime, days: int, zone: str = BUSINESS_ZONE) -> datetime:
    """The same wall-clock time `days` business days later; a start on a weekend counts from the
    next Monday's start."""
    local = start.astimezone(ZoneInfo(zone))
    if local.weekday() >= 5:  # Saturday or Sunday: the clock starts on Monday morning
        local = (local + timedelta(days=7 - local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local.astimezone(start.tzinfo)


def deadlines(start: datetime) -> tuple[datetime, datetime]:
    return (add_business_days(start, SHIP_WITHIN_BUSINESS_DAYS),
            add_business_days(start, DELIVER_WITHIN_BUSINESS_DAYS))
