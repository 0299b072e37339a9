"""Pages that list by cursor (the desk's queues, the portal) show the first page, quietly, for a
cursor they did not issue: no 500, no error message, the same rows as without one."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from servio.portal import views as portal_views
from servio.tickets import services
from servio.tickets.filters import SORTS
from servio.workspace import selectors as desk
from tests.api.test_cursors import MALFORMED
from tests.ui import make_ticket, sla_policy

pytestmark = pytest.mark.django_db


def refs(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return re.findall(r"data-ticket-link[^>]*>((?:INC|REQ)-\d{6})<", response.content.decode())


def next_cursor(response) -> str:
    match = re.search(r'[?&;]cursor=([^"&]+)"? ?[^>]*rel="next"', response.content.decode())
    assert match, "no next page"
    return unquote(match.group(1))


@pytest.fixture
def tickets(personas, monkeypatch):
    """Five tickets of Acme's requester, on the desk of Dana, three to a page."""
    monkeypatch.setattr(desk, "PAGE_SIZE", 3)
    monkeypatch.setattr(portal_views, "PAGE_SIZE", 3)
    sla_policy()
    made = [make_ticket(personas, title=f"Laptop {n}", urgency=1 + n % 3) for n in range(5)]
    for ticket in made[:4]:
        services.ticket_assign(
            actor=personas.agent_desk,
            ticket=ticket,
            team=personas.team_desk,
            assignee=personas.agent_desk,
        )
    return made


# Each queue under its own default order, and every sort on the queue of all tickets.
DESK_LISTS = [{"queue": queue} for queue in desk.QUEUE_LABELS] + [
    {"queue": "all", "sort": sort} for sort in SORTS
]


@pytest.mark.parametrize("query", DESK_LISTS, ids=lambda q: "&".join(q.values()))
def test_the_desk_shows_the_first_page_for_a_cursor_it_did_not_issue(
    client, personas, tickets, query
):
    client.force_login(personas.agent_desk)
    first = refs(client.get("/desk/", data=query))
    for cursor in [*MALFORMED, ""]:
        response = client.get("/desk/", data={**query, "cursor": cursor})
        assert refs(response) == first, cursor
        assert "not valid" not in response.content.decode()


def test_the_desk_starts_again_for_a_cursor_of_another_sort(client, personas, tickets):
    client.force_login(personas.agent_desk)
    priority = {"queue": "all", "sort": "priority"}
    page_one = client.get("/desk/", data=priority)
    cursor = next_cursor(page_one)
    second = refs(client.get("/desk/", data={**priority, "cursor": cursor}))
    assert second and set(second).isdisjoint(refs(page_one))
    for sort in ("-created", "number", "updated"):
        response = client.get("/desk/", data={"queue": "all", "sort": sort, "cursor": cursor})
        assert refs(response) == refs(client.get("/desk/", data={"queue": "all", "sort": sort}))
        assert "not valid" not in response.content.decode()


@pytest.mark.parametrize("scope", ["mine", "organization"])
def test_the_portal_shows_the_first_page_for_a_cursor_it_did_not_issue(
    client, personas, tickets, scope
):
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    client.force_login(personas.requester_acme)
    page_one = client.get("/portal/", data={"scope": scope})
    first = refs(page_one)
    assert len(first) == 3
    second = refs(client.get("/portal/", data={"scope": scope, "cursor": next_cursor(page_one)}))
    assert second and set(second).isdisjoint(first)
    for cursor in [*MALFORMED, ""]:
        response = client.get("/portal/", data={"scope": scope, "cursor": cursor})
        assert refs(response) == first, cursor
        assert "not valid" not in response.content.decode()
