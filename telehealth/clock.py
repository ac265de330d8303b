"""The one clock of the service.

Every rule that depends on time calls `now()`; tests move it with time-machine. Values are always
timezone-aware UTC; conversion to a person's zone happens only when showing them.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import and_

UTC = timezone.utc


def now() -> datetime:
    return datetime.now(UTC)


def in_zone(moment: datetime, zone: str) -> datetime:
    """`moment` (aware) as wall-clock time in the IANA zone `zone`."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not allowed; store and pass UTC-aware values")
    return moment.astimezone(ZoneInfo(zone))


# Hawaii (and the Aleutians) are the last US states to reach a new day: checking an age against the
# date there never calls someone 18 while it is still the day before their birthday where they live.
WESTERNMOST_US_ZONE = "Pacific/Honolulu"


def local_day(moment: datetime, zone: str) -> date:
    """The calendar date `moment` falls on in the IANA zone `zone`."""
    return moment.astimezone(ZoneInfo(zone)).date()


def day_bounds(start: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """The days `start` to `end` (inclusive) in `zone` as UTC instants: [start 00:00, the day after
    end 00:00). Callers check the range themselves."""
    tz = ZoneInfo(zone)
    return (datetime.combine(start, time.min, tz).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC))


def earliest_us_date() -> date:
    return local_day(now(), WESTERNMOST_US_ZONE)


def today_in(zone: str) -> date:
    return local_day(now(), zone)


_ZONES: frozenset[str] | None = None


def is_valid_zone(zone: str) -> bool:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return zone in _ZONES


def overlaps(a_start, a_end, b_start, b_end):
    """Half-open intervals [start, end) overlap: the one overlap test of the code base. Given
    columns it builds the SQL condition, given datetimes (or wall-clock times) it answers."""
    if isinstance(a_start, (datetime, time)) and isinstance(b_start, (datetime, time)):
        return a_start < b_end and b_start < a_end
    return and_(a_start < b_end, b_start < a_end)
