"""Who may open the workspace: staff only, and only tickets they may see (404 otherwise)."""

from __future__ import annotations

import pytest
from django.test import Client

from servio.tickets import services
from tests.ui import make_ticket

AGENT_URLS = [
    "/desk/",
    "/desk/?queue=unassigned",
    "/desk/dashboard/",
    "/desk/responses/",
    "/desk/t/{ref}/",
    "/desk/t/{ref}/part/header/",
    "/desk/t/{ref}/poll/",
    "/desk/t/{ref}/edit/title/",
]


@pytest.mark.parametrize("url", AGENT_URLS)
def test_a_requester_opening_an_agent_url_gets_404(client, personas, url):
    ticket = make_ticket(personas)
    client.force_login(personas.requester_acme)  # the ticket's own requester
    assert client.get(url.format(ref=ticket.reference)).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/desk/t/{ref}/comment/", "/desk/t/{ref}/assign-me/", "/desk/t/{ref}/transition/start/",
     "/desk/bulk/", "/desk/views/"],
)  # fmt: skip
def test_a_requester_posting_to_an_agent_url_gets_404(client, personas, url):
    ticket = make_ticket(personas)
    client.force_login(personas.requester_acme)
    response = client.post(url.format(ref=ticket.reference), {"body": "x", "tickets": "x"})
    assert response.status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, personas):
    response = client.get("/desk/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_agent_of_another_organisation_gets_404(client, personas):
    acme_ticket = make_ticket(personas)
    client.force_login(personas.agent_network)  # serves Globex only
    assert client.get(f"/desk/t/{acme_ticket.reference}/").status_code == 404
    assert client.post(f"/desk/t/{acme_ticket.reference}/assign-me/").status_code == 404
    assert client.get("/desk/t/INC-999999/").status_code == 404
    assert client.get("/desk/t/not-a-number/").status_code == 404


def test_a_requester_opening_another_organisations_ticket_gets_404(client, personas):
    globex_ticket = make_ticket(personas, requester=personas.requester_globex)
    colleague_ticket = make_ticket(personas, requester=personas.colleague_acme)
    client.force_login(personas.requester_acme)
    assert client.get(f"/portal/t/{globex_ticket.reference}/").status_code == 404
    assert (
        client.post(f"/portal/t/{globex_ticket.reference}/reply/", {"body": "hi"}).status_code
        == 404
    )
    assert client.post(f"/portal/t/{globex_ticket.reference}/cancel/").status_code == 404
    # A colleague's ticket too, unless the organisation shares its tickets.
    assert client.get(f"/portal/t/{colleague_ticket.reference}/").status_code == 404
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    assert client.get(f"/portal/t/{colleague_ticket.reference}/").status_code == 200
    assert client.get(f"/portal/t/{globex_ticket.reference}/").status_code == 404


def test_the_dashboard_is_for_leads_and_managers(client, personas):
    client.force_login(personas.agent_desk)
    assert client.get("/desk/dashboard/").status_code == 404
    for person in (personas.lead_desk, personas.change_manager, personas.admin):
        client.force_login(person)
        assert client.get("/desk/dashboard/").status_code == 200


def test_home_sends_each_role_to_its_home(client, personas):
    client.force_login(personas.agent_desk)
    assert client.get("/")["Location"] == "/desk/"
    client.force_login(personas.requester_acme)
    assert client.get("/")["Location"] == "/portal/"
    client.force_login(personas.admin)
    assert client.get("/")["Location"] == "/desk/"
    page = client.get("/desk/").content.decode()
    assert 'href="/admin/"' in page


@pytest.mark.parametrize(
    ("who", "url", "data"),
    [
        ("agent_desk", "/desk/t/{ref}/comment/", {"body": "hello", "visibility": "public"}),
        ("agent_desk", "/desk/t/{ref}/edit/title/", {"title": "x", "version": "1"}),
        ("agent_desk", "/desk/t/{ref}/transition/start/", {"version": "1"}),
        ("agent_desk", "/desk/bulk/", {"action": "assign_me", "tickets": "{ref}"}),
        ("agent_desk", "/desk/responses/", {"title": "t", "body": "b"}),
        ("requester_acme", "/portal/new/", {"title": "t", "how_bad": "can_wait"}),
        ("requester_acme", "/portal/t/{ref}/reply/", {"body": "hello"}),
        ("requester_acme", "/portal/t/{ref}/cancel/", {}),
        ("requester_acme", "/settings/tokens/", {"name": "t", "scope": "read"}),
    ],
)
def test_every_form_refuses_a_post_without_the_csrf_token(personas, who, url, data):
    ticket = make_ticket(personas)
    client = Client(enforce_csrf_checks=True)
    client.force_login(getattr(personas, who))
    data = {k: v.format(ref=ticket.reference) for k, v in data.items()}
    response = client.post(url.format(ref=ticket.reference), data)
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.version == 1 and ticket.status == "new" and not ticket.comments.exists()


def test_htmx_requests_carry_the_csrf_token_header(personas):
    ticket = make_ticket(personas)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.agent_desk)
    page = client.get(f"/desk/t/{ticket.reference}/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/desk/t/{ticket.reference}/assign-me/",
        {"version": "1"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee_id == personas.agent_desk.pk
    services.ticket_transition(actor=personas.agent_desk, ticket=ticket, transition="start")
