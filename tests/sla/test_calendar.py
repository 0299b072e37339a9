"""Tests for servio/sla/calendar.py: named examples, validation, and a minute-walk reference.

The reference implementation below is slow on purpose: it walks UTC minute by minute and checks
each minute's local wall time against the written definition (docs/sla-calendars.md). Calendars
in the property tests use whole-minute intervals and start on whole minutes, and every zone used
has whole-minute offsets, so business time is constant on each UTC minute and the walk is exact.
No test here needs a database.
"""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servio.core.errors import ValidationFailed
from servio.sla.calendar import (
    _CHUNK_US,
    BusinessCalendar,
    add_business_seconds,
    build_calendar,
    business_seconds_between,
    is_business_time,
    next_business_instant,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
MINUTE = timedelta(minutes=1)

OFFICE = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


def berlin_office(**extra):
    return build_calendar(time_zone="Europe/Berlin", hours=OFFICE, holiday_country="DE", **extra)


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def due(calendar, start, seconds):
    return add_business_seconds(calendar=calendar, start=start, seconds=seconds)


def between(calendar, start, end):
    return business_seconds_between(calendar=calendar, start=start, end=end)


# --- the reference ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def ref_holidays(country, subdivision, year):
    return set(holidays.country_holidays(country, subdiv=subdivision, years=year))


def ref_shifts(calendar, day):
    """The shifts the definition gives to local date `day`."""
    extra = dict(calendar.extra_working_days)
    if day in extra:
        return extra[day]
    if day in calendar.closed_dates:
        return ()
    if calendar.holiday_country and day in ref_holidays(
        calendar.holiday_country, calendar.holiday_subdivision, day.year
    ):
        return ()
    return calendar.hours[day.weekday()]


def ref_is_business(calendar, instant):
    wall = instant.astimezone(ZoneInfo(calendar.time_zone)).replace(tzinfo=None)
    for owner in (wall.date(), wall.date() - timedelta(days=1)):
        for start, end in ref_shifts(calendar, owner):
            shift_start = datetime.combine(owner, start)
            shift_end = datetime.combine(owner + timedelta(days=end <= start), end)
            if shift_start <= wall < shift_end:
                return True
    return False


def ref_between(calendar, start, end):
    total, t = 0, start
    while t < end:
        total += 60 * ref_is_business(calendar, t)
        t += MINUTE
    return total


def ref_add(calendar, start, seconds):
    if seconds == 0:
        return start
    remaining, t = seconds, start
    while True:
        if ref_is_business(calendar, t):
            if remaining <= 60:
                return t + timedelta(seconds=remaining)
            remaining -= 60
        t += MINUTE


def ref_next(calendar, instant):
    t = instant
    while not ref_is_business(calendar, t):
        t += MINUTE
    return t


# --- strategies ---------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
HOLIDAY_COUNTRY = {
    "Europe/Berlin": ("DE", "BY"),
    "America/New_York": ("US", "NY"),
    "Australia/Lord_Howe": ("AU", "NSW"),
    "Asia/Kolkata": ("IN", None),
    "UTC": ("GB", None),
}
YEARS = range(2022, 2028)


def _transition_days(zone_name):
    """Local dates on which the zone changes its UTC offset, found day by day."""
    zone, days = ZoneInfo(zone_name), []
    t = datetime(YEARS[0], 1, 1, tzinfo=UTC)
    previous = t.astimezone(zone).utcoffset()
    while t.year < YEARS[-1] + 1:
        t += timedelta(days=1)
        offset = t.astimezone(zone).utcoffset()
        if offset != previous:
            days.append((t - timedelta(days=1)).astimezone(zone).date())
        previous = offset
    return days


TRANSITION_DAYS = {name: _transition_days(name) for name in ZONES}
BLOCK_EDGES = [
    edge
    for k in range(50, 60)
    if (edge := datetime(1970, 1, 1, tzinfo=UTC) + k * timedelta(microseconds=_CHUNK_US)).year
    in YEARS
]


def _time(minute_of_day):
    return time(minute_of_day // 60, minute_of_day % 60)


@st.composite
def weekly_hours(draw):
    """1-6 disjoint intervals on the weekly circle (split days, overnight, Sunday->Monday).

    Some boundaries are drawn near Saturday night and early Sunday, when the DST zones used here
    change their clocks (02:00/03:00 local), so that shifts often contain a gap or a repeat.
    """
    step = draw(st.sampled_from([1, 15, 30, 60]))
    n = draw(st.integers(1, 6))
    anywhere = st.integers(0, 10080 // step - 1).map(lambda p: p * step)
    near_dst = st.integers(5 * 1440 + 1200, 6 * 1440 + 300)  # Saturday 20:00 - Sunday 05:00
    points = sorted(
        draw(st.lists(st.one_of(anywhere, near_dst), min_size=2 * n, max_size=2 * n, unique=True))
    )
    if draw(st.booleans()):  # pair (p1, p2), (p3, p4), ..., (p_last, p0) wrapping the week
        points = points[1:] + points[:1]
    days = [[] for _ in range(7)]
    for a, b in zip(points[::2], points[1::2], strict=True):
        length = min((b - a) % 10080, 1440)  # a shift lasts at most a day
        weekday, start = divmod(a, 1440)
        days[weekday].append((_time(start), _time((start + length) % 1440)))
    return tuple(tuple(sorted(day)) for day in days)


@st.composite
def day_intervals(draw):
    points = sorted(draw(st.lists(st.integers(0, 1439), min_size=2, max_size=4, unique=True)))
    intervals = [(_time(a), _time(b)) for a, b in zip(points[::2], points[1::2], strict=False)]
    if draw(st.booleans()):  # an overnight shift after the others
        last = points[-1] if len(points) % 2 else (points[-1] + 1 if points[-1] < 1439 else None)
        if last is not None:
            intervals.append((_time(last), _time(draw(st.integers(0, last)))))
    return tuple(intervals)


@st.composite
def starts(draw, zone_name):
    """Whole-minute UTC instants.

    Two in five fall within three days of a DST change, one in five near the edge of an engine
    block, the rest anywhere in 2022-2027.
    """
    zone = ZoneInfo(zone_name)
    transitions = TRANSITION_DAYS[zone_name]
    kind = draw(st.sampled_from(["dst", "dst", "block", "any", "any"]))
    if kind == "dst" and transitions:
        day = draw(st.sampled_from(transitions))
        base = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        return base + MINUTE * draw(st.integers(-3 * 1440, 3 * 1440))
    if kind == "block":  # the engine caches time in blocks; their edges must be seamless
        base = draw(st.sampled_from(BLOCK_EDGES))
        return base + MINUTE * draw(st.integers(-3 * 1440, 3 * 1440))
    base = datetime(YEARS[0], 1, 1, tzinfo=UTC)
    return base + MINUTE * draw(st.integers(0, (len(YEARS) - 1) * 365 * 1440))


@st.composite
def scenarios(draw):
    """A random calendar and a start instant near which its closures and extra days fall."""
    zone_name = draw(st.sampled_from(ZONES))
    start = draw(starts(zone_name))
    local_day = start.astimezone(ZoneInfo(zone_name)).date()
    near = st.integers(-5, 20).map(lambda n: local_day + timedelta(days=n))
    if draw(st.integers(0, 9)) == 0:
        return BusinessCalendar.twenty_four_seven(zone_name), start
    hours = draw(weekly_hours())
    country, subdivision = HOLIDAY_COUNTRY[zone_name] if draw(st.booleans()) else (None, None)
    closed = frozenset(draw(st.lists(near, max_size=3)))
    extra_days = sorted(set(draw(st.lists(near, max_size=2))) - closed)
    extra = tuple((day, draw(day_intervals())) for day in extra_days)
    calendar = BusinessCalendar(
        time_zone=zone_name,
        hours=hours,
        holiday_country=country,
        holiday_subdivision=subdivision,
        closed_dates=closed,
        extra_working_days=extra,
    )
    return calendar, start


def weekly_business_seconds(calendar):
    total = 0
    for day in calendar.hours:
        for start, end in day:
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            total += 60 * (minutes if minutes > 0 else minutes + 1440)
    return total


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- properties against the reference ------------------------------------------------------------


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_add_business_seconds_matches_reference(scenario, data):
    calendar, start = scenario
    # At most about 1.5 weeks of this calendar's business time, so the walk stays short.
    limit = min(int(1.5 * weekly_business_seconds(calendar)), 4 * 86400)
    seconds = data.draw(
        st.one_of(st.integers(0, limit), st.integers(0, limit // 60).map(lambda m: 60 * m))
    )
    assert due(calendar, start, seconds) == ref_add(calendar, start, seconds)


@PROPERTY
@given(scenario=scenarios(), minutes=st.integers(-60, 10 * 1440))
def test_business_seconds_between_matches_reference(scenario, minutes):
    calendar, start = scenario
    end = start + MINUTE * minutes
    assert between(calendar, start, end) == ref_between(calendar, start, end)


@PROPERTY
@given(scenario=scenarios(), minutes=st.integers(0, 3 * 1440))
def test_is_business_time_and_next_instant_match_reference(scenario, minutes):
    calendar, start = scenario
    instant = start + MINUTE * minutes
    assert is_business_time(calendar=calendar, instant=instant) == ref_is_business(
        calendar, instant
    )
    assert next_business_instant(calendar=calendar, instant=instant) == ref_next(calendar, instant)


@settings(PROPERTY, max_examples=300)
@given(
    scenario=scenarios(),
    micro=st.integers(0, 59_999_999),
    seconds=st.integers(0, 30 * 86400),
    span=st.integers(0, 40 * 86400 * 10**6),
)
def test_round_trip(scenario, micro, seconds, span):
    """Engine against itself, at microsecond starts: add and between are inverse."""
    calendar, start = scenario
    start += timedelta(microseconds=micro)
    deadline = due(calendar, start, seconds)
    assert deadline >= start
    assert between(calendar, start, deadline) == seconds
    if seconds:  # the earliest such instant: just before it, business time was running
        assert is_business_time(calendar=calendar, instant=deadline - timedelta(microseconds=1))
    end = start + timedelta(microseconds=span)
    elapsed = between(calendar, start, end)
    reached = due(calendar, start, elapsed)
    assert reached <= end
    assert between(calendar, reached, end) == 0


# --- named examples ------------------------------------------------------------------------------


def test_start_outside_hours_counts_from_next_opening():
    calendar = berlin_office()
    assert due(calendar, local(BERLIN, 2025, 3, 7, 16, 0), HOUR) == local(BERLIN, 2025, 3, 7, 17)
    friday_evening = local(BERLIN, 2025, 3, 7, 19, 0)
    assert due(calendar, friday_evening, HOUR) == local(BERLIN, 2025, 3, 10, 10, 0)
    assert not is_business_time(calendar=calendar, instant=friday_evening)
    assert next_business_instant(calendar=calendar, instant=friday_evening) == local(
        BERLIN, 2025, 3, 10, 9, 0
    )


def test_three_business_days_target():
    calendar = berlin_office()
    start = local(BERLIN, 2025, 3, 5, 14, 30)  # Wednesday
    assert due(calendar, start, 3 * 8 * HOUR) == local(BERLIN, 2025, 3, 10, 14, 30)


def test_start_on_public_holiday():
    calendar = berlin_office()
    labour_day = local(BERLIN, 2025, 5, 1, 10, 0)  # Thursday, a German public holiday
    assert not is_business_time(calendar=calendar, instant=labour_day)
    assert due(calendar, labour_day, 8 * HOUR) == local(BERLIN, 2025, 5, 2, 17, 0)


def test_across_new_year():
    calendar = berlin_office(closed_dates=["2024-12-31"])  # New Year's Eve closed; Jan 1 holiday
    start = local(BERLIN, 2024, 12, 30, 16, 0)
    deadline = due(calendar, start, 2 * HOUR)
    assert deadline == local(BERLIN, 2025, 1, 2, 10, 0)
    assert deadline.tzinfo is UTC
    assert between(calendar, start, deadline) == 2 * HOUR


def test_span_across_weekend():
    calendar = berlin_office()
    friday = local(BERLIN, 2025, 3, 7, 15, 0)
    monday = local(BERLIN, 2025, 3, 10, 11, 0)
    assert between(calendar, friday, monday) == 4 * HOUR
    assert between(calendar, monday, friday) == 0
    assert due(calendar, friday, 0) == friday


@pytest.mark.parametrize(
    ("zone", "day", "real_hours"),
    [
        (BERLIN, date(2025, 3, 30), 3),  # 02:00 -> 03:00: one wall hour never happens
        (BERLIN, date(2025, 10, 26), 5),  # 03:00 -> 02:00: one wall hour happens twice
        (NEW_YORK, date(2025, 3, 9), 3),
        (NEW_YORK, date(2025, 11, 2), 5),
    ],
)
def test_dst_weekends_count_real_hours(zone, day, real_hours):
    calendar = build_calendar(time_zone=str(zone), hours={"sun": [("01:00", "05:00")]})
    opening = datetime.combine(day, time(1), tzinfo=zone)
    closing = datetime.combine(day, time(5), tzinfo=zone)
    assert closing.astimezone(UTC) - opening.astimezone(UTC) == timedelta(hours=real_hours)
    assert between(calendar, opening - timedelta(hours=6), closing + timedelta(hours=6)) == (
        real_hours * HOUR
    )
    assert due(calendar, opening, real_hours * HOUR) == closing


def test_berlin_spring_forward_skips_the_gap():
    calendar = build_calendar(time_zone="Europe/Berlin", hours={"sun": [("01:00", "05:00")]})
    start = local(BERLIN, 2025, 3, 30, 1, 0)
    assert due(calendar, start, 90 * 60) == local(BERLIN, 2025, 3, 30, 3, 30)
    gap_only = build_calendar(time_zone="Europe/Berlin", hours={"sun": [("02:15", "02:45")]})
    week = (local(BERLIN, 2025, 3, 29), local(BERLIN, 2025, 3, 31))
    assert between(gap_only, *week) == 0
    assert between(gap_only, local(BERLIN, 2025, 3, 22), local(BERLIN, 2025, 3, 24)) == 1800


def test_berlin_fall_back_counts_the_repeated_hour_twice():
    calendar = build_calendar(time_zone="Europe/Berlin", hours={"sun": [("02:00", "03:00")]})
    first = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert first.astimezone(BERLIN).time() == second.astimezone(BERLIN).time() == time(2, 30)
    assert is_business_time(calendar=calendar, instant=first)
    assert is_business_time(calendar=calendar, instant=second)
    assert between(calendar, local(BERLIN, 2025, 10, 26), local(BERLIN, 2025, 10, 27)) == 2 * HOUR
    assert due(calendar, first, 3600) == second


def test_new_york_overnight_shift_across_dst():
    calendar = build_calendar(time_zone="America/New_York", hours={"sat": [("22:00", "06:00")]})
    spring = (local(NEW_YORK, 2025, 3, 8, 20, 0), local(NEW_YORK, 2025, 3, 9, 8, 0))
    fall = (local(NEW_YORK, 2025, 11, 1, 20, 0), local(NEW_YORK, 2025, 11, 2, 8, 0))
    assert between(calendar, *spring) == 7 * HOUR
    assert between(calendar, *fall) == 9 * HOUR
    assert due(calendar, spring[0], 7 * HOUR) == local(NEW_YORK, 2025, 3, 9, 6, 0)


def test_overnight_shift_belongs_to_the_day_it_starts():
    calendar = build_calendar(
        time_zone="Europe/Berlin",
        hours={day: [("22:00", "06:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
        closed_dates=["2025-03-12"],  # Wednesday: its night shift does not run
    )
    # Friday night runs into Saturday morning.
    assert is_business_time(calendar=calendar, instant=local(BERLIN, 2025, 3, 8, 5, 0))
    # Sunday night does not exist, so Monday 05:00 is closed.
    assert not is_business_time(calendar=calendar, instant=local(BERLIN, 2025, 3, 10, 5, 0))
    # Tuesday's shift runs into the closed Wednesday; Wednesday's own shift does not run.
    assert is_business_time(calendar=calendar, instant=local(BERLIN, 2025, 3, 12, 5, 0))
    assert not is_business_time(calendar=calendar, instant=local(BERLIN, 2025, 3, 12, 23, 0))
    start = local(BERLIN, 2025, 3, 12, 4, 0)
    assert due(calendar, start, 3 * HOUR) == local(BERLIN, 2025, 3, 13, 23, 0)


def test_twenty_four_seven():
    calendar = BusinessCalendar.twenty_four_seven("Europe/Berlin")
    assert calendar.is_twenty_four_seven
    start = local(BERLIN, 2025, 3, 29, 12, 0)
    assert due(calendar, start, 24 * HOUR) == local(BERLIN, 2025, 3, 30, 13, 0)  # 23h day
    assert between(calendar, start, start.astimezone(UTC) + timedelta(days=400)) == 400 * 86400
    assert is_business_time(calendar=calendar, instant=start)
    assert next_business_instant(calendar=calendar, instant=start) == start
    # The same hours spelled out with closures go through the general path and agree.
    spelled = build_calendar(
        time_zone="Europe/Berlin", hours=[[("00:00", "24:00")]] * 7, closed_dates=["2030-01-01"]
    )
    assert not spelled.is_twenty_four_seven
    assert due(spelled, start, 24 * HOUR) == due(calendar, start, 24 * HOUR)


def test_extra_working_day_replaces_normal_hours_and_beats_holidays():
    calendar = berlin_office(
        extra_working_days={"2025-03-08": [("10:00", "14:00")], "2025-05-01": [("09:00", "12:00")]}
    )
    saturday = local(BERLIN, 2025, 3, 8, 8, 0)
    assert due(calendar, saturday, HOUR) == local(BERLIN, 2025, 3, 8, 11, 0)
    assert between(calendar, local(BERLIN, 2025, 5, 1), local(BERLIN, 2025, 5, 2)) == 3 * HOUR


def test_subsecond_inputs_and_results():
    calendar = berlin_office()
    start = local(BERLIN, 2025, 3, 10, 16, 59, 59, 500_000)
    assert due(calendar, start, 1.25) == local(BERLIN, 2025, 3, 11, 9, 0, 0, 750_000)
    assert between(calendar, start, local(BERLIN, 2025, 3, 10, 18)) == 0.5


def test_calendar_is_frozen_and_hashable():
    one, two = berlin_office(), berlin_office()
    assert one == two
    assert hash(one) == hash(two)
    due(one, local(BERLIN, 2025, 3, 10, 9), HOUR)  # builds and caches the engine
    assert one == two
    assert {one: "cached"}[two] == "cached"
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.time_zone = "UTC"
    copy = pickle.loads(pickle.dumps(one))  # noqa: S301  (our own bytes)
    assert copy == one
    assert due(copy, local(BERLIN, 2025, 3, 10, 9), HOUR) == local(BERLIN, 2025, 3, 10, 10)


def test_hours_accept_weekday_names_numbers_and_24_00():
    calendar = build_calendar(
        time_zone=" UTC ",
        hours={0: [("9:00", "12:00")], "Monday": [("13:00", "24:00")], "sun": []},
        holiday_country="de",
        holiday_subdivision="by",
    )
    assert calendar.time_zone == "UTC"
    assert calendar.hours[0] == ((time(9), time(12)), (time(13), time(0)))
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("DE", "BY")


# --- validation ----------------------------------------------------------------------------------


def errors_of(**kwargs):
    arguments = {"time_zone": "Europe/Berlin", "hours": OFFICE, **kwargs}
    with pytest.raises(ValidationFailed) as raised:
        build_calendar(**arguments)
    return raised.value.errors


@pytest.mark.parametrize(
    ("kwargs", "field", "phrase"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Unknown time zone"),
        ({"time_zone": ""}, "time_zone", "IANA"),
        ({"holiday_country": "XX"}, "holiday_country", "Unknown holiday country 'XX'"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "holiday_subdivision", "BY"),
        ({"holiday_subdivision": "BY"}, "holiday_subdivision", "needs a holiday country"),
        ({"hours": {"mon": [("09:00", "17:00"), ("12:00", "18:00")]}}, "hours", "overlaps"),
        (
            {"hours": {"fri": [("22:00", "06:00")], "sat": [("05:00", "09:00")]}},
            "hours",
            "Friday 22:00-06:00 (overnight) overlaps Saturday 05:00-09:00",
        ),
        (
            {"hours": {"sun": [("20:00", "08:00")], "mon": [("07:00", "17:00")]}},
            "hours",
            "Monday 07:00-17:00 overlaps Sunday 20:00-08:00 (overnight)",
        ),
        ({"hours": {"mon": [("09:00",)]}}, "hours", "not a (start, end) pair"),
        ({"hours": {"mon": [("9am", "5pm")]}}, "hours", "not a (start, end) pair"),
        ({"hours": {"mon": [("25:00", "26:00")]}}, "hours", "not a (start, end) pair"),
        ({"hours": {"funday": [("09:00", "17:00")]}}, "hours", "Unknown weekday"),
        ({"hours": "9 to 5"}, "hours", "must map weekdays"),
        ({"hours": {}}, "hours", "no working time"),
        ({"hours": {"mon": []}}, "hours", "no working time"),
        ({"closed_dates": ["2025-02-30"]}, "closed_dates", "Not a date"),
        (
            {
                "closed_dates": ["2025-03-08"],
                "extra_working_days": {"2025-03-08": [("9:00", "12:00")]},
            },
            "closed_dates",
            "both a closed date and an extra working day",
        ),
        ({"extra_working_days": {"2025-03-08": []}}, "extra_working_days", "no intervals"),
        (
            {"extra_working_days": {"2025-03-08": [("09:00", "12:00"), ("11:00", "13:00")]}},
            "extra_working_days",
            "overlaps",
        ),
    ],
)
def test_validation_names_the_field(kwargs, field, phrase):
    errors = errors_of(**kwargs)
    assert field in errors, errors
    assert any(phrase in reason for reason in errors[field]), errors[field]


def test_validation_reports_every_field_at_once():
    errors = errors_of(time_zone="Nowhere/City", holiday_country="XX", hours={})
    assert set(errors) == {"time_zone", "holiday_country", "hours"}


def test_direct_construction_is_validated():
    with pytest.raises(ValidationFailed) as raised:
        BusinessCalendar(time_zone="Europe/Berlin", hours=((),) * 7)
    assert "hours" in raised.value.errors
    with pytest.raises(ValidationFailed) as raised:
        BusinessCalendar(time_zone="Europe/Berlin", hours=[[("09:00", "17:00")]] * 7)
    assert "build_calendar" in raised.value.errors["hours"][0]
    saturday = ((time(9), time(12)),)
    with pytest.raises(ValidationFailed) as raised:
        BusinessCalendar(
            time_zone="UTC",
            hours=(saturday,) * 5 + ((), ()),
            extra_working_days=((date(2025, 3, 8), saturday), (date(2025, 3, 8), saturday)),
        )
    assert "more than once" in raised.value.errors["extra_working_days"][0]


def test_no_working_time_within_five_years_raises_instead_of_searching_forever():
    mondays = [date(2025, 3, 10) + timedelta(weeks=n) for n in range(6 * 53)]
    calendar = build_calendar(
        time_zone="Europe/Berlin", hours={"mon": [("09:00", "17:00")]}, closed_dates=mondays
    )
    start = local(BERLIN, 2025, 3, 10)
    for call in (
        lambda: due(calendar, start, HOUR),
        lambda: next_business_instant(calendar=calendar, instant=start),
    ):
        with pytest.raises(ValidationFailed) as raised:
            call()
        assert "no working time" in raised.value.errors["hours"][0]
    assert between(calendar, start, start + timedelta(days=3 * 365)) == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: due(c, datetime(2025, 3, 10, 9), HOUR), "start"),
        (lambda c: due(c, local(BERLIN, 2025, 3, 10), -1), "seconds"),
        (lambda c: due(c, local(BERLIN, 2025, 3, 10), float("nan")), "seconds"),
        (lambda c: between(c, local(BERLIN, 2025, 3, 10), datetime(2025, 3, 11)), "end"),
        (lambda c: is_business_time(calendar=c, instant=datetime(2025, 3, 11)), "instant"),
    ],
)
def test_bad_arguments_name_the_argument(call, field):
    with pytest.raises(ValidationFailed) as raised:
        call(berlin_office())
    assert field in raised.value.errors
