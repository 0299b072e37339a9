"""Saved views keep exactly what the agent sees (issue 14, item 2): the filters of the page as
it was last filtered (through HTMX too), validated by TicketFilter; the page names the view;
views are renamed, re-shared, refiltered, reordered and deleted by those who may; sharing is
offered only to those who may share, and refused by the service otherwise."""

from __future__ import annotations

import re
from html import unescape

import pytest

from servio.audit.models import AuditEvent
from servio.core.errors import PermissionDenied, ValidationFailed
from servio.workspace import services
from servio.workspace.models import SavedView
from tests.ui import make_ticket, told

HX_RESULTS = {"HX-Request": "true", "HX-Target": "queue-results"}


def refs(response) -> list[str]:
    return re.findall(r"data-ticket-link[^>]*>((?:INC|REQ)-\d{6})<", response.content.decode())


def save_query(response) -> str:
    """The filters the save form would send: its hidden `query` field."""
    found = re.search(
        r'<input type="hidden" name="query" id="save-view-query" value="([^"]*)"',
        response.content.decode(),
    )
    assert found, "no save-view query field"
    return unescape(found.group(1))


def test_a_view_saved_after_htmx_filtering_keeps_those_filters(client, personas, api_as):
    urgent = make_ticket(personas, title="Server room hot", urgency=1, impact=1)
    make_ticket(personas, title="Mouse squeaks")
    client.force_login(personas.agent_desk)
    page = client.get("/desk/?queue=all")
    assert save_query(page) == "queue=all"
    # The filter form answers HTMX with the results and, out of band, the save form's copy of
    # the filters now applied (the pushed URL's query).
    results = client.get("/desk/?queue=all&priority=1&status=new", headers=HX_RESULTS)
    body = results.content.decode()
    assert 'id="save-view-query"' in body and 'hx-swap-oob="true"' in body
    query = save_query(results)
    assert query == "queue=all&status=new&priority=1"
    response = client.post("/desk/views/", {"name": "Critical new", "query": query})
    view = SavedView.objects.get(name="Critical new")
    assert response.status_code == 302
    assert view.queue == "all" and view.filters == {"status": ["new"], "priority": [1]}
    opened = client.get(f"/desk/views/{view.pk}/", follow=True)
    # The same tickets as the URL, and as the API list with the same TicketFilter parameters.
    url = client.get("/desk/?queue=all&priority=1&status=new")
    api = api_as(personas.agent_desk).get("tickets?priority=1&status=new").json()
    assert refs(opened) == refs(url) == [urgent.reference]
    assert [t["reference"] for t in api["items"]] == [urgent.reference]
    html = opened.content.decode()
    assert "<title>Critical new · Servio</title>" in html
    assert re.search(r'<h1 class="page-title" id="queue-heading">Critical new</h1>', html)
    assert opened.context["current_view"] == view
    # The filter form keeps the view while filtering, so the heading stays the view's.
    assert f'<input type="hidden" name="view" value="{view.pk}">' in html


def test_saved_filters_go_through_ticketfilter(client, personas):
    client.force_login(personas.agent_desk)
    with pytest.raises(ValidationFailed) as refused:
        services.saved_view_create(
            actor=personas.agent_desk, name="Bad", queue="all", filters={"priority": ["high"]}
        )
    assert "filters" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        services.saved_view_create(actor=personas.agent_desk, name="Q", queue="nope", filters={})
    assert "queue" in refused.value.errors
    # A bad value in the page's URL is left out, as the page leaves it out.
    client.post("/desk/views/", {"name": "Half", "query": "queue=mine&priority=9&kind=incident"})
    assert SavedView.objects.get(name="Half").filters == {"kind": ["incident"], "sort": "priority"}


def test_sharing_is_offered_only_to_those_who_may_and_refused_by_the_service(client, personas):
    # An agent may not share: the page offers no team, and a posted one is refused (422).
    client.force_login(personas.agent_desk)
    page = client.get("/desk/?queue=all").content.decode()
    assert "Share with" not in page
    response = client.post(
        "/desk/views/",
        {"name": "Shared", "query": "queue=all", "team": str(personas.team_desk.pk)},
    )
    assert told(response) == 422
    assert "team leads and administrators" in response.context["save_form"].errors["team"][0]
    assert 'value="Shared"' in response.content.decode()
    assert not SavedView.objects.exists()
    with pytest.raises(ValidationFailed) as refused:
        services.saved_view_create(
            actor=personas.agent_desk, name="X", queue="all", filters={}, team=personas.team_desk
        )
    assert list(refused.value.errors) == ["team"]
    # A lead is offered their own teams only, and refused another team by the service.
    client.force_login(personas.lead_desk)
    form = client.get("/desk/?queue=all").context["save_form"]
    assert [label for _, label in form.fields["team"].choices] == ["Only me", "Service Desk"]
    response = client.post(
        "/desk/views/",
        {"name": "Theirs", "query": "queue=all", "team": str(personas.team_network.pk)},
    )
    assert told(response) == 422
    assert "team you belong to" in response.context["save_form"].errors["team"][0]
    client.post(
        "/desk/views/",
        {"name": "Team view", "query": "queue=teams", "team": str(personas.team_desk.pk)},
    )
    shared = SavedView.objects.get(name="Team view")
    assert shared.team == personas.team_desk
    # The team's agents see it (under "shared with your teams"); others do not, and get 404.
    client.force_login(personas.agent_desk)
    views = client.get("/desk/").context["saved_views"]
    assert shared in views.shared and shared not in views.own
    client.force_login(personas.agent_network)
    assert shared not in client.get("/desk/").context["saved_views"]
    for path in ("", "edit/", "filters/", "move/", "delete/"):
        method = client.get if path == "" else client.post
        assert method(f"/desk/views/{shared.pk}/{path}").status_code == 404, path
    # An administrator may share with any team.
    view = services.saved_view_create(
        actor=personas.admin, name="Net", queue="all", filters={}, team=personas.team_network.pk
    )
    assert view.team == personas.team_network


