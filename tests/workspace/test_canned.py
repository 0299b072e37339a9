"""Canned responses worth having (issue 14, item 3): variables filled in from the ticket by a
renderer that never evaluates user text as a template, a preview, the picker always present,
and personal, team and everyone-responses by role, checked by the services."""

from __future__ import annotations

import re

import pytest

from servio.core.errors import PermissionDenied, ValidationFailed
from servio.sla.models import SlaPolicy
from servio.tickets import services as ticket_services
from servio.workspace import services
from servio.workspace.models import CannedResponse
from tests.ui import make_ticket, sla_policy, told

HX = {"HX-Request": "true"}
EVERY_VARIABLE = (
    "Hi {{ requester.first_name }}, about {{ ticket.number }} ({{ticket.title}}): due "
    "{{ ticket.due }}, see {{ ticket.portal_link }}. {{ agent.name }}, {{ team.name }}"
)


@pytest.fixture
def agent_client(client, personas):
    client.force_login(personas.agent_desk)
    return client


def _template_text(html: str) -> str:
    found = re.search(r'<template id="canned-text">(.*?)</template>', html, re.S)
    assert found, html
    return found.group(1)


def test_the_variables_are_filled_in_from_the_ticket(agent_client, personas, settings):
    settings.SERVIO_BASE_URL = "https://desk.example.com"
    sla_policy()
    requester = personas.requester_acme
    requester.time_zone = "Europe/Berlin"
    requester.save()
    ticket = make_ticket(personas, title="VPN drops")
    ticket_services.ticket_assign(
        actor=personas.agent_desk, ticket=ticket, team=personas.team_desk, assignee=None
    )
    canned = services.canned_response_create(
        actor=personas.agent_desk, title="Update", body=EVERY_VARIABLE
    )
    response = agent_client.get(
        f"/desk/responses/preview/?response={canned.pk}&ticket={ticket.reference}", headers=HX
    )
    assert response.status_code == 200
    text = _template_text(response.content.decode())
    assert text.startswith(f"Hi Rita, about {ticket.reference} (VPN drops): due ")
    assert "(Europe/Berlin), see &lt;https://desk.example.com/portal/t/" in text
    assert text.endswith("Dana Desk, Service Desk")
    # The due time is the resolution target of the SLA, in the requester's time zone.
    clock = ticket.sla_clocks.get(policy_type=SlaPolicy.Type.SLA, metric="resolution")
    import zoneinfo

    local = clock.due_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert f"{local:%H:%M} (Europe/Berlin)" in text
    # The preview is the Markdown pipeline's sanitised HTML, with the link made a link.
    assert 'href="https://desk.example.com/portal/t/' in response.content.decode()


def test_user_text_is_never_evaluated_as_a_template(agent_client, personas):
    title = "{{ agent.name }} {% debug %} {{ settings.SECRET_KEY }} *bold* <script>x()</script>"
    ticket = make_ticket(personas, title=title)
    canned = services.canned_response_create(
        actor=personas.agent_desk, title="Echo", body="Title: {{ ticket.title }}"
    )
    html = agent_client.get(
        f"/desk/responses/preview/?response={canned.pk}&ticket={ticket.reference}"
    ).content.decode()
    text = _template_text(html)
    # One pass: the title's own {{ agent.name }} stays as typed; nothing is evaluated; the
    # Markdown and HTML in it are escaped so they show as written.
    assert "Dana Desk" not in text and "{{ agent.name }}" in text
    assert "{% debug %}" in text and r"SECRET\_KEY" in text and "sql_queries" not in html
    assert r"\*bold\*" in text and r"\&lt;script\&gt;" in text
    assert "<script>x()" not in html and "<strong>bold" not in html
    # A response may only name known variables.
    with pytest.raises(ValidationFailed) as refused:
        services.canned_response_create(
            actor=personas.agent_desk, title="Leak", body="{{ settings.SECRET_KEY }}"
        )
    assert "settings.SECRET_KEY" in refused.value.errors["body"][0]
    response = agent_client.post(
        "/desk/responses/", {"title": "Leak", "body": "Hi {{ request.user.password }}"}
    )
    assert told(response) == 422
    assert "request.user.password" in response.context["form"].errors["body"][0]


