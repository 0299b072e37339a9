"""Major incidents: who may be a child, and the cascade when the major incident is resolved."""

from __future__ import annotations

import pytest

from servio.core.models import OutboxMessage
from servio.core.outbox import drain
from servio.incidents.services import MAJOR_RESOLUTION_PREFIX
from servio.notifications.models import Notification
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.factories import UserFactory
from tests.tickets.helpers import RESOLVE, field_names, log, put_in, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def major(personas, api_as):
    """An agent flags an incident as major through PATCH."""
    agent = api_as(personas.agent_desk)
    ref = agent.post("tickets", json={"title": "Email down", "requester": personas.lead_desk.pk})
    ref = ref.json()["reference"]
    flagged = agent.patch(f"tickets/{ref}", json={"is_major": True, "version": 1})
    assert flagged.status_code == 200 and flagged.json()["is_major"] is True
    return flagged.json()


def set_parent(client, ref, parent, **kw):
    return client.request("PUT", f"tickets/{ref}/parent", json={"parent": parent, **kw})


def test_only_open_major_incidents_take_children_and_only_plain_incidents(personas, api_as, major):
    p = personas
    agent = api_as(p.agent_desk)
    child = agent.post("tickets", json={"title": "No mail", "requester": p.requester_acme.pk})
    child = child.json()["reference"]
    ok = set_parent(agent, child, major["reference"])
    assert ok.status_code == 200 and ok.json()["parent"] == major["reference"]
    children = agent.get(f"tickets/{major['reference']}/children").json()["items"]
    assert [c["reference"] for c in children] == [child]

    plain = agent.post("tickets", json={"title": "Slow PC"}).json()["reference"]
    request = agent.post("tickets", json={"title": "New mouse", "kind": "request"}).json()
    other_major = agent.post("tickets", json={"title": "DNS", "is_major": True}).json()
    cases = [
        (plain, major["reference"], "self"),  # sanity: works, detached below
        (child, plain, "not major"),
        (request["reference"], major["reference"], "not an incident"),
        (other_major["reference"], major["reference"], "major itself"),
        (major["reference"], major["reference"], "its own parent"),
    ]
    assert set_parent(agent, cases[0][0], cases[0][1]).status_code == 200
    assert set_parent(agent, plain, None).json()["parent"] is None
    for ref, parent, why in cases[1:]:
        response = set_parent(agent, ref, parent)
        assert response.status_code == 422, why
        assert field_names(response) == {"parent"}, why
    # A child cannot become major, a major incident with children cannot lose the flag.
    flag_child = agent.patch(f"tickets/{child}", json={"is_major": True, "version": 2})
    assert field_names(flag_child) == {"is_major"}
    unflag = agent.patch(f"tickets/{major['reference']}", json={"is_major": False, "version": 2})
    assert field_names(unflag) == {"is_major"}
    # Requests cannot be major; a resolved major incident takes no more children.
    assert field_names(
        agent.post("tickets", json={"title": "x", "kind": "request", "is_major": True})
    )
    agent.post(
        f"tickets/{major['reference']}/transitions", json={"transition": "resolve", **RESOLVE}
    )
    late = set_parent(agent, plain, major["reference"])
    assert late.status_code == 422 and "resolved" in late.json()["detail"]


def test_resolving_the_major_incident_resolves_its_open_children(personas, api_as, major):
    p = personas
    agent = api_as(p.agent_desk)
    parent = Ticket.objects.get(pk=major["id"])
    colleague = UserFactory(organization=p.acme, email="bob@acme.example")
    requesters = [p.requester_acme, p.colleague_acme, colleague]
    open_children = [
        put_in(log(requesters[0], title="No mail"), "new", p.agent_desk),
        put_in(log(requesters[1], title="Outlook offline"), "in_progress", p.agent_desk),
        put_in(log(requesters[2], title="Phone mail"), "on_hold", p.agent_desk),
    ]
    finished = {
        status: put_in(log(p.requester_acme, title=f"Old {status}"), "new", p.agent_desk)
        for status in ("closed", "cancelled", "resolved")
    }
    for child in [*open_children, *finished.values()]:
        services.ticket_set_parent(actor=p.agent_desk, ticket=child, parent=parent)
    for status, child in finished.items():
        finished[status] = put_in(reload(child), status, p.agent_desk)
    snapshot = {c.pk: (c.status, c.version, c.resolution_notes) for c in finished.values()}
    OutboxMessage.objects.all().delete()

    resolved = agent.post(
        f"tickets/{major['reference']}/transitions",
        json={"transition": "resolve", "resolution_code": "workaround", "resolution_notes": "MX"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

    for child in open_children:
        child = reload(child)
        assert child.status == "resolved"
        assert child.resolution_code == "workaround"
        # The parent's resolution, without its number: a child's readers may not see it.
        assert child.resolution_notes == f"{MAJOR_RESOLUTION_PREFIX}MX"
        assert major["reference"] not in child.resolution_notes
        assert child.resolved_at is not None and child.hold_reason == ""
    for child in finished.values():
        now = reload(child)
        assert (now.status, now.version, now.resolution_notes) == snapshot[child.pk]

    events = OutboxMessage.objects.filter(
        topic="incident.resolved_by_major", handler="notifications.resolved_by_major"
    )
    assert sorted(e.payload["requester_id"] for e in events) == sorted(u.pk for u in requesters)
    assert {e.payload["parent_reference"] for e in events} == {major["reference"]}
    assert {e.payload["ticket_id"] for e in events} == {c.pk for c in open_children}

    drain()
    told = Notification.objects.filter(kind="incident.resolved_by_major")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(u.pk for u in requesters)
    # The major incident is the provider's own: its number is not for Acme's requesters.
    assert all(
        "a major incident" in n.subject and major["reference"] not in n.subject for n in told
    )
    # One message per child requester, not a second "your ticket has been resolved".
    for user in requesters:
        kinds = list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))
        assert "ticket.status_changed" not in kinds
    # The parent's own requester hears about the parent as usual.
    assert Notification.objects.filter(recipient=p.lead_desk, kind="ticket.status_changed").exists()
