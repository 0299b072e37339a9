"""The time zone a report's days are in, and the instants at which those days begin.

A day of a report is a calendar day in its time zone: it begins at the first instant whose local
date is that day (midnight, or the end of a daylight-saving gap that swallows midnight) and ends
where the next one begins, so it may last 23 or 25 hours. The database groups instants into days
with the same zone rules (PostgreSQL's `AT TIME ZONE`, Django's functions on SQLite), which both
read from the system's time zone database, as Python's `zoneinfo` does.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings

from servio.core.errors import ValidationFailed


def aggregated_zones() -> list[str]:
    """The zones whose days are pre-aggregated (`SERVIO_REPORT_TIME_ZONES`), default first."""
    return list(dict.fromkeys(settings.SERVIO_REPORT_TIME_ZONES)) or ["UTC"]


def default_zone() -> str:
    """The reports' time zone when the reader names none: the first aggregated zone."""
    return aggregated_zones()[0]


@functools.cache
def _known() -> frozenset[str]:
    """The IANA names of the time zone database (not its other files, such as `localtime`)."""
    return frozenset(available_timezones())


def zone_named(name: str | None, field: str = "tz") -> ZoneInfo:
    """The zone of an IANA name (None: the default); ValidationFailed naming `field` if unknown."""
    if name is None:
        name = default_zone()
    if isinstance(name, str) and name.strip() in _known():
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ValidationFailed.field(
        field,
        f"Unknown time zone {str(name)[:64]!r}. Use an IANA time zone name such as "
        "'Europe/Berlin', 'America/New_York' or 'UTC'.",
    )


def day_of(instant: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The local date of an aware instant."""
    return instant.astimezone(zone).date()


def start_of(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of a local day, in UTC. Where midnight falls into a daylight-saving gap,
    `fold=0` reads it with the offset before the gap: the instant the gap begins, which is when
    the local date changes."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


def days_touched(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[dt.date]:
    """Every local day that [start, end) touches, in order."""
    first, last = day_of(start, zone), day_of(end - dt.timedelta(microseconds=1), zone)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def whole_days(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> tuple[dt.date, dt.date]:
    """[first, stop): the local days that lie wholly inside [start, end) (first >= stop: none)."""
    first = day_of(start, zone)
    if start_of(first, zone) < start:
        first += dt.timedelta(days=1)
    # The day `end` falls in ends after `end` (or begins at it): it is not whole, nor later ones.
    return first, day_of(end, zone)
