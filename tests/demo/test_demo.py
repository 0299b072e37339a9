"""`servio demo`: the demo desk loads, its logins work, every state is there, the chain holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from servio import demo
from servio.accounts.models import Organization, Team, User
from servio.accounts.roles import STAFF_ROLES, Role
from servio.audit.sealing import audit_seal
from servio.audit.verification import audit_verify
from servio.tickets.models import Category, Comment, Service, Ticket
from tests.demo.checks import ticket_problems

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def desk(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module and rolled back after it."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield demo.load_demo()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


pytestmark = pytest.mark.django_db


def test_the_desk_has_the_promised_size(desk):
    assert Organization.objects.filter(kind="provider").count() == 1
    assert Organization.objects.filter(kind="customer").count() == 3
    assert Team.objects.count() == 5
    assert all(t.lead_id and t.serves.exists() for t in Team.objects.all())
    staff = User.objects.filter(role__in=STAFF_ROLES).exclude(role=Role.ADMIN)
    assert staff.count() == 20
    assert User.objects.filter(role=Role.REQUESTER).count() == 200
    assert Service.objects.count() == 30
    assert Category.objects.filter(parent=None).count() >= 5
    assert Category.objects.filter(parent__isnull=False).count() >= 20
    assert Ticket.objects.filter(kind="incident").count() == demo.DEMO_INCIDENTS == desk.tickets


def test_demo_logins_work(desk):
    for email in (demo.ADMIN_EMAIL, demo.AGENT_EMAIL, demo.REQUESTER_EMAIL):
        assert User.objects.get(email=email).check_password(demo.DEMO_PASSWORD), email
    client = Client()
    response = client.post(
        "/login/", {"username": demo.AGENT_EMAIL, "password": demo.DEMO_PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    assert int(client.session["_auth_user_id"]) == User.objects.get(email=demo.AGENT_EMAIL).pk


def test_the_desk_spreads_over_time_zones(desk):
    from servio.accounts.timezones import effective_zone_name

    zones = dict(Organization.objects.values_list("name", "time_zone"))
    assert set(zones.values()) == {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"}
    people = User.objects.select_related("organization")
    seen = {effective_zone_name(u) for u in people}
    assert seen == {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"}
    # The demo logins: the requester follows Acme (Berlin), the agent the provider (UTC).
    assert effective_zone_name(people.get(email=demo.REQUESTER_EMAIL)) == "Europe/Berlin"
    assert effective_zone_name(people.get(email=demo.AGENT_EMAIL)) == "UTC"
    assert people.get(email=demo.REQUESTER_EMAIL).time_zone == ""  # follows, not copied


def test_every_incident_state_is_present(desk):
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == {"new", "in_progress", "on_hold", "resolved", "closed", "cancelled"}
    reasons = set(Ticket.objects.filter(status="on_hold").values_list("hold_reason", flat=True))
    assert reasons == {"awaiting_requester", "awaiting_vendor", "awaiting_change"}
    majors = Ticket.objects.filter(is_major=True)
    assert majors.count() >= 3
    assert Ticket.objects.filter(parent__in=majors).count() >= 10
    assert majors.filter(status="in_progress", children__isnull=False).exists()
    assert Comment.objects.filter(is_internal=True).exists()
    assert Comment.objects.filter(is_internal=False).exists()


def test_history_spreads_over_the_last_90_days(desk):
    now = timezone.now()
    created = list(Ticket.objects.values_list("created_at", flat=True))
    assert min(created) > now - timedelta(days=91)
    assert max(created) < now
    assert len({c.date() for c in created}) > 80
    # Numbers rise with time, as they do on a live desk.
    numbers = list(Ticket.objects.order_by("created_at").values_list("number", flat=True))
    assert numbers == sorted(numbers)


def test_demo_personas_have_work(desk, api_as):
    agent = User.objects.get(email=demo.AGENT_EMAIL)
    requester = User.objects.get(email=demo.REQUESTER_EMAIL)
    acme = requester.organization
    assert agent.teams.filter(serves=acme).exists()
    assert Ticket.objects.filter(assignee=agent).count() >= 10
    assert Ticket.objects.filter(requester=requester).count() >= 5
    mine = api_as(agent).get("tickets?assignee=me&open=true").json()["items"]
    assert mine and all(t["assignee"]["email"] == demo.AGENT_EMAIL for t in mine)
    own = api_as(requester).get("tickets?limit=200").json()["items"]
    assert any(t["requester"]["email"] == demo.REQUESTER_EMAIL for t in own)
    assert {t["organization"]["id"] for t in own} == {acme.pk}


def test_the_demo_requester_has_tickets_waiting_for_them(desk):
    from servio.portal.selectors import needs_action

    requester = User.objects.get(email=demo.REQUESTER_EMAIL)
    waiting, _ = needs_action(user=requester)
    assert {action.code for w in waiting for action in w.actions} == {"answer", "confirm", "rate"}
    assert all(w.ticket.requester_id == requester.pk for w in waiting)


def test_audit_chain_and_ticket_invariants_hold(desk):
    audit_seal()  # what the runner's sealer does within seconds of `make run`
    result = audit_verify()
    assert result.ok, result.reason
    assert result.checked >= desk.events
    assert ticket_problems() == []


def test_if_empty_leaves_a_loaded_demo_alone(desk):
    before = Ticket.objects.count()
    call_command("demo", "--if-empty")
    assert Ticket.objects.count() == before


def test_new_demo_tickets_get_sla_clocks_that_count_down(desk, api_as):
    from servio.sla.models import SlaClock, SlaPolicy

    assert set(SlaPolicy.objects.values_list("name", flat=True)) >= {
        "Incidents",
        "Service requests",
    }
    # Open tickets of the history got clocks from the moment the demo was loaded.
    open_ticket = Ticket.objects.filter(status="in_progress").first()
    assert SlaClock.objects.filter(ticket=open_ticket, metric="resolution").exists()
    requester = User.objects.get(email=demo.REQUESTER_EMAIL)
    created = api_as(requester).post(
        "tickets", json={"title": "VPN drops every hour", "impact": 2, "urgency": 2}
    )
    assert created.status_code == 201, created.content
    clocks = {c["metric"]: c for c in created.json()["sla"]}
    assert set(clocks) == {"first_response", "resolution"}
    assert all(c["state"] == "running" and c["policy"] == "Incidents" for c in clocks.values())
    assert clocks["resolution"]["remaining_seconds"] > 0


def test_the_workspace_has_canned_responses_and_a_shared_view(desk):
    from servio.workspace.models import CannedResponse, SavedView

    assert CannedResponse.objects.filter(is_global=True).count() >= 2
    assert CannedResponse.objects.filter(team__name="Service Desk").count() >= 2
    agent = User.objects.get(email=demo.AGENT_EMAIL)
    shared = SavedView.objects.get(team__name="Service Desk")
    assert shared.owner.role == Role.TEAM_LEAD
    # The demo agent sees all three kinds in the workspace, and the lead's view.
    client = Client()
    client.force_login(agent)
    titles = {r.title for r in client.get("/desk/responses/").context["responses"]}
    assert {"Acknowledge: we are on it", "Need more details", "Remote session"} <= titles
    assert shared in client.get("/desk/").context["saved_views"].shared


def test_the_dashboard_shows_every_figure_on_the_demo(desk):
    """SLA compliance, CSAT and the per-agent table are not empty on the first start."""
    from servio.reporting import agents, selectors
    from servio.sla.scan import sla_scan

    sla_scan()  # as the runner does within a minute of the start
    lead = User.objects.get(email="lead@example.com")
    start, end = selectors.default_period()
    m = selectors.service_desk_metrics(user=lead, start=start, end=end)
    sla = m["sla_compliance"]
    assert sla["met"] > 100 and sla["breached"] > 10 and 50 < sla["rate"] < 95
    assert sla["breached_open"] > 0 and sla["breached_tickets"] > 0
    assert m["csat"]["responses"] > 50 and 3 < m["csat"]["average"] < 5
    assert m["mttr"]["count"] > 100 and m["first_contact_resolution"]["fcr_count"] > 0
    rows = agents.agent_figures(user=lead, start=start, end=end)
    assert len(rows) >= 5
    assert any(r["reopened"] for r in rows) and all(r["csat_responses"] for r in rows[:5])
