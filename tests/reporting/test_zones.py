"""The days of a report's time zone: where they begin, which are whole, and that the database
puts an instant on the same day as Python does (on both databases)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db.models.functions import TruncDate

from servio.core.errors import ValidationFailed
from servio.reporting.zones import day_of, days_touched, start_of, whole_days, zone_named
from servio.tickets.models import Ticket
from tests.tickets.helpers import log

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")  # springs forward at midnight: 00:00 never happens
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+05:45
UTC_ZONE = ZoneInfo("UTC")


def test_days_last_23_or_25_hours_across_daylight_saving():
    spring, autumn = dt.date(2025, 3, 30), dt.date(2025, 10, 26)
    assert start_of(spring, BERLIN) == dt.datetime(2025, 3, 29, 23, 0, tzinfo=UTC)
    length = start_of(spring + dt.timedelta(days=1), BERLIN) - start_of(spring, BERLIN)
    assert length == dt.timedelta(hours=23)
    length = start_of(autumn + dt.timedelta(days=1), BERLIN) - start_of(autumn, BERLIN)
    assert length == dt.timedelta(hours=25)


def test_a_day_whose_midnight_does_not_exist_begins_when_its_date_does():
    day = dt.date(2025, 9, 7)
    begins = start_of(day, SANTIAGO)
    assert begins == dt.datetime(2025, 9, 7, 4, 0, tzinfo=UTC)  # 01:00 -03, after 23:59 -04
    assert day_of(begins, SANTIAGO) == day
    assert day_of(begins - dt.timedelta(microseconds=1), SANTIAGO) == dt.date(2025, 9, 6)


def test_whole_days_and_days_touched():
    start = dt.datetime(2026, 3, 1, 18, 15, tzinfo=UTC)  # midnight of 2 March in Kathmandu
    end = dt.datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert whole_days(start, end, KATHMANDU) == (dt.date(2026, 3, 2), dt.date(2026, 3, 4))
    assert days_touched(start, end, KATHMANDU) == [
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 3),
        dt.date(2026, 3, 4),
    ]
    assert whole_days(start, end, UTC_ZONE) == (dt.date(2026, 3, 2), dt.date(2026, 3, 4))
    first, stop = whole_days(start, start + dt.timedelta(hours=5), UTC_ZONE)
    assert first >= stop  # none
    midnight = dt.datetime(2026, 3, 4, tzinfo=UTC)
    assert whole_days(midnight - dt.timedelta(days=2), midnight, UTC_ZONE) == (
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 4),
    )
    assert days_touched(midnight - dt.timedelta(days=2), midnight, UTC_ZONE)[-1] == dt.date(
        2026, 3, 3
    )


@pytest.mark.parametrize(
    "name",
    ["Mars/Olympus_Mons", "", "   ", "../etc/passwd", "E" * 65, 7, "posixrules", "right/UTC"],
)
def test_unknown_zones_are_refused_naming_the_field(name):
    with pytest.raises(ValidationFailed) as refused:
        zone_named(name)
    assert list(refused.value.errors) == ["tz"]
    with pytest.raises(ValidationFailed) as named:
        zone_named(name, field="time_zone")
    assert list(named.value.errors) == ["time_zone"]


def test_no_name_is_the_installations_report_zone(settings):
    settings.SERVIO_REPORT_TIME_ZONES = ["Europe/Berlin", "UTC"]
    assert zone_named(None).key == "Europe/Berlin"


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [BERLIN, SANTIAGO, KATHMANDU])
def test_the_database_puts_instants_on_the_days_python_does(personas, zone):
    """Around each day's first instant, for days with clock changes: the reports cut periods
    in Python and group rows in SQL, so the two must agree to the microsecond."""
    days = [dt.date(2025, 3, 30), dt.date(2025, 9, 7), dt.date(2025, 10, 26), dt.date(2026, 3, 2)]
    instants = []
    for day in days:
        begins = start_of(day, zone)
        for offset in (-1, 0, 1):
            instants.append(begins + dt.timedelta(microseconds=offset))
    ticket = log(personas.requester_acme, title="Clocks")
    for number, instant in enumerate(instants):
        Ticket.objects.filter(pk=ticket.pk).update(created_at=instant)
        found = Ticket.objects.filter(pk=ticket.pk).annotate(
            day=TruncDate("created_at", tzinfo=zone)
        )
        assert found.get().day == day_of(instant, zone), (number, instant)


def test_a_listed_zone_that_does_not_exist_fails_the_system_check(settings):
    from servio.reporting.apps import check_report_time_zones

    settings.SERVIO_REPORT_TIME_ZONES = ["UTC", "Europe/Berlin"]
    assert check_report_time_zones() == []
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC", "Europe/Berln"]
    errors = check_report_time_zones()
    assert [e.id for e in errors] == ["reporting.E001"] and "Europe/Berln" in errors[0].msg
