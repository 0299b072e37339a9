"""The dashboard's drill-down links: each one's queue holds exactly the figure's tickets.

Over the hand-built desk of tests/reporting (T1..T12, 2 to 4 March 2026), for readers of
several scopes and time zones: every link of the page is followed and the queue's count
compared with the number the dashboard shows beside it.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from servio.sla.models import Calendar, SlaClock, SlaPolicy, SlaTarget
from servio.sla.scan import sla_scan
from tests.reporting.conftest import at, desk, service_desk  # noqa: F401 (fixtures)
from tests.ui import told

pytestmark = pytest.mark.django_db

PERIOD = "period=custom&start=2026-03-02&end=2026-03-04"
NOW = at(3, 5, 12)


def dashboard(client, user, query=PERIOD):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/desk/dashboard/?{query}")
    assert response.status_code == 200
    return response.context


def queue_count(client, url: str) -> int:
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert told(response) == 200 and not response.context["form"].errors, url
    total = response.context["page"].total
    assert total is not None, url
    assert f'data-total="{total}"' in response.content.decode()
    return total


def pairs(context) -> list[tuple[str, str, int]]:
    """(what, link, figure) for every number of the dashboard that links to a queue."""
    m, links = context["metrics"], context["links"]
    found = [
        ("backlog", links["backlog"], context["backlog"]["total"]),
        ("mtta", links["mtta"], m["mtta"]["count"]),
        ("mttr", links["mttr"], m["mttr"]["count"]),
        ("fcr", links["fcr"], m["first_contact_resolution"]["fcr_count"]),
        ("resolved", links["mttr"], m["first_contact_resolution"]["resolved_count"]),
        ("reassigned", links["reassigned"], m["reassignment_rate"]["reassigned"]),
        ("sla breached", links["sla_breached"], m["sla_compliance"]["breached_tickets"]),
        ("csat", links["csat"], m["csat"]["responses"]),
    ]
    found += [
        (f"rating {r}", links[f"rating_{r}"], m["csat"]["distribution"][r])
        for r in m["csat"]["distribution"]
    ]
    backlog = context["backlog"]
    for row in backlog["rows"]:
        found.append((f"backlog {row['team']}", row["url"], row["total"]))
        found += [(f"backlog {row['team']} cell", c["url"], c["count"]) for c in row["cells"]]
    found += [("backlog priority", c["url"], c["count"]) for c in backlog["totals"]]
    for day in context["days"]:
        found.append((f"opened {day['day']}", day["links"]["opened"], day["opened"]))
        found.append((f"resolved {day['day']}", day["links"]["resolved"], day["resolved"]))
    for agent in context["agents"] or []:
        links_ = agent["links"]
        found.append((f"{agent['agent']} handled", links_["handled"], agent["handled"]))
        found.append((f"{agent['agent']} reopened", links_["reopened"], agent["reopened"]))
        found.append((f"{agent['agent']} rated", links_["csat"], agent["csat_responses"]))
    return found


def assert_links_count_their_figures(client, context) -> int:
    checked = 0
    for what, url, figure in pairs(context):
        assert queue_count(client, url) == figure, (what, url)
        checked += 1
    return checked


@pytest.mark.parametrize("who", ["admin", "lead_desk", "change_manager"])
def test_every_link_lists_as_many_tickets_as_its_figure(client, personas, service_desk, who):  # noqa: F811
    context = dashboard(client, getattr(personas, who))
    assert assert_links_count_their_figures(client, context) >= 19
    m = context["metrics"]
    if who == "admin":  # the hand-counted figures of tests/reporting/test_selectors.py
        assert m["mttr"]["count"] == 6 and m["first_contact_resolution"]["fcr_count"] == 3
        assert context["backlog"]["total"] == 3 and m["csat"]["responses"] == 3


@pytest.mark.parametrize("tz", ["Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"])
def test_links_follow_the_days_of_the_time_zone(client, personas, service_desk, settings, tz):  # noqa: F811
    settings.SERVIO_REPORT_TIME_ZONES = ["UTC", tz]
    context = dashboard(client, personas.admin, f"{PERIOD}&tz={tz}")
    assert context["time_zone"] == tz
    assert all(f"tz={tz.replace('/', '%2F')}" in day["links"]["opened"] for day in context["days"])
    assert_links_count_their_figures(client, context)


def test_team_and_organisation_filters_travel_with_the_links(client, personas, service_desk):  # noqa: F811
    team = personas.team_desk.pk
    context = dashboard(client, personas.lead_desk, f"{PERIOD}&team={team}")
    query = parse_qs(urlsplit(context["links"]["mttr"]).query)
    assert query["team"] == [str(team)] and query["kind"] == ["incident", "request"]
    assert_links_count_their_figures(client, context)
    acme = personas.acme.pk
    context = dashboard(client, personas.admin, f"{PERIOD}&organization={acme}")
    assert parse_qs(urlsplit(context["links"]["csat"]).query)["organization"] == [str(acme)]
    assert_links_count_their_figures(client, context)


@pytest.fixture
def open_breach(desk, personas):  # noqa: F811
    """Requester SLA of 1 h to respond, 4 h to resolve, on a 24/7 calendar; one ticket met
    both, one breached its response and was resolved, one (Acme) and one (Globex) were never
    answered and are still open, their clocks breached by the scan."""
    calendar = Calendar.objects.create(name="Always", twenty_four_seven=True)
    sla = SlaPolicy.objects.create(name="Standard", type=SlaPolicy.Type.SLA)
    for priority in range(1, 6):
        for metric, minutes in (("first_response", 60), ("resolution", 240)):
            SlaTarget.objects.create(
                policy=sla, metric=metric, priority=priority, minutes=minutes, calendar=calendar
            )
    good = desk.create(at(3, 2, 9), team=personas.team_desk)
    desk.reply(at(3, 2, 9, 30), good)
    desk.resolve(at(3, 2, 10), good)
    late = desk.create(at(3, 2, 9), team=personas.team_desk)
    desk.reply(at(3, 2, 11), late)
    desk.resolve(at(3, 2, 12), late)
    waiting = desk.create(at(3, 3, 9), team=personas.team_desk)
    desk.create(at(3, 3, 9), requester=personas.requester_globex)
    with time_machine.travel(at(3, 4, 9), tick=False):
        sla_scan(now=at(3, 4, 9))
    return waiting


def test_sla_compliance_counts_clocks_breached_while_still_open(client, personas, open_breach):
    waiting = SlaClock.objects.filter(ticket=open_breach)
    assert {(c.metric, c.state, c.breached) for c in waiting} == {
        ("first_response", "breached", True),
        ("resolution", "breached", True),
    }
    admin = dashboard(client, personas.admin)
    sla = admin["metrics"]["sla_compliance"]
    # Met: good's two clocks and late's resolution; breached: late's response, and two open
    # clocks of each unanswered ticket.
    assert sla == {
        "met": 3,
        "breached": 1,
        "breached_open": 4,
        "breached_tickets": 3,
        "rate": 37.5,
    }
    assert queue_count(client, admin["links"]["sla_breached"]) == 3
    assert queue_count(client, admin["links"]["sla_met"]) == 2  # good and late
    assert "4 still open" in _text(client, personas.admin)

    # The desk's lead does not see Globex: its open breach is neither counted nor listed.
    lead = dashboard(client, personas.lead_desk)
    assert lead["metrics"]["sla_compliance"]["breached_open"] == 2
    assert lead["metrics"]["sla_compliance"]["breached_tickets"] == 2
    assert queue_count(client, lead["links"]["sla_breached"]) == 2


def test_an_open_breach_belongs_to_the_period_of_its_due_time(client, personas, open_breach):
    before = dashboard(client, personas.admin, "period=custom&start=2026-02-01&end=2026-03-01")
    assert before["metrics"]["sla_compliance"]["breached_open"] == 0
    assert queue_count(client, before["links"]["sla_breached"]) == 0


def _text(client, user) -> str:
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(f"/desk/dashboard/?{PERIOD}").content.decode()


def test_each_figure_says_how_it_is_defined_beside_it(client, personas, service_desk):  # noqa: F811
    page = _text(client, personas.lead_desk)
    for name in ("backlog", "mtta", "mttr", "csat", "fcr", "sla", "reassign"):
        assert f'id="def-{name}" data-definition="{name}"' in page, name
        assert f'aria-describedby="def-{name}"' in page, name
    assert "still open that passed their target" in page


def test_per_agent_figures_for_leads_within_what_they_see(client, personas, service_desk):  # noqa: F811
    admin = {a["agent_id"]: a for a in dashboard(client, personas.admin)["agents"]}
    lead = {a["agent_id"]: a for a in dashboard(client, personas.lead_desk)["agents"]}
    desk_agent, network_agent = personas.agent_desk.pk, personas.agent_network.pk
    # agent_desk resolved T1, T2, T4 (reopened once) and T12; rated on T1 (5) and T2 (2).
    assert admin[desk_agent] | {"links": None} == {
        "agent_id": desk_agent,
        "agent": admin[desk_agent]["agent"],
        "handled": 4,
        "mttr_median_seconds": 84600.0,
        "reopened": 1,
        "reopen_rate": 25.0,
        "csat_average": 3.5,
        "csat_responses": 2,
        "links": None,
    }
    # agent_network resolved T3 (Acme) and T7 (Globex, rated 4): the desk's lead sees T3 only.
    assert admin[network_agent]["handled"] == 2 and admin[network_agent]["csat_responses"] == 1
    assert lead[network_agent]["handled"] == 1 and lead[network_agent]["csat_responses"] == 0
    assert lead[desk_agent]["handled"] == 4


def test_agents_and_change_managers_get_no_per_agent_figures(client, personas, service_desk):  # noqa: F811
    manager = dashboard(client, personas.change_manager)
    assert manager["agents"] is None
    assert 'id="table-agents"' not in _text(client, personas.change_manager)
    client.force_login(personas.agent_desk)
    assert client.get(f"/desk/dashboard/?{PERIOD}").status_code == 404


def test_the_queue_of_a_report_set_costs_the_same_queries_whatever_its_size(
    client,
    personas,
    service_desk,  # noqa: F811
    django_assert_num_queries,
):
    links = dashboard(client, personas.admin)["links"]
    client.force_login(personas.admin)
    url = links["mttr"]
    with time_machine.travel(NOW, tick=False):
        client.get(url)  # warms the per-process caches
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            client.get(url)
    for n in range(8):
        ticket = service_desk.create(at(3, 3, 12, n), team=personas.team_desk)
        service_desk.resolve(at(3, 3, 13, n), ticket)
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(len(few)):
        response = client.get(url)
    assert response.context["page"].total == 14


def test_a_bad_report_filter_is_named_beside_its_field(client, personas):
    client.force_login(personas.lead_desk)
    response = client.get("/desk/?queue=all&resolved_after=yesterday&tz=Mars/Olympus")
    errors = response.context["form"].errors
    assert set(errors) == {"resolved_after", "tz"}
    assert "IANA" in errors["tz"][0]


def test_the_ticket_api_takes_the_same_sets_and_lists_the_same_tickets(
    client,
    api_as,
    personas,
    service_desk,  # noqa: F811
):
    """One filter definition: the API list answers the queue's sets (times with offsets)."""
    context = dashboard(client, personas.lead_desk)
    m = context["metrics"]
    api = api_as(personas.lead_desk, scope="read")
    base = {"kind": ["incident", "request"], "limit": 100}
    period = {"resolved_after": "2026-03-02T00:00:00Z", "resolved_before": "2026-03-05T00:00:00Z"}
    resolved = api.get("tickets", data={**base, **period})
    assert resolved.status_code == 200, resolved.content
    assert len(resolved.json()["items"]) == m["mttr"]["count"] == 5
    first = api.get("tickets", data={**base, **period, "first_contact": "true"}).json()
    assert len(first["items"]) == m["first_contact_resolution"]["fcr_count"]
    rated = {"rated_after": "2026-03-02T00:00:00Z", "rated_before": "2026-03-05T00:00:00Z"}
    answers = api.get("tickets", data={**base, **rated}).json()
    assert len(answers["items"]) == m["csat"]["responses"] == 2  # not Globex's T7
    bad = api.get("tickets", data={"sla": "late"})
    assert bad.status_code == 422 and "sla" in bad.content.decode()
