"""The one clock of the service.

Every rule that depends on time calls `now()`; tests move it with time-machine. Values are always
timezone-aware UTC; conversion to a person's zone happens only when showing them.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

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


def earliest_us_date() -> date:
    return now().astimezone(ZoneInfo(WESTERNMOST_US_ZONE)).date()


def today_in(zone: str) -> date:
    return now().astimezone(ZoneInfo(zone)).date()


_ZONES: frozenset[str] | None = None


def is_valid_zone(zone: str) -> bool:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return zone in _ZONES