def test_rename_reshare_refilter_and_delete(client, personas):
    lead = personas.lead_desk
    view = services.saved_view_create(actor=lead, name="Mine", queue="mine", filters={})
    client.force_login(lead)
    page = client.get("/desk/views/")
    assert page.status_code == 200 and f'name="v{view.pk}-name"' in page.content.decode()
    response = client.post(
        f"/desk/views/{view.pk}/edit/",
        {f"v{view.pk}-name": "My P1s", f"v{view.pk}-team": str(personas.team_desk.pk)},
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert (view.name, view.team) == ("My P1s", personas.team_desk)
    event = AuditEvent.objects.filter(action="workspace.view_changed").latest("pk")
    assert event.changes["name"] == ["Mine", "My P1s"]
    # A name the owner already uses is refused beside the field of that view.
    services.saved_view_create(actor=lead, name="Other", queue="all", filters={})
    response = client.post(
        f"/desk/views/{view.pk}/edit/", {f"v{view.pk}-name": "Other", f"v{view.pk}-team": ""}
    )
    assert told(response) == 422
    assert f'aria-describedby="id_save_v{view.pk}-name-errors"' in response.content.decode()
    # The filters shown now replace the stored ones.
    client.post(f"/desk/views/{view.pk}/filters/", {"query": "queue=all&priority=1&priority=2"})
    view.refresh_from_db()
    assert (view.queue, view.filters) == ("all", {"priority": [1, 2]})
    # A member of the team may open it but not change it; the service refuses them too.
    with pytest.raises(PermissionDenied):
        services.saved_view_update(actor=personas.agent_desk, view=view, name="Hijack", team=None)
    client.force_login(personas.agent_desk)
    assert client.get("/desk/views/").context["lists"].shared[0].can_change is False
    client.post(f"/desk/views/{view.pk}/delete/")
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(lead)
    client.post(f"/desk/views/{view.pk}/delete/", {"next": "views"})
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_views_are_reordered_by_their_owner(client, personas):
    agent = personas.agent_desk
    a, b, c = (
        services.saved_view_create(actor=agent, name=name, queue="all", filters={})
        for name in ("Zebra", "Apple", "Mango")
    )
    client.force_login(agent)
    assert [v.name for v in client.get("/desk/").context["saved_views"].own] == [
        "Zebra",
        "Apple",
        "Mango",
    ]
    client.post(f"/desk/views/{c.pk}/move/", {"direction": "up"})
    client.post(f"/desk/views/{c.pk}/move/", {"direction": "up"})
    client.post(f"/desk/views/{b.pk}/move/", {"direction": "down"})
    assert [v.name for v in client.get("/desk/views/").context["lists"].own] == [
        "Mango",
        "Zebra",
        "Apple",
    ]
    with pytest.raises(PermissionDenied):
        services.saved_view_move(actor=personas.lead_desk, view=a, offset=1)


def test_a_view_of_another_organisation_never_shows_its_tickets(client, personas):
    """A view shared in one team holds filters, not tickets: opened by someone else, it shows
    only what they may see."""
    hidden = make_ticket(personas, requester=personas.requester_globex, title="Globex only")
    view = services.saved_view_create(
        actor=personas.lead_desk, name="All", queue="all", filters={}, team=personas.team_desk
    )
    client.force_login(personas.agent_desk)
    assert hidden.reference not in refs(client.get(f"/desk/views/{view.pk}/", follow=True))


def test_the_views_page_costs_the_same_whatever_the_number_of_views(client, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = personas.lead_desk
    services.saved_view_create(actor=lead, name="V0", queue="all", filters={})
    client.force_login(lead)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/desk/views/").status_code == 200
        return len(ctx.captured_queries)

    count()
    one = count()
    for n in range(1, 6):
        services.saved_view_create(
            actor=lead, name=f"V{n}", queue="mine", filters={}, team=personas.team_desk
        )
    services.saved_view_create(
        actor=personas.admin, name="Theirs", queue="all", filters={}, team=personas.team_desk
    )
    assert count() == one
