"""Shipping SLAs in business days (Monday to Friday, less US federal holidays as observed, when the
pharmacy and the postal service do not work): shipped within 3 business days of the signed
prescription (of the stage's release for later stages), delivered within 5."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SHIP_WITHIN_BUSINESS_DAYS = 3
DELIVER_WITHIN_BUSINESS_DAYS = 5
BUSINESS_ZONE = "America/New_York"  # the pharmacy's working days


@lru_cache(maxsize=16)
def _federal_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.US(years=year, observed=True))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def add_business_days(start: datetime, days: int, zone: str = BUSINESS_ZONE) -> datetime:
    """The same wall-clock time `days` business days later; a start on a day off counts from the
    next business day's start."""
    local = start.astimezone(ZoneInfo(zone))
    if not is_business_day(local.date()):  # a weekend or holiday: the clock starts next morning
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        while not is_business_day(local.date()):
            local += timedelta(days=1)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if is_business_day(local.date()):
            added += 1
    return local.astimezone(start.tzinfo)


def deadlines(start: datetime) -> tuple[datetime, datetime]:
    return (add_business_days(start, SHIP_WITHIN_BUSINESS_DAYS),
            add_business_days(start, DELIVER_WITHIN_BUSINESS_DAYS))