def test_preview_of_a_text_being_written(agent_client, personas):
    response = agent_client.post(
        "/desk/responses/preview/",
        {"body": "Hello {{ requester.first_name }}, **{{ ticket.number }}** {{ nope }}"},
        headers=HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview with example values" in html and "<strong>INC-000123</strong>" in html
    assert "Not a variable, left as typed" in html and "nope" in html
    assert 'id="canned-text"' not in html  # nothing to insert from the responses page
    ticket = make_ticket(personas, title="Toner")
    html = agent_client.post(
        "/desk/responses/preview/", {"body": "{{ ticket.title }}", "ticket": ticket.reference}
    ).content.decode()
    assert f"Preview for {ticket.reference}" in html and "Toner" in html
    empty = agent_client.post("/desk/responses/preview/", {"body": "  "}).content.decode()
    assert "Nothing to preview yet" in empty


def test_preview_answers_404_for_what_the_agent_may_not_see(agent_client, personas):
    hidden = make_ticket(personas, requester=personas.requester_globex, title="Globex")
    theirs = services.canned_response_create(
        actor=personas.agent_network, title="Theirs", body="Hello"
    )
    mine = services.canned_response_create(actor=personas.agent_desk, title="Mine", body="Hi")
    base = "/desk/responses/preview/"
    assert (
        agent_client.get(f"{base}?response={mine.pk}&ticket={hidden.reference}").status_code == 404
    )
    assert agent_client.get(f"{base}?response={theirs.pk}").status_code == 404
    assert agent_client.get(f"{base}?response=abc").status_code == 404
    assert agent_client.get(f"{base}?response={mine.pk}").status_code == 200


def test_the_picker_is_always_there_and_offers_to_create_one(agent_client, personas):
    ticket = make_ticket(personas)
    page = agent_client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert 'id="canned-picker"' in page and "Create one" in page
    assert 'data-shortcut="canned"' in page
    services.canned_response_create(actor=personas.agent_desk, title="Reboot", body="Reboot.")
    page = agent_client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert "Create one" not in page and 'id="canned-search"' in page
    assert f"?response={CannedResponse.objects.get().pk}&amp;ticket={ticket.reference}" in page
    # Nothing of the responses' text is in the page: it is filled in when chosen.
    assert "Reboot." not in page


def test_personal_team_and_everyone_responses_by_role(client, personas):
    agent, lead, admin = personas.agent_desk, personas.lead_desk, personas.admin
    client.force_login(agent)
    form = client.get("/desk/responses/").context["form"]
    assert [v for v, _ in form.fields["team"].choices] == [""]
    response = client.post(
        "/desk/responses/", {"title": "T", "body": "B", "team": str(personas.team_desk.pk)}
    )
    assert told(response) == 422 and response.context["form"].errors["team"]
    response = client.post("/desk/responses/", {"title": "T", "body": "B", "team": "everyone"})
    assert "administrators" in response.context["form"].errors["team"][0]
    assert not CannedResponse.objects.exists()
    client.force_login(lead)
    choices = client.get("/desk/responses/").context["form"].fields["team"].choices
    assert choices == [("", "Only me"), (str(personas.team_desk.pk), "Team: Service Desk")]
    client.post("/desk/responses/", {"title": "VPN", "body": "New profile.", "team": choices[1][0]})
    with pytest.raises(ValidationFailed) as refused:
        services.canned_response_create(actor=lead, title="X", body="Y", team=personas.team_network)
    assert list(refused.value.errors) == ["team"]
    with pytest.raises(ValidationFailed):
        services.canned_response_create(actor=lead, title="X", body="Y", for_everyone=True)
    client.force_login(admin)
    assert ("everyone", "Every agent") in client.get("/desk/responses/").context["form"].fields[
        "team"
    ].choices
    client.post("/desk/responses/", {"title": "Hello", "body": "Hi.", "team": "everyone"})
    everyone = CannedResponse.objects.get(title="Hello")
    assert everyone.is_global and everyone.team is None
    # Who sees what: the team's response its members, everyone's every agent.
    services.canned_response_create(actor=agent, title="Mine", body="Me.")
    seen = {
        who: sorted(r.title for r in client_as(client, getattr(personas, who)))
        for who in ("agent_desk", "agent_network", "lead_desk")
    }
    assert seen == {
        "agent_desk": ["Hello", "Mine", "VPN"],
        "agent_network": ["Hello"],
        "lead_desk": ["Hello", "VPN"],
    }


def client_as(client, user):
    client.force_login(user)
    return client.get("/desk/responses/").context["responses"]


def test_edit_and_delete_by_those_who_may(client, personas):
    agent, lead = personas.agent_desk, personas.lead_desk
    team = services.canned_response_create(
        actor=lead, title="VPN", body="Old.", team=personas.team_desk
    )
    everyone = services.canned_response_create(
        actor=personas.admin, title="Hi", body="Hello.", for_everyone=True
    )
    client.force_login(agent)
    page = client.get("/desk/responses/").content.decode()
    assert f"/desk/responses/{team.pk}/edit/" not in page  # not offered
    response = client.post(
        f"/desk/responses/{everyone.pk}/edit/", {"title": "Hi", "body": "Changed."}
    )
    assert told(response) == 422
    everyone.refresh_from_db()
    assert everyone.body == "Hello."
    with pytest.raises(PermissionDenied):
        services.canned_response_update(
            actor=agent, response=team, title="VPN", body="Mine now.", team=personas.team_desk
        )
    with pytest.raises(PermissionDenied):
        services.canned_response_delete(actor=agent, response=everyone)
    client.force_login(lead)
    response = client.post(
        f"/desk/responses/{team.pk}/edit/",
        {
            "title": "VPN profile",
            "body": "New: {{ ticket.number }}",
            "team": str(personas.team_desk.pk),
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.title, team.body, team.team) == (
        "VPN profile",
        "New: {{ ticket.number }}",
        personas.team_desk,
    )
    client.post(f"/desk/responses/{team.pk}/delete/")
    assert not CannedResponse.objects.filter(pk=team.pk).exists()
    client.force_login(personas.agent_network)
    assert client.post(f"/desk/responses/{team.pk}/edit/").status_code == 404


def test_an_edit_keeps_or_checks_the_audience_as_a_new_response_does(personas):
    """One rule for who a response is for, new or edited: everyone needs an administrator
    (a response already for everyone stays so), a new team needs the right to share with it,
    the team it already has does not."""
    lead, admin = personas.lead_desk, personas.admin
    everyone = services.canned_response_create(
        actor=admin, title="Hi", body="Hello.", for_everyone=True
    )
    everyone = services.canned_response_update(
        actor=admin, response=everyone, title="Hi", body="Hello again.", for_everyone=True
    )
    assert (everyone.is_global, everyone.team, everyone.body) == (True, None, "Hello again.")
    shared = services.canned_response_create(
        actor=lead, title="VPN", body="Old.", team=personas.team_desk
    )
    shared = services.canned_response_update(
        actor=lead, response=shared, title="VPN", body="New.", team=personas.team_desk.pk
    )
    assert (shared.team, shared.is_global) == (personas.team_desk, False)
    for refused in ({"team": personas.team_network}, {"for_everyone": True}):
        with pytest.raises(ValidationFailed) as error:
            services.canned_response_update(
                actor=lead, response=shared, title="VPN", body="New.", **refused
            )
        assert list(error.value.errors) == ["team"]
    mine = services.canned_response_update(actor=lead, response=shared, title="VPN", body="New.")
    assert (mine.team, mine.is_global) == (None, False)
    moved = services.canned_response_update(
        actor=admin, response=everyone, title="Hi", body="Hello.", team=personas.team_desk
    )
    assert (moved.team, moved.is_global) == (personas.team_desk, False)


def _count(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pages_cost_the_same_whatever_the_number_of_responses(client, personas):
    from servio.workspace import services as desk

    sla_policy()
    lead = personas.lead_desk
    ticket = make_ticket(personas)
    first = desk.canned_response_create(actor=lead, title="R0", body="{{ ticket.number }}")
    client.force_login(lead)
    preview = f"/desk/responses/preview/?response={first.pk}&ticket={ticket.reference}"
    pages = ("/desk/responses/", f"/desk/t/{ticket.reference}/", preview)
    for url in pages:
        _count(client, url)  # warms the per-process caches
    before = {url: _count(client, url) for url in pages}
    for n in range(1, 6):
        desk.canned_response_create(
            actor=lead, title=f"R{n}", body="Hi", team=personas.team_desk if n % 2 else None
        )
    assert {url: _count(client, url) for url in pages} == before
