"""Free slots from weekly windows, dated exceptions and busy intervals: pure, no database.

Windows are wall-clock times in the provider's zone. Each day's windows become absolute instants
first and slots are stepped in absolute time, so a daylight-saving change shortens or lengthens
that day's window exactly as a clock on the provider's wall would: no slot at a local time that
does not exist, and the hour that happens twice offered twice (they are two real hours).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telehealth.clock import UTC, overlaps


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 is Monday
    start: time
    end: time


@dataclass(frozen=True)
class DayException:
    day: date
    kind: str  # "off" | "extra"
    start: time | None = None
    end: time | None = None


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The absolute instant of a wall-clock time (fold=0: of a time that happens twice, the first;
    of one skipped by a spring-forward gap, the instant zoneinfo maps it to, inside the new hour)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _intervals_for_day(day: date, windows: Iterable[Window], exceptions: Iterable[DayException],
                       zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    todays = [e for e in exceptions if e.day == day]
    if any(e.kind == "off" and e.start is None for e in todays):
        intervals: list[tuple[datetime, datetime]] = []
    else:
        intervals = [(_instant(day, w.start, zone), _instant(day, w.end, zone))
                     for w in windows if w.weekday == day.weekday()]
    intervals += [(_instant(day, e.start, zone), _instant(day, e.end, zone))
                  for e in todays if e.kind == "extra" and e.start and e.end]
    offs = [(_instant(day, e.start, zone), _instant(day, e.end, zone))
            for e in todays if e.kind == "off" and e.start and e.end]
    return [(s, e) for s, e in _subtract(intervals, offs) if s < e]


def open_intervals(day: date, windows: Iterable[Window], exceptions: Iterable[DayException],
                   zone: str) -> list[tuple[datetime, datetime]]:
    """The provider's open hours on `day` (a date in their zone) as UTC instants: the weekday's
    windows, less time off, plus extra hours, as slot search reads them; windows that touch or
    overlap (9 to 5 and 5 to 8) read as one stretch (9 to 8)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(_intervals_for_day(day, list(windows), list(exceptions), ZoneInfo(zone))):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals, removals):
    result = list(intervals)
    for r_start, r_end in removals:
        next_result = []
        for s, e in result:
            if not overlaps(s, e, r_start, r_end):
                next_result.append((s, e))
                continue
            if s < r_start:
                next_result.append((s, r_start))
            if r_end < e:
                next_result.append((r_end, e))
        result = next_result
    return result


def free_slots(*, windows: Iterable[Window], exceptions: Iterable[DayException], zone: str,
               busy: Iterable[tuple[datetime, datetime]], duration: timedelta, buffer: timedelta,
               step: timedelta, earliest: datetime, latest: datetime) -> list[datetime]:
    """Start times (aware UTC) of every slot of `duration` that fits in the provider's availability,
    whose time plus `buffer` on each side overlaps nothing `busy`, starting within [earliest, latest]."""
    tz = ZoneInfo(zone)
    windows, exceptions, busy = list(windows), list(exceptions), sorted(busy)
    first_day = earliest.astimezone(tz).date() - timedelta(days=1)
    last_day = latest.astimezone(tz).date() + timedelta(days=1)
    starts: set[datetime] = set()
    day = first_day
    while day <= last_day:
        for w_start, w_end in _intervals_for_day(day, windows, exceptions, tz):
            start = w_start
            while start + duration <= w_end:
                if earliest <= start <= latest and not any(
                        overlaps(start - buffer, start + duration + buffer, b_start, b_end) for b_start, b_end in busy):
                    starts.add(start)
                start += step
        day += timedelta(days=1)
    return sorted(starts)
