"""service_desk_metrics: each figure on the hand-built desk, scoping, filters, validation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servio.core.errors import NotFound, PermissionDenied, ValidationFailed
from servio.reporting.selectors import PROBE_PERIOD, default_period, service_desk_metrics
from servio.sla.models import Calendar, SlaPolicy, SlaTarget
from servio.tickets.models import Comment, Ticket
from tests.reporting.conftest import D1, D2, D3, PERIOD, at

pytestmark = pytest.mark.django_db


NO_OPEN = {"breached_open": 0, "breached_tickets": 1}


def metrics(user, **kw):
    return service_desk_metrics(user=user, **{**PERIOD, **kw})


def test_every_figure_over_everything(service_desk, personas):
    m = metrics(personas.admin)

    assert m["period"] == {"start": at(3, 2), "end": at(3, 5)}
    desk_id = personas.team_desk.pk
    assert m["backlog"] == [
        {"team_id": desk_id, "team": "Service Desk", "priority": 2, "count": 2},  # T6, T9
        {"team_id": None, "team": None, "priority": 3, "count": 1},  # T5
    ]
    assert m["opened_vs_resolved"] == [
        {"day": D1, "opened": 4, "resolved": 3},  # T1 T2 T7 T10 / T1 T7 T12
        {"day": D2, "opened": 2, "resolved": 2},  # T3 T4 / T2 T3 (T4 was reopened)
        {"day": D3, "opened": 2, "resolved": 1},  # T5 T9 / T4
    ]
    # First responses (s): T7 600, T4 1200, T1 1800, T2 2700, T9 3600, T3 4200.
    assert m["mtta"] == {"median_seconds": 2250.0, "p90_seconds": 3900.0, "count": 6}
    # Resolutions (s): T1 3600, T7 3600, T3 10800, T2 79200, T4 90000, T12 345600.
    assert m["mttr"] == {"median_seconds": 45000.0, "p90_seconds": 217800.0, "count": 6}
    # First contact: T1, T7, T12. Not: T2 (two replies), T3 (reassigned), T4 (reopened).
    assert m["first_contact_resolution"] == {"rate": 50.0, "fcr_count": 3, "resolved_count": 6}
    assert m["reassignment_rate"] == {"rate": 16.67, "reassigned": 1, "total": 6}
    assert m["sla_compliance"] == {
        "met": 0,
        "breached": 0,
        "breached_open": 0,
        "breached_tickets": 0,
        "rate": None,
    }
    assert m["csat"] == {
        "average": 3.67,
        "responses": 3,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
    }


def test_a_team_lead_sees_only_the_organisations_of_their_teams(service_desk, personas):
    m = metrics(personas.lead_desk)  # Service Desk: Acme and the provider, not Globex (T7)

    assert [d["opened"] for d in m["opened_vs_resolved"]] == [3, 2, 2]
    assert [d["resolved"] for d in m["opened_vs_resolved"]] == [2, 2, 1]
    assert m["mtta"]["count"] == 5
    assert m["first_contact_resolution"] == {"rate": 40.0, "fcr_count": 2, "resolved_count": 5}
    assert m["csat"]["responses"] == 2 and m["csat"]["average"] == 3.5


def test_a_member_of_another_team_does_not_see_acme(service_desk, personas):
    # The change manager is in the Network team (Globex): T7, and T3 only because it is
    # assigned to Network now.
    m = metrics(personas.change_manager)

    assert [d["opened"] for d in m["opened_vs_resolved"]] == [1, 1, 0]
    assert m["mttr"] == {"median_seconds": 7200.0, "p90_seconds": 10080.0, "count": 2}
    assert m["backlog"] == []
    assert m["csat"]["responses"] == 1 and m["csat"]["distribution"]["4"] == 1


def test_team_and_organization_filters_narrow_everything(service_desk, personas):
    network = metrics(personas.admin, team_id=personas.team_network.pk)  # T3 and T7
    assert [d["opened"] for d in network["opened_vs_resolved"]] == [1, 1, 0]
    assert network["reassignment_rate"] == {"rate": 50.0, "reassigned": 1, "total": 2}
    assert network["csat"]["responses"] == 1

    globex = metrics(personas.admin, organization_id=personas.globex.pk)  # T7
    assert globex["mtta"] == {"median_seconds": 600.0, "p90_seconds": 600.0, "count": 1}
    assert globex["first_contact_resolution"]["rate"] == 100.0
    assert globex["backlog"] == []

    both = metrics(personas.admin, team_id=personas.team_desk.pk, organization_id=personas.acme.pk)
    assert [d["opened"] for d in both["opened_vs_resolved"]] == [3, 1, 1]
    assert both["backlog"][0]["count"] == 2


def test_an_organisation_or_team_the_user_cannot_see_is_not_found(service_desk, personas):
    with pytest.raises(NotFound):
        metrics(personas.lead_desk, organization_id=personas.globex.pk)
    with pytest.raises(NotFound):
        metrics(personas.admin, organization_id=999_999)
    with pytest.raises(NotFound):
        metrics(personas.admin, team_id=999_999)


@pytest.mark.parametrize("who", ["agent_desk", "agent_network", "requester_acme"])
def test_agents_and_requesters_may_not_read_the_dashboard(personas, who):
    with pytest.raises(PermissionDenied):
        metrics(getattr(personas, who))


def test_the_period_is_checked(personas):
    with pytest.raises(ValidationFailed) as backwards:
        metrics(personas.admin, start=at(3, 5), end=at(3, 2))
    assert list(backwards.value.errors) == ["end"]
    with pytest.raises(ValidationFailed) as empty:
        metrics(personas.admin, start=at(3, 5), end=at(3, 5))
    assert list(empty.value.errors) == ["end"]
    with pytest.raises(ValidationFailed) as too_long:
        metrics(personas.admin, start=at(1, 1), end=at(1, 1) + dt.timedelta(days=366, seconds=1))
    assert list(too_long.value.errors) == ["end"]
    with pytest.raises(ValidationFailed) as naive:
        metrics(personas.admin, start=dt.datetime(2026, 3, 2))
    assert list(naive.value.errors) == ["start"]
    # A whole leap year is allowed, and offsets are turned into UTC.
    year = metrics(personas.admin, start=at(1, 1), end=at(1, 1) + dt.timedelta(days=366))
    assert len(year["opened_vs_resolved"]) == 366
    plus_one = dt.timezone(dt.timedelta(hours=1))
    shifted = metrics(personas.admin, start=dt.datetime(2026, 3, 2, 1, 0, tzinfo=plus_one))
    assert shifted["period"]["start"] == at(3, 2) and shifted["period"]["start"].tzinfo == dt.UTC


def test_days_are_utc_days_with_zeros_and_partial_ends(service_desk, personas):
    m = metrics(personas.admin, start=at(3, 1, 18, 0), end=at(3, 3, 6, 0))
    assert [(d["day"], d["opened"], d["resolved"]) for d in m["opened_vs_resolved"]] == [
        (dt.date(2026, 3, 1), 0, 0),
        (D1, 4, 3),
        (D2, 0, 0),  # T3 and T4 come after 06:00
    ]


def test_nothing_to_measure_gives_none_not_zero(personas):
    m = metrics(personas.admin)
    assert m["mtta"] == {"median_seconds": None, "p90_seconds": None, "count": 0}
    assert m["first_contact_resolution"]["rate"] is None
    assert m["reassignment_rate"]["rate"] is None
    assert m["csat"] == {
        "average": None,
        "responses": 0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert len(m["opened_vs_resolved"]) == 3


def test_a_staff_requester_replying_to_their_own_ticket_is_no_agent_reply(desk, personas):
    # An agent logs a ticket for themselves; their own replies are the requester's.
    ticket = desk.create(at(3, 2, 9, 0), requester=personas.agent_desk)
    desk.reply(at(3, 2, 9, 10), ticket, by=personas.agent_desk)
    desk.reply(at(3, 2, 9, 20), ticket, by=personas.agent_desk)
    desk.reply(at(3, 2, 9, 30), ticket, by=personas.lead_desk)
    desk.resolve(at(3, 2, 10, 0), ticket)
    assert metrics(personas.admin)["first_contact_resolution"]["fcr_count"] == 1


@pytest.fixture
def sla_stories(desk, personas):
    calendar = Calendar.objects.create(name="Always", twenty_four_seven=True)
    sla = SlaPolicy.objects.create(name="Standard", type=SlaPolicy.Type.SLA)
    ola = SlaPolicy.objects.create(name="Desk OLA", type=SlaPolicy.Type.OLA)
    for priority in range(1, 6):
        for policy, metric, minutes in (
            (sla, "first_response", 60),
            (sla, "resolution", 240),
            (ola, "first_response", 10),
        ):
            SlaTarget.objects.create(
                policy=policy, metric=metric, priority=priority, minutes=minutes, calendar=calendar
            )

    def story(created, reply_after, resolve_after, requester=None):
        ticket = desk.create(created, requester=requester)
        desk.reply(created + dt.timedelta(minutes=reply_after), ticket)
        if resolve_after is not None:
            desk.resolve(created + dt.timedelta(minutes=resolve_after), ticket)

    story(at(3, 2, 9, 0), 30, 60)  # met, met (the OLA's 10 minutes breached: not counted)
    story(at(3, 2, 9, 0), 90, 120)  # response breached, resolution met
    story(at(3, 2, 12, 0), 5, None)  # responded: met; resolution still running
    story(at(2, 20, 9, 0), 10, 60)  # met, met, before the period
    story(at(3, 3, 9, 0), 5, 30, requester=personas.requester_globex)  # met, met (Globex)


def test_sla_compliance_counts_requester_slas_finished_in_the_period(sla_stories, personas):
    assert metrics(personas.admin)["sla_compliance"] == {
        "met": 6,
        "breached": 1,
        **NO_OPEN,
        "rate": 85.71,
    }
    lead = metrics(personas.lead_desk)["sla_compliance"]
    assert lead == {"met": 4, "breached": 1, **NO_OPEN, "rate": 80.0}


def test_sla_compliance_over_a_long_period_joins_instead_of_probing(sla_stories, personas):
    long = {"start": at(1, 1) - dt.timedelta(days=200), "end": at(3, 5)}
    assert long["end"] - long["start"] > PROBE_PERIOD
    admin = metrics(personas.admin, **long)["sla_compliance"]
    assert admin == {"met": 8, "breached": 1, **NO_OPEN, "rate": 88.89}
    lead = metrics(personas.lead_desk, **long)["sla_compliance"]
    assert lead == {"met": 6, "breached": 1, **NO_OPEN, "rate": 85.71}


def test_query_count_does_not_grow_with_the_tickets(desk, personas):
    def add(count: int) -> None:
        rows = [
            Ticket(
                kind="incident",
                number=10_000 + Ticket.objects.count() + n,
                title="Printer",
                requester=personas.requester_acme,
                organization=personas.acme,
                team=personas.team_desk,
                priority=1 + n % 5,
                status=("new", "resolved", "closed")[n % 3],
                created_at=at(3, 2, 8) + dt.timedelta(minutes=n),
                first_response_at=at(3, 2, 9) + dt.timedelta(minutes=n),
                resolved_at=None if n % 3 == 0 else at(3, 3, 9) + dt.timedelta(minutes=n),
                reassignment_count=n % 2,
            )
            for n in range(count)
        ]
        made = Ticket.objects.bulk_create(rows)
        Comment.objects.bulk_create(
            Comment(ticket=t, author=personas.agent_desk, body="Hi") for t in made
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            metrics(personas.lead_desk, team_id=personas.team_desk.pk)
        return len(ctx)

    add(10)
    queries()  # fills the per-process configuration caches (team membership)
    few = queries()
    add(90)
    assert metrics(personas.lead_desk)["mtta"]["count"] == 100
    assert queries() == few
    assert few <= 15  # with the breached SLA clocks (open ones counted live)


def test_default_period_is_the_last_30_days():
    now = dt.datetime(2026, 3, 10, 15, 30, tzinfo=dt.UTC)
    assert default_period(now=now) == (dt.datetime(2026, 2, 9, tzinfo=dt.UTC), now)
    end = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert default_period(end=end, now=now) == (end - dt.timedelta(days=30), end)
    start = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    assert default_period(start=start, now=now) == (start, now)


def test_tickets_seen_personally_are_what_the_rule_adds_to_the_whole_parts(personas):
    """The report counts these one by one, and the whole parts from the report tables."""
    from servio.reporting.selectors import _seen_personally
    from servio.tickets.models import visible_parts
    from tests.factories import UserFactory
    from tests.tickets.test_visibility_rule import _tickets

    p = personas
    former = UserFactory(email="fred@provider.example", role="agent", organization=p.provider)
    tickets = _tickets(p, former)
    found = {}
    for user in (p.lead_desk, p.agent_desk, p.change_manager, former):
        parts = visible_parts(user)
        for filters in ({}, {"team_id": p.team_desk.pk}, {"organization_id": p.globex.pk}):
            expected = Ticket.objects.visible_to(user).exclude(parts.whole())
            if "team_id" in filters:
                expected = expected.filter(team_id=filters["team_id"])
            if "organization_id" in filters:
                expected = expected.filter(organization_id=filters["organization_id"])
            singles = _seen_personally(
                parts,
                team_id=filters.get("team_id"),
                organization_id=filters.get("organization_id"),
            )
            assert sorted(singles) == sorted(expected.values_list("pk", flat=True)), user.email
            found[user.email, *filters] = set(singles)
    assert found["lena@provider.example",] == {tickets["globex_watched_by_lead"].pk}
    assert found["fred@provider.example",] == {tickets["left_behind"].pk}
    assert found["dana@provider.example",] == set()  # Globex tickets with her team: whole
