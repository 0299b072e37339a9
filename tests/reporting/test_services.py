"""The report tables (services.report_refresh) answer exactly what the live count answers: for
several readers (whole organisations and teams, and tickets seen personally outside them),
period lengths from a day to a year, filters, and time zones with daylight saving and
quarter-hour offsets; and after the changes the refresh has to find."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.accounts.roles import Role
from servio.reporting.models import (
    CountedResolution,
    ReportDay,
    ReportDurations,
    ReportMonthDurations,
    ReportZone,
)
from servio.reporting.selectors import service_desk_metrics
from servio.reporting.services import report_rebuild, report_refresh
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.factories import UserFactory
from tests.reporting.conftest import PERIOD, at
from tests.reporting.many import NOW, many_tickets, watch

pytestmark = pytest.mark.django_db
UTC = dt.UTC
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"]
PERIODS = {
    "the last 20 hours": (NOW - dt.timedelta(hours=20), NOW),  # no whole day: all live
    "the last week": (NOW - dt.timedelta(days=7), NOW),
    "30 days to a midnight": (
        dt.datetime(2026, 2, 8, tzinfo=UTC),
        dt.datetime(2026, 3, 10, tzinfo=UTC),
    ),
    "a quarter, odd hours": (
        dt.datetime(2025, 11, 20, 13, 17, tzinfo=UTC),
        dt.datetime(2026, 2, 19, 8, 5, tzinfo=UTC),
    ),
    "across both clock changes": (
        dt.datetime(2025, 3, 1, tzinfo=UTC),
        dt.datetime(2025, 11, 15, tzinfo=UTC),
    ),
    "the last year": (NOW - dt.timedelta(days=366), NOW),
}


def travel(when: dt.datetime):
    return time_machine.travel(when, tick=False)


def figures(user, period, zone, *, stored=True, **filters):
    start, end = period
    with travel(NOW):
        return service_desk_metrics(
            user=user, start=start, end=end, time_zone=zone, stored_figures=stored, **filters
        )


def read_stored_days(user, period, zone, **filters) -> tuple[dict, bool]:
    """The figures, and whether the report tables answered for some days."""
    with CaptureQueriesContext(connection) as ctx:
        result = figures(user, period, zone, **filters)
    return result, any("reporting_reportday" in q["sql"] for q in ctx.captured_queries)


@pytest.fixture
def readers(personas, settings):
    """Many tickets, the report tables built for ZONES at NOW, and who reads them."""
    settings.SERVIO_REPORT_TIME_ZONES = ZONES
    p = personas
    tickets = many_tickets(p)
    globex_network = [
        t for t in tickets if t.organization_id == p.globex.pk and t.team_id == p.team_network.pk
    ]
    # Lena (the desk: Acme, the provider) watches two Globex tickets of the network team.
    watch(p.lead_desk, globex_network[:2])
    # Olga leads no team: she sees the provider's tickets, and an Acme ticket she is given.
    solo = UserFactory(email="olga@provider.example", role=Role.TEAM_LEAD, organization=p.provider)
    acme = [t for t in tickets if t.organization_id == p.acme.pk and t.resolved_at is not None]
    Ticket.objects.filter(pk=acme[0].pk).update(assignee=solo)
    with travel(NOW):
        report_refresh()
    return {
        "admin": (p.admin, {}),
        "admin, network team": (p.admin, {"team_id": p.team_network.pk}),
        "admin, Acme": (p.admin, {"organization_id": p.acme.pk}),
        "desk lead, watching two": (p.lead_desk, {}),
        "desk lead, own team": (p.lead_desk, {"team_id": p.team_desk.pk}),
        "change manager": (p.change_manager, {}),
        "lead of no team, assigned one": (solo, {}),
    }


@pytest.mark.parametrize("zone", ZONES)
def test_stored_figures_equal_the_live_count(readers, zone):
    for who, (user, filters) in readers.items():
        for name, period in PERIODS.items():
            stored, used = read_stored_days(user, period, zone, **filters)
            live = figures(user, period, zone, stored=False, **filters)
            assert stored == live, f"{who}, {name}, {zone}"
            assert used == (name != "the last 20 hours"), f"{who}, {name}, {zone}"
        year = figures(user, PERIODS["the last year"], zone, **filters)
        assert year["mttr"]["count"] > 0 and year["csat"]["responses"] > 0, who  # not vacuous
        assert year["sla_compliance"]["met"] > 0 and year["first_contact_resolution"]["fcr_count"]


def test_the_data_reaches_every_bucket_kind_and_group(readers):
    """The comparison is only as good as its data: ties, sub-second and long durations, and
    rows in groups with and without a team."""
    rows = ReportDurations.objects.filter(zone="UTC")
    buckets = set(rows.values_list("bucket", flat=True))
    assert 0 in buckets and max(buckets) >= 80  # under a second, and beyond a month
    assert ReportDay.objects.filter(zone="UTC", team__isnull=True).exists()
    assert ReportDay.objects.filter(zone="UTC", team__isnull=False).count() > 100
    # Month rows for the months that have ended, not for the current one (March 2026).
    months = set(ReportMonthDurations.objects.values_list("month", flat=True))
    assert dt.date(2025, 1, 1) in months and dt.date(2026, 2, 1) in months
    assert dt.date(2026, 3, 1) not in months


def test_a_zone_that_is_not_aggregated_is_counted_live(readers, personas):
    result, used = read_stored_days(personas.admin, PERIODS["the last year"], "Pacific/Chatham")
    assert not used and result["time_zone"] == "Pacific/Chatham"
    assert result == figures(
        personas.admin, PERIODS["the last year"], "Pacific/Chatham", stored=False
    )


# --- a watched ticket of another organisation ---------------------------------------------------


def test_a_lead_watching_one_ticket_of_another_organisation_counts_exactly_that(
    desk, personas, settings
):
    """Lena's desk serves Acme and the provider. A Globex ticket of the network team counts for
    her once she watches it, on its days, and no other Globex ticket does."""
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC"]
    p, d = personas, desk
    acme = d.create(at(3, 2, 9, 0))
    d.assign(at(3, 2, 9, 5), acme, p.team_desk, p.agent_desk)
    d.reply(at(3, 2, 9, 30), acme)
    d.resolve(at(3, 2, 10, 0), acme)
    globex = []
    for hour in (9, 11):  # two alike, of which Lena will watch one
        ticket = d.create(at(3, 3, hour, 0), requester=p.requester_globex)
        d.assign(at(3, 3, hour, 5), ticket, p.team_network, p.agent_network)
        d.reply(at(3, 3, hour, 15), ticket, by=p.agent_network)
        d.resolve(at(3, 4, hour, 0), ticket)
        d.rate(at(3, 4, hour + 1, 0), ticket, 2)
        globex.append(ticket)
    with travel(at(3, 6)):
        report_refresh()

    def lena(stored=True):
        with travel(at(3, 6, 12)):
            return service_desk_metrics(user=p.lead_desk, **PERIOD, stored_figures=stored)

    before = lena()
    assert [(d["opened"], d["resolved"]) for d in before["opened_vs_resolved"]] == [
        (1, 1),
        (0, 0),
        (0, 0),
    ]
    # A watcher must see the organisation when attached (decision 16): the desk served
    # Globex for a while then.
    p.team_desk.serves.add(p.globex)
    with travel(at(3, 6, 11)):
        services.watcher_add(actor=p.agent_network, ticket=globex[0], user=p.lead_desk)
    p.team_desk.serves.remove(p.globex)
    after = lena()  # before any refresh: her own tickets are never read from the tables
    assert after == lena(stored=False)
    assert [(d["opened"], d["resolved"]) for d in after["opened_vs_resolved"]] == [
        (1, 1),
        (1, 0),  # the watched Globex ticket, logged on 3 March...
        (0, 1),  # ...and resolved on the 4th; its twin is not there
    ]
    assert after["mtta"] == {"median_seconds": 1350.0, "p90_seconds": 1710.0, "count": 2}
    assert after["mttr"]["count"] == 2 and after["csat"]["responses"] == 1
    assert after["csat"]["distribution"]["2"] == 1
    # The admin's figures have both Globex tickets; the network team's lead-less view, too.
    admin = service_desk_metrics(user=p.admin, **PERIOD)
    assert [d["opened"] for d in admin["opened_vs_resolved"]] == [1, 2, 0]


# --- what the refresh must find -------------------------------------------------------------


def test_the_refresh_follows_changes_to_days_long_past(service_desk, desk, personas, settings):
    """After building, change old days in every way the report can see, refresh, compare."""
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC", "Europe/Berlin"]
    p, d, t = personas, desk, service_desk.made
    with travel(at(3, 5, 6)):
        report_refresh()
    assert CountedResolution.objects.filter(ticket=t["t4"]).exists()  # resolved, not closed

    later = at(3, 20, 9)
    d.move(later, t["t4"], "reopen")  # resolved on D3: that day must lose it
    with travel(later):  # resolved on D1, moved out of the desk's queue: another group
        services.ticket_assign(actor=p.admin, ticket=t["t1"], team=None, assignee=None)
    d.reply(later, t["t12"])  # a second staff reply: no longer first contact
    d.rate(later, t["t3"], 4)  # an answer today about a ticket of D2
    d.reply(later, t["t6"])  # logged in February, first answered now: February's histogram
    d.resolve(later, t["t6"])  # ...and resolved
    t11 = Ticket.objects.get(pk=service_desk.made["t11"].pk)
    with travel(later):  # February's work, resolved, leaves the desk's queue
        services.ticket_assign(actor=p.admin, ticket=t11, team=None, assignee=None)
    # Nothing else touches D3 (4 March) now: only CountedResolution says T4 was resolved then.

    def compare(when):
        for zone in ("UTC", "Europe/Berlin"):
            for user, team in ((p.admin, None), (p.admin, p.team_desk.pk), (p.lead_desk, None)):
                with travel(when):
                    kwargs = {
                        "user": user,
                        "start": at(2, 1) if zone == "UTC" else at(1, 31, 23),  # February whole
                        "end": at(3, 21),
                        "time_zone": zone,
                        "team_id": team,
                    }
                    stored = service_desk_metrics(**kwargs)
                    live = service_desk_metrics(**kwargs, stored_figures=False)
                assert stored == live, f"{user}, {zone}"

    with travel(at(3, 20, 9, 1)):
        report_refresh()
    compare(at(3, 20, 9, 2))
    assert not CountedResolution.objects.filter(ticket=t["t4"]).exists()  # open again
    # The next day closes the 20th: built, and still the same figures.
    with travel(at(3, 21, 0, 5)):
        report_refresh()
    assert ReportZone.objects.get(zone="UTC").complete_before == dt.date(2026, 3, 21)
    compare(at(3, 21, 0, 6))


def test_the_figures_lag_until_the_refresh(service_desk, desk, personas, settings):
    """Days before today come from the tables as the last refresh left them (every minute)."""
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC"]
    with travel(at(3, 6)):
        report_refresh()
    desk.reply(at(3, 6, 9), service_desk.made["t1"])  # T1 (2 March) is no first contact now

    def fcr():
        with travel(at(3, 6, 10)):
            return service_desk_metrics(user=personas.admin, **PERIOD)["first_contact_resolution"]

    assert fcr()["fcr_count"] == 3
    with travel(at(3, 6, 9, 30)):
        assert report_refresh() == {"UTC": 1}  # one day touched: 2 March
    assert fcr()["fcr_count"] == 2


def test_rebuild_and_zones_that_are_dropped(service_desk, personas, settings):
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC", "Asia/Kathmandu"]
    with travel(at(3, 6)):
        built = report_refresh()
    assert built["UTC"] == 14  # the first ticket's day (20 February) to yesterday
    assert ReportDay.objects.filter(zone="Asia/Kathmandu").exists()
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC"]
    with travel(at(3, 6, 0, 1)):
        assert report_refresh() == {"UTC": 0}
    assert not ReportDay.objects.filter(zone="Asia/Kathmandu").exists()
    assert not ReportZone.objects.filter(zone="Asia/Kathmandu").exists()
    rows = ReportDay.objects.count()
    with travel(at(3, 6, 0, 2)):
        assert report_rebuild() == {"UTC": 14}
    assert ReportDay.objects.count() == rows


def test_query_count_of_the_stored_figures_does_not_grow(desk, service_desk, personas, settings):
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC"]
    p = personas
    # Lena watches a Globex ticket of the network team: her figures have a personal part.
    p.team_desk.serves.add(p.globex)
    with travel(at(3, 4, 12)):
        watched = desk.create(at(3, 4, 12), requester=p.requester_globex, team=p.team_network)
        services.watcher_add(actor=p.agent_network, ticket=watched, user=p.lead_desk)
    p.team_desk.serves.remove(p.globex)

    def queries() -> int:
        with travel(at(3, 20, 12)):
            report_refresh()
            service_desk_metrics(user=p.lead_desk, start=at(2, 1), end=at(3, 20, 12))  # caches
            with CaptureQueriesContext(connection) as ctx:
                service_desk_metrics(user=p.lead_desk, start=at(2, 1), end=at(3, 20, 12))
        assert any("reporting_reportday" in q["sql"] for q in ctx.captured_queries)
        return len(ctx)

    few = queries()
    for day in range(5, 19):  # two more weeks of work, on days the tables hold
        ticket = desk.create(at(3, day, 9), team=p.team_desk)
        desk.reply(at(3, day, 9, 30), ticket)
        desk.resolve(at(3, day, 11), ticket)
        desk.rate(at(3, day, 12), ticket, 5)
    assert queries() == few
    # The reader's scope (watchers, membership, organisations), the stored days (state, day
    # sums, histograms of months and days, two buckets' values), the counted rest (personal
    # tickets, six figures, two per-day series) and the backlog; on PostgreSQL also the
    # transaction and `SET LOCAL jit`; and the breached SLA clocks, open ones counted live.
    assert few == (24 if connection.vendor == "postgresql" else 21), few


def test_the_job_and_the_command(service_desk, settings):
    from django.core.management import call_command

    from servio.core.jobs import JOBS

    settings.SERVIO_REPORT_TIME_ZONES = ["UTC"]
    job = JOBS["reporting.refresh"]
    assert job.lane == "reporting" and job.every == dt.timedelta(minutes=1)
    with travel(at(3, 6)):
        assert job.func() == 14
    out = io.StringIO()
    with travel(at(3, 7, 1)):
        call_command("reports", "refresh", stdout=out)
    assert out.getvalue().startswith("UTC: 1 day built")
