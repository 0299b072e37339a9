"""Business-time engine for SLA clocks: exact business hours on time-zoned calendars.

Pure Python, no Django. A `BusinessCalendar` says when a support organisation works; the four
functions below answer "when is this due?" and "how much business time passed?" on it.

Definitions (docs/sla-calendars.md explains them with examples):

* A calendar has an IANA time zone, weekly opening hours (per weekday, any number of local
  wall-clock intervals ``(start, end)``), closed dates (public holidays of a country and optional
  subdivision from the ``holidays`` package, plus custom closures) and extra working days (a date
  whose intervals replace that date's normal hours; an extra working day beats a public holiday).
* An interval whose end is not after its start (``end <= start``) is an overnight shift: it runs
  from ``start`` on its day to ``end`` on the next day and belongs to the day it starts on.
  ``(00:00, 00:00)`` is a whole 24-hour day. A shift that starts on a closed date does not run at
  all, not even the part after midnight; a shift that starts the day before a closed date runs
  to its end.
* Each local date D owns the wall-clock ranges ``[D start, D end)`` of its shifts (half-open). A
  UTC instant is business time iff its local wall time in the calendar's zone lies inside a range
  owned by some date.
* DST: wall times that do not exist (the spring-forward gap) are not business time; a shift that
  spans the gap is that much shorter in real time. A wall time that happens twice (the fall-back
  hour) counts both times it happens if it is inside a shift, because a real hour of work
  happened; a shift that spans it is that much longer.
* Durations are real elapsed seconds of business time (microsecond exact), never wall-clock
  differences. Instants in, instants out: aware datetimes in any zone go in, aware UTC datetimes
  come out.
* ``add_business_seconds`` returns the earliest instant at which ``seconds`` of business time have
  passed since ``start`` (so a due time can be the very end of a shift, and a start outside
  business time counts from the next opening); ``seconds == 0`` returns ``start``.

How it is fast: each calendar gets an engine (cached on the calendar and in a small LRU keyed by
the frozen, hashable calendar) that builds, lazily and once, the UTC working intervals of each
52-week block of time as sorted lists of epoch microseconds with prefix sums of business time.
Every query is then a few ``bisect`` calls. UTC offsets come from ``zoneinfo`` (sampled every
6 hours and bisected to the exact second of each transition).

Parsing of loose input and the validation rules live in `servio.sla.calendar_validation`;
`build_calendar` and `validate_calendar` are re-exported here.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from servio.core.errors import ValidationFailed
from servio.sla.calendar_validation import (
    DAY_US,
    MIDNIGHT,
    US,
    WEEK_US,
    WEEKDAY_NAMES,
    Interval,
    parse_calendar,
    span_us,
    validate_calendar,
)

__all__ = [
    "MIDNIGHT",
    "WEEKDAY_NAMES",
    "BusinessCalendar",
    "Interval",
    "add_business_seconds",
    "build_calendar",
    "business_seconds_between",
    "is_business_time",
    "next_business_instant",
    "validate_calendar",
]

SEARCH_LIMIT_YEARS = 5

_CHUNK_US = 52 * WEEK_US
_SEARCH_LIMIT_US = SEARCH_LIMIT_YEARS * 366 * DAY_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIN_US = (datetime(1800, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime(9000, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_FAR = 1 << 80
_OFFSET_SAMPLE_S = 6 * 3600
_ENGINE_CACHE_SIZE = 256
_CHUNKS_PER_ENGINE = 64


@dataclass(frozen=True)
class BusinessCalendar:
    """When a support organisation works: time zone, weekly hours, holidays, closures, extra days.

    Immutable and hashable, so engines can be cached per calendar. Construct it with
    `build_calendar` from loose input (strings, dicts) or directly from canonical values; either
    way it is validated (`validate_calendar`). ``hours`` has seven entries, Monday first.
    """

    time_zone: str
    hours: tuple[tuple[Interval, ...], ...]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()
    extra_working_days: tuple[tuple[date, tuple[Interval, ...]], ...] = ()
    _engine: _Engine | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        validate_calendar(self)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings only; the engine is a cache and is rebuilt on demand."""
        return {name: value for name, value in self.__dict__.items() if name != "_engine"}

    @classmethod
    def twenty_four_seven(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """A calendar on which every instant is business time (no holidays, no closures)."""
        return cls(time_zone=time_zone, hours=(((MIDNIGHT, MIDNIGHT),),) * 7)

    @property
    def is_twenty_four_seven(self) -> bool:
        """True when every instant is business time (the engine then skips all lookups)."""
        return (
            all(day == ((MIDNIGHT, MIDNIGHT),) for day in self.hours)
            and not self.closed_dates
            and not self.extra_working_days
            and not self.holiday_country
        )


# --- public API -------------------------------------------------------------------------------


def add_business_seconds(
    *, calendar: BusinessCalendar, start: datetime, seconds: int | float
) -> datetime:
    """The due time: the earliest instant by which `seconds` of business time follow `start`."""
    t = _to_us(start, "start")
    need = _seconds_to_us(seconds)
    if need == 0:
        return _from_us(t)
    return _from_us(_engine_for(calendar).add(t, need))


def business_seconds_between(
    *, calendar: BusinessCalendar, start: datetime, end: datetime
) -> int | float:
    """Business seconds in [start, end): an int when whole, else a float; 0 if end <= start."""
    us = _engine_for(calendar).between(_to_us(start, "start"), _to_us(end, "end"))
    return us // US if us % US == 0 else us / US


def is_business_time(*, calendar: BusinessCalendar, instant: datetime) -> bool:
    """Whether `instant` falls inside a working interval of the calendar."""
    return _engine_for(calendar).is_business(_to_us(instant, "instant"))


def next_business_instant(*, calendar: BusinessCalendar, instant: datetime) -> datetime:
    """The earliest business instant at or after `instant` (itself if it is business time)."""
    return _from_us(_engine_for(calendar).next_instant(_to_us(instant, "instant")))


def build_calendar(
    *,
    time_zone: str,
    hours: Mapping[Any, Iterable[Any]] | Iterable[Iterable[Any]],
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    closed_dates: Iterable[date | str] = (),
    extra_working_days: Mapping[date | str, Iterable[Any]] | None = None,
) -> BusinessCalendar:
    """Parse loose input (as a form or API sends it) into a validated `BusinessCalendar`.

    `hours` maps a weekday (0 = Monday .. 6, or a name such as "mon" / "Monday") to a list of
    ``(start, end)`` pairs of `datetime.time` or "H:MM[:SS]" strings ("24:00" is midnight); a
    sequence of seven lists works too. Dates may be `datetime.date` or "YYYY-MM-DD". Every problem
    is reported at once in one `ValidationFailed` keyed by field name.
    """
    return BusinessCalendar(
        **parse_calendar(
            time_zone=time_zone,
            hours=hours,
            holiday_country=holiday_country,
            holiday_subdivision=holiday_subdivision,
            closed_dates=closed_dates,
            extra_working_days=extra_working_days or {},
        )
    )


# --- conversions ------------------------------------------------------------------------------


def _to_us(value: Any, name: str) -> int:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(
            {name: f"{name} must be a timezone-aware datetime (got {value!r}); attach a tzinfo."}
        )
    td = value - _EPOCH
    return (td.days * 86_400 + td.seconds) * US + td.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _seconds_to_us(seconds: Any) -> int:
    if isinstance(seconds, int) and not isinstance(seconds, bool):
        us = seconds * US
    elif isinstance(seconds, float) and math.isfinite(seconds):
        us = round(seconds * US)
    else:
        raise ValidationFailed({"seconds": f"seconds must be a finite number, got {seconds!r}."})
    if us < 0:
        raise ValidationFailed({"seconds": f"seconds must be zero or more, got {seconds!r}."})
    return us


# --- the engine -------------------------------------------------------------------------------


class _Chunk:
    """Business time inside one 52-week UTC block: merged intervals with prefix sums (µs)."""

    __slots__ = ("cum", "cum_end", "ends", "starts", "total")

    def __init__(self, pieces: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.cum: list[int] = []  # business time before interval i (within the block)
        self.cum_end: list[int] = []  # business time up to the end of interval i
        total = 0
        for start, end in pieces:
            self.starts.append(start)
            self.ends.append(end)
            self.cum.append(total)
            total += end - start
            self.cum_end.append(total)
        self.total = total

    def elapsed(self, t: int) -> int:
        """Business time from the start of the block to `t`."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        if t < self.ends[i]:
            return self.cum[i] + t - self.starts[i]
        return self.cum_end[i]


class _Engine:
    """The lazily built UTC timeline of one calendar; every operation works in epoch µs."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.zone = ZoneInfo(calendar.time_zone)
        self.always_open = calendar.is_twenty_four_seven
        self.weekly = tuple(tuple(span_us(iv) for iv in day) for day in calendar.hours)
        self.extra = {
            day: tuple(span_us(iv) for iv in ivs) for day, ivs in calendar.extra_working_days
        }
        self.closed = calendar.closed_dates
        self.country = calendar.holiday_country
        self.subdivision = calendar.holiday_subdivision
        self.chunks: dict[int, _Chunk] = {}

    def chunk(self, k: int) -> _Chunk:
        found = self.chunks.get(k)
        if found is None:
            if len(self.chunks) >= _CHUNKS_PER_ENGINE:
                self.chunks.clear()
            found = self.chunks[k] = self._build(k)
        return found

    def add(self, t: int, need: int) -> int:
        if self.always_open:
            return self._in_range(t + need)
        k = t // _CHUNK_US
        seen = t
        while True:
            c = self.chunk(k)
            done = c.elapsed(t)
            target = done + need
            if target <= c.total:
                j = bisect_left(c.cum_end, target)
                return c.starts[j] + target - c.cum[j]
            if c.total > done:
                seen = (k + 1) * _CHUNK_US
            need = target - c.total
            k += 1
            t = k * _CHUNK_US
            if t - seen > _SEARCH_LIMIT_US:
                raise _no_working_time(seen)

    def between(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        if self.always_open:
            return b - a
        ka, kb = a // _CHUNK_US, b // _CHUNK_US
        first = self.chunk(ka)
        if ka == kb:
            return first.elapsed(b) - first.elapsed(a)
        total = first.total - first.elapsed(a)
        for k in range(ka + 1, kb):
            total += self.chunk(k).total
        return total + self.chunk(kb).elapsed(b)

    def is_business(self, t: int) -> bool:
        if self.always_open:
            return True
        c = self.chunk(t // _CHUNK_US)
        i = bisect_right(c.starts, t) - 1
        return i >= 0 and t < c.ends[i]

    def next_instant(self, t: int) -> int:
        if self.always_open:
            return t
        k, origin = t // _CHUNK_US, t
        while True:
            c = self.chunk(k)
            i = bisect_right(c.starts, t) - 1
            if i >= 0 and t < c.ends[i]:
                return t
            if i + 1 < len(c.starts):
                return c.starts[i + 1]
            k += 1
            t = k * _CHUNK_US
            if t - origin > _SEARCH_LIMIT_US:
                raise _no_working_time(origin)

    def _build(self, k: int) -> _Chunk:
        lo = self._in_range(k * _CHUNK_US)
        hi = self._in_range(lo + _CHUNK_US)
        # A shift owned by local date D lies within wall [D, D + 2 days); UTC offsets are under
        # a day, so dates from 3 days before to 1 day after the block can reach into it.
        first = lo // DAY_US + _EPOCH_ORDINAL - 3
        last = (hi - 1) // DAY_US + _EPOCH_ORDINAL + 1
        closed = self._closed_dates(date.fromordinal(first).year, date.fromordinal(last).year)
        segments = _offset_segments(self.zone, lo - 4 * DAY_US, hi + 4 * DAY_US)
        pieces: list[tuple[int, int]] = []
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            spans = self.extra.get(day)
            if spans is None:
                if day in closed:
                    continue
                spans = self.weekly[(ordinal - 1) % 7]  # ordinal 1 (0001-01-01) is a Monday
            base = (ordinal - _EPOCH_ORDINAL) * DAY_US
            for s, e in spans:
                wall_start, wall_end = base + s, base + e
                for seg_start, seg_end, offset in segments:
                    x = max(wall_start - offset, seg_start, lo)
                    y = min(wall_end - offset, seg_end, hi)
                    if x < y:
                        pieces.append((x, y))
        pieces.sort()
        merged: list[tuple[int, int]] = []
        for x, y in pieces:
            if merged and x <= merged[-1][1]:
                if y > merged[-1][1]:
                    merged[-1] = (merged[-1][0], y)
            else:
                merged.append((x, y))
        return _Chunk(merged)

    def _closed_dates(self, first_year: int, last_year: int) -> frozenset[date] | set[date]:
        if not self.country:
            return self.closed
        closed = set(self.closed)
        for year in range(first_year, last_year + 1):
            closed |= _holiday_dates(self.country, self.subdivision, year)
        return closed

    @staticmethod
    def _in_range(t: int) -> int:
        if not _MIN_US <= t <= _MAX_US:
            raise ValidationFailed(
                {"start": "Business time is computed only between the years 1800 and 9000."}
            )
        return t


@lru_cache(maxsize=1024)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def _offset_s(zone: ZoneInfo, t: int) -> int:
    offset = datetime.fromtimestamp(t, zone).utcoffset()
    assert offset is not None  # noqa: S101  (a ZoneInfo always has an offset)
    return offset.days * 86_400 + offset.seconds


def _offset_segments(zone: ZoneInfo, lo_us: int, hi_us: int) -> list[tuple[int, int, int]]:
    """(start µs, end µs, UTC offset µs) pieces of constant offset covering [lo_us, hi_us].

    Offsets are sampled every 6 hours and each change is bisected to the exact second. This
    assumes a zone never changes its offset and back again within 6 hours, which no tzdata
    rule does in practice.
    """
    t, end = lo_us // US, -(-hi_us // US)
    offset = _offset_s(zone, t)
    starts, offsets = [-_FAR], [offset]
    while t < end:
        nxt = min(t + _OFFSET_SAMPLE_S, end)
        if _offset_s(zone, nxt) == offset:
            t = nxt
            continue
        a, b = t, nxt  # offset(a) == offset != offset(b): find the first second that differs
        while b - a > 1:
            mid = (a + b) // 2
            if _offset_s(zone, mid) == offset:
                a = mid
            else:
                b = mid
        t, offset = b, _offset_s(zone, b)
        starts.append(b)
        offsets.append(offset)
    bounds = [s * US if s != -_FAR else s for s in starts] + [_FAR]
    return [(bounds[i], bounds[i + 1], off * US) for i, off in enumerate(offsets)]


def _no_working_time(since_us: int) -> ValidationFailed:
    return ValidationFailed(
        {
            "hours": (
                f"The calendar has no working time in the {SEARCH_LIMIT_YEARS} years after "
                f"{_from_us(since_us).isoformat()}; add opening hours or remove closed dates."
            )
        }
    )


_ENGINES: OrderedDict[BusinessCalendar, _Engine] = OrderedDict()
_ENGINES_LOCK = threading.Lock()


def _engine_for(calendar: BusinessCalendar) -> _Engine:
    engine = calendar._engine
    if engine is None:
        with _ENGINES_LOCK:
            engine = _ENGINES.get(calendar)
            if engine is None:
                engine = _ENGINES[calendar] = _Engine(calendar)
                if len(_ENGINES) > _ENGINE_CACHE_SIZE:
                    _ENGINES.popitem(last=False)
            else:
                _ENGINES.move_to_end(calendar)
        object.__setattr__(calendar, "_engine", engine)
    return engine
