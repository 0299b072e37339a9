"""Parsing and validation of business calendars (the rules are in docs/sla-calendars.md).

`servio.sla.calendar` builds on this module: `build_calendar` parses loose input here and
`BusinessCalendar` validates itself here. Nothing in it knows about the engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from servio.core.errors import ValidationFailed

if TYPE_CHECKING:
    from servio.sla.calendar import BusinessCalendar

Interval = tuple[time, time]
"""A local wall-clock shift ``(start, end)``; ``end <= start`` runs overnight into the next day."""

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIDNIGHT = time(0, 0)
US = 1_000_000
DAY_US = 86_400 * US
WEEK_US = 7 * DAY_US
_HOURS_HINT = (
    "make the intervals disjoint (an interval whose end is not after its start runs overnight "
    "into the next day)"
)


def parse_calendar(
    *,
    time_zone: Any,
    hours: Any,
    holiday_country: str | None,
    holiday_subdivision: str | None,
    closed_dates: Any,
    extra_working_days: Any,
) -> dict[str, Any]:
    """Loose input -> the canonical keyword arguments of `BusinessCalendar`, or ValidationFailed.

    Every problem is reported at once, keyed by field name.
    """
    errors: dict[str, list[str]] = {}
    week = _parse_week(hours, errors)
    closed = _parse_dates(closed_dates, errors)
    extra = _parse_extra_days(extra_working_days, errors)
    country = (holiday_country or "").strip().upper() or None
    subdivision = _canonical_subdivision(country, (holiday_subdivision or "").strip() or None)
    tz = time_zone.strip() if isinstance(time_zone, str) else time_zone
    for name, reasons in _calendar_errors(tz, week, country, subdivision, closed, extra).items():
        errors.setdefault(name, []).extend(reasons)
    if errors:
        raise ValidationFailed({**errors})
    return {
        "time_zone": tz,
        "hours": week,
        "holiday_country": country,
        "holiday_subdivision": subdivision,
        "closed_dates": closed,
        "extra_working_days": extra,
    }


def validate_calendar(calendar: BusinessCalendar) -> None:
    """Raise `ValidationFailed` naming each bad field of an already-built calendar."""
    errors: dict[str, list[str]] = {}
    hours: tuple[tuple[Interval, ...], ...] | None = calendar.hours
    if not _is_week(hours):
        errors["hours"] = [
            "hours must be a tuple of seven tuples (Monday first) of (start, end) pairs of "
            "naive datetime.time values; use build_calendar to parse loose input."
        ]
        hours = None
    extra: tuple[tuple[date, tuple[Interval, ...]], ...] | None = calendar.extra_working_days
    if not (
        isinstance(extra, tuple)
        and all(
            isinstance(item, tuple) and len(item) == 2 and _is_date(item[0]) and _is_day(item[1])
            for item in extra
        )
    ):
        errors["extra_working_days"] = [
            "extra_working_days must be a tuple of (date, tuple of (start, end) time pairs); "
            "use build_calendar to parse loose input."
        ]
        extra = None
    closed: frozenset[date] | None = calendar.closed_dates
    if not (isinstance(closed, frozenset) and all(_is_date(d) for d in closed)):
        errors["closed_dates"] = ["closed_dates must be a frozenset of datetime.date values."]
        closed = None
    found = _calendar_errors(
        calendar.time_zone,
        hours,
        calendar.holiday_country,
        calendar.holiday_subdivision,
        closed,
        extra,
    )
    for name, reasons in found.items():
        errors.setdefault(name, []).extend(reasons)
    if errors:
        raise ValidationFailed({**errors})


# --- checks -----------------------------------------------------------------------------------


def _calendar_errors(
    time_zone: Any,
    hours: tuple[tuple[Interval, ...], ...] | None,
    country: str | None,
    subdivision: str | None,
    closed: frozenset[date] | None,
    extra: tuple[tuple[date, tuple[Interval, ...]], ...] | None,
) -> dict[str, list[str]]:
    """Semantic checks on canonical values; a None argument was already reported as malformed."""
    errors: dict[str, list[str]] = {}
    if not _zone_exists(time_zone):
        errors["time_zone"] = [
            f"Unknown time zone {time_zone!r}. Use an IANA time zone name such as "
            "'Europe/Berlin', 'America/New_York' or 'UTC'."
        ]
    supported = _supported_countries()
    if country is not None and country not in supported:
        errors["holiday_country"] = [
            f"Unknown holiday country {country!r}. Use an ISO 3166-1 alpha-2 code that the "
            "holidays package supports, such as 'DE', 'GB' or 'US', or leave it empty for no "
            "public holidays."
        ]
    elif subdivision is not None:
        if country is None:
            errors["holiday_subdivision"] = [
                f"Holiday subdivision {subdivision!r} needs a holiday country; set "
                "holiday_country or clear the subdivision."
            ]
        elif subdivision not in supported[country]:
            codes = ", ".join(s for s in supported[country] if len(s) <= 6) or "none"
            errors["holiday_subdivision"] = [
                f"Unknown subdivision {subdivision!r} for holiday country {country}. Use one "
                f"of: {codes}; or leave it empty for the national holidays only."
            ]
    if hours is not None:
        problems = _week_overlaps(hours)
        if not any(hours):
            problems.append(
                "The calendar has no working time: give at least one weekday opening hours "
                "(for round-the-clock service use the 24x7 calendar)."
            )
        if problems:
            errors["hours"] = problems
    if extra is not None:
        problems = []
        days = [day for day, _ in extra]
        for day in sorted({day for day in days if days.count(day) > 1}):
            problems.append(f"{day.isoformat()} is listed more than once; list each date once.")
        for day, intervals in extra:
            if not intervals:
                problems.append(
                    f"{day.isoformat()} has no intervals; list its working hours, or put the "
                    "date in closed_dates to close it."
                )
            problems.extend(_day_overlaps(day.isoformat(), intervals))
            if closed is not None and day in closed:
                errors.setdefault("closed_dates", []).append(
                    f"{day.isoformat()} is both a closed date and an extra working day; "
                    "remove it from one of them."
                )
        if problems:
            errors["extra_working_days"] = problems
    return errors


def _week_overlaps(hours: tuple[tuple[Interval, ...], ...]) -> list[str]:
    """Pairs of intervals that overlap on the weekly circle (overnight spills included)."""
    items = [
        (weekday, interval, weekday * DAY_US + s, e - s)
        for weekday, day in enumerate(hours)
        for interval in day
        for s, e in [span_us(interval)]
    ]
    problems = []
    for i, (day_a, iv_a, start_a, len_a) in enumerate(items):
        for day_b, iv_b, start_b, len_b in items[i + 1 :]:
            if (start_b - start_a) % WEEK_US < len_a or (start_a - start_b) % WEEK_US < len_b:
                problems.append(
                    f"{WEEKDAY_NAMES[day_a]} {format_interval(iv_a)} overlaps "
                    f"{WEEKDAY_NAMES[day_b]} {format_interval(iv_b)}; {_HOURS_HINT}."
                )
    return problems


def _day_overlaps(label: str, intervals: tuple[Interval, ...]) -> list[str]:
    spans = [(span_us(iv), iv) for iv in intervals]
    problems = []
    for i, ((s_a, e_a), iv_a) in enumerate(spans):
        for (s_b, e_b), iv_b in spans[i + 1 :]:
            if s_a < e_b and s_b < e_a:
                problems.append(
                    f"{label}: {format_interval(iv_a)} overlaps {format_interval(iv_b)}; "
                    f"{_HOURS_HINT}."
                )
    return problems


def _zone_exists(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@lru_cache(maxsize=1)
def _supported_countries() -> dict[str, list[str]]:
    return holidays.list_supported_countries(include_aliases=False)


def _canonical_subdivision(country: str | None, subdivision: str | None) -> str | None:
    """Match a subdivision case-insensitively to the code the holidays package spells."""
    if country is None or subdivision is None:
        return subdivision
    for code in _supported_countries().get(country, ()):
        if code.casefold() == subdivision.casefold():
            return code
    return subdivision


def _is_time(value: Any) -> bool:
    return isinstance(value, time) and value.tzinfo is None


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_day(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(iv, tuple) and len(iv) == 2 and _is_time(iv[0]) and _is_time(iv[1])
        for iv in value
    )


def _is_week(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 7 and all(_is_day(day) for day in value)


# --- parsing of loose input -------------------------------------------------------------------

_WEEKDAY_KEYS = {
    **{name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)},
    **{name[:3].lower(): i for i, name in enumerate(WEEKDAY_NAMES)},
}


def _parse_week(raw: Any, errors: dict[str, list[str]]) -> tuple[tuple[Interval, ...], ...] | None:
    problems: list[str] = []
    days: list[list[Interval]] = [[] for _ in range(7)]
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, list | tuple) and len(raw) == 7:
        pairs = list(enumerate(raw))
    else:
        errors.setdefault("hours", []).append(
            "hours must map weekdays (0 = Monday .. 6, or names like 'mon') to lists of "
            "(start, end) times, or be a list of seven such lists, Monday first."
        )
        return None
    for key, intervals in pairs:
        weekday = _parse_weekday(key)
        if weekday is None:
            problems.append(f"Unknown weekday {key!r}; use 0 (Monday) to 6 (Sunday) or a name.")
            continue
        parsed = _parse_intervals(WEEKDAY_NAMES[weekday], intervals, problems)
        days[weekday].extend(parsed)
    if problems:
        errors.setdefault("hours", []).extend(problems)
        return None
    return tuple(tuple(sorted(day)) for day in days)


def _parse_weekday(key: Any) -> int | None:
    if isinstance(key, int) and not isinstance(key, bool):
        return key if 0 <= key <= 6 else None
    if isinstance(key, str):
        return _WEEKDAY_KEYS.get(key.strip().lower())
    return None


def _parse_intervals(label: str, raw: Any, problems: list[str]) -> list[Interval]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        problems.append(f"{label}: expected a list of (start, end) pairs, got {raw!r}.")
        return []
    parsed = []
    for item in raw:
        pair = list(item) if isinstance(item, list | tuple) else None
        times = [_parse_time(v) for v in pair] if pair is not None and len(pair) == 2 else None
        if times is None or times[0] is None or times[1] is None:
            problems.append(
                f"{label}: {item!r} is not a (start, end) pair of local times like "
                "('09:00', '17:00'); write each interval as two 'HH:MM' times."
            )
            continue
        parsed.append((times[0], times[1]))
    return parsed


_TIME_TEXT = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _parse_time(value: Any) -> time | None:
    """A naive `time`, or text "H:MM", "HH:MM" or "HH:MM:SS"; "24:00" means midnight."""
    if _is_time(value):
        return value
    match = _TIME_TEXT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    hour, minute, second = (int(part or 0) for part in match.groups())
    if (hour, minute, second) == (24, 0, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _parse_date(value: Any) -> date | None:
    if _is_date(value):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _parse_dates(raw: Any, errors: dict[str, list[str]]) -> frozenset[date] | None:
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        errors.setdefault("closed_dates", []).append(
            "closed_dates must be a list of dates like '2025-12-24'."
        )
        return None
    parsed, bad = set(), []
    for value in raw:
        day = _parse_date(value)
        if day is None:
            bad.append(repr(value))
        else:
            parsed.add(day)
    if bad:
        errors.setdefault("closed_dates", []).append(
            f"Not a date: {', '.join(bad)}; write dates as 'YYYY-MM-DD'."
        )
        return None
    return frozenset(parsed)


def _parse_extra_days(
    raw: Any, errors: dict[str, list[str]]
) -> tuple[tuple[date, tuple[Interval, ...]], ...] | None:
    if not isinstance(raw, Mapping):
        errors.setdefault("extra_working_days", []).append(
            "extra_working_days must map dates ('YYYY-MM-DD') to lists of (start, end) times."
        )
        return None
    problems: list[str] = []
    days: dict[date, list[Interval]] = {}
    for key, intervals in raw.items():
        day = _parse_date(key)
        if day is None:
            problems.append(f"Not a date: {key!r}; write dates as 'YYYY-MM-DD'.")
            continue
        days.setdefault(day, []).extend(_parse_intervals(day.isoformat(), intervals, problems))
    if problems:
        errors.setdefault("extra_working_days", []).extend(problems)
        return None
    return tuple((day, tuple(sorted(ivs))) for day, ivs in sorted(days.items()))


def format_interval(interval: Interval) -> str:
    start, end = interval
    text = f"{start.isoformat(timespec='minutes')}-{end.isoformat(timespec='minutes')}"
    return text + " (overnight)" if end <= start else text


def span_us(interval: Interval) -> tuple[int, int]:
    """Offsets in microseconds from the owning date's local midnight: [start, end)."""
    start, end = (((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond for t in interval)
    return (start, end) if end > start else (start, end + DAY_US)
