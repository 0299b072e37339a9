"""Optimistic locking: updates carry the version they were based on; a stale one answers 409
with the ticket as it is now, and nothing is overwritten."""

from __future__ import annotations

import pytest

from servio.tickets.models import Ticket
from tests.tickets.helpers import RESOLVE, field_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_ref(personas, api_as):
    created = api_as(personas.requester_acme).post("tickets", json={"title": "Laptop fan loud"})
    assert created.status_code == 201
    return created.json()["reference"]


def test_two_agents_patch_the_same_version_one_wins(personas, api_as, ticket_ref):
    dana, lena = api_as(personas.agent_desk), api_as(personas.lead_desk)
    etag = dana.get(f"tickets/{ticket_ref}")["ETag"]
    assert etag == lena.get(f"tickets/{ticket_ref}")["ETag"] == '"1"'

    first = dana.patch(
        f"tickets/{ticket_ref}", json={"title": "Fan loud under load"}, headers={"If-Match": etag}
    )
    assert first.status_code == 200, first.content
    assert first["ETag"] == '"2"' and first.json()["version"] == 2

    second = lena.patch(
        f"tickets/{ticket_ref}",
        json={"title": "Fan broken", "urgency": 1},
        headers={"If-Match": etag},
    )
    assert second.status_code == 409
    problem = second.json()
    assert problem["current_version"] == 2
    assert problem["current"]["title"] == "Fan loud under load"
    assert problem["current"]["version"] == 2
    assert problem["current"]["reference"] == ticket_ref
    assert "allowed_transitions" in problem["current"]
    stored = Ticket.objects.get(number=int(ticket_ref[4:]), kind="incident")
    assert (stored.title, stored.urgency, stored.version) == ("Fan loud under load", 3, 2)

    # Based on the current version, the same change goes through.
    retry = lena.patch(
        f"tickets/{ticket_ref}", json={"title": "Fan broken", "version": problem["current_version"]}
    )
    assert retry.status_code == 200 and retry.json()["title"] == "Fan broken"


def test_a_stale_version_is_refused_by_transitions_assignment_and_parent(
    personas, api_as, ticket_ref
):
    p = personas
    agent = api_as(p.agent_desk)
    agent.patch(f"tickets/{ticket_ref}", json={"impact": 2, "version": 1})  # now version 2
    stale = {"If-Match": '"1"'}

    moved = agent.post(
        f"tickets/{ticket_ref}/transitions", json={"transition": "start"}, headers=stale
    )
    assert moved.status_code == 409 and moved.json()["current"]["status"] == "new"
    resolved = agent.post(
        f"tickets/{ticket_ref}/transitions", json={"transition": "resolve", **RESOLVE, "version": 1}
    )
    assert resolved.status_code == 409

    assigned = agent.post(
        f"tickets/{ticket_ref}/assignment",
        json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk},
        headers=stale,
    )
    assert assigned.status_code == 409 and assigned.json()["current"]["assignee"] is None

    major = agent.post("tickets", json={"title": "Site down", "is_major": True}).json()
    parented = agent.request(
        "PUT", f"tickets/{ticket_ref}/parent", json={"parent": major["reference"]}, headers=stale
    )
    assert parented.status_code == 409

    now = agent.get(f"tickets/{ticket_ref}").json()
    assert (now["status"], now["assignee"], now["parent"], now["version"]) == ("new", None, None, 2)

    # With the current version (header or body) each goes through.
    current = {"If-Match": '"2"'}
    ok = agent.post(
        f"tickets/{ticket_ref}/transitions", json={"transition": "start"}, headers=current
    )
    assert ok.status_code == 200 and ok["ETag"] == '"3"'


def test_patch_must_say_which_version_it_edits(personas, api_as, ticket_ref):
    agent = api_as(personas.agent_desk)
    missing = agent.patch(f"tickets/{ticket_ref}", json={"title": "No version"})
    assert missing.status_code == 422
    assert field_names(missing) == {"version"}
    garbled = agent.patch(
        f"tickets/{ticket_ref}", json={"title": "Bad tag"}, headers={"If-Match": "yesterday"}
    )
    assert garbled.status_code == 422 and field_names(garbled) == {"If-Match"}
    weak = agent.patch(
        f"tickets/{ticket_ref}", json={"title": "Weak"}, headers={"If-Match": 'W/"1"'}
    )
    assert weak.status_code == 200
    assert agent.get(f"tickets/{ticket_ref}").json()["title"] == "Weak"


def test_an_update_that_changes_nothing_keeps_the_version(personas, api_as, ticket_ref):
    agent = api_as(personas.agent_desk)
    same = agent.patch(f"tickets/{ticket_ref}", json={"title": "Laptop fan loud", "version": 1})
    assert same.status_code == 200 and same.json()["version"] == 1
