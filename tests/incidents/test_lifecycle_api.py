"""The full incident life cycle through the API, as a requester and an agent live it."""

import pytest

from servio.core.models import OutboxMessage
from servio.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_incident_from_report_to_closure(personas, api_as):
    p = personas
    requester = api_as(p.requester_acme)
    agent = api_as(p.agent_desk)

    created = requester.post(
        "tickets",
        json={"title": "Printer on floor 3 jams", "description": "It *always* jams", "urgency": 2},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    ref = body["reference"]
    assert ref.startswith("INC-") and len(ref) == 10
    assert body["status"] == "new"
    assert body["priority"] == 4  # impact 3 x urgency 2
    assert created["ETag"] == '"1"'
    assert created["Location"] == f"/api/v1/tickets/{ref}"
    assert "<em>always</em>" in body["description_html"]
    assert {t["name"] for t in body["allowed_transitions"]} == {"cancel"}

    # The agent of a team serving Acme sees it, assigns it to themselves and starts work.
    seen = agent.get(f"tickets/{ref}").json()
    assert {t["name"] for t in seen["allowed_transitions"]} >= {"start", "hold", "resolve"}
    assigned = agent.post(
        f"tickets/{ref}/assignment", json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk}
    )
    assert assigned.status_code == 200, assigned.content
    started = agent.post(f"tickets/{ref}/transitions", json={"transition": "start"})
    assert started.json()["status"] == "in_progress"

    note = agent.post(f"tickets/{ref}/comments", json={"body": "Suspect fuser", "internal": True})
    reply = agent.post(f"tickets/{ref}/comments", json={"body": "We are on it"})
    assert note.status_code == reply.status_code == 201
    detail = agent.get(f"tickets/{ref}").json()
    assert detail["first_response_at"] is not None

    # The requester sees the reply, never the note.
    bodies = [c["body"] for c in requester.get(f"tickets/{ref}/comments").json()["items"]]
    assert bodies == ["We are on it"]
    history = requester.get(f"tickets/{ref}/history").json()["items"]
    assert [e["action"] for e in history] == [
        "ticket.created",
        "ticket.assigned",
        "ticket.start",
        "ticket.commented",
    ]
    assert all(e["changes"].get("internal") != [None, True] for e in history)

    # Resolving needs a code and notes.
    missing = agent.post(f"tickets/{ref}/transitions", json={"transition": "resolve"})
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert fields == {"resolution_code", "resolution_notes"}
    resolved = agent.post(
        f"tickets/{ref}/transitions",
        json={
            "transition": "resolve",
            "resolution_code": "fixed",
            "resolution_notes": "Replaced the fuser",
        },
    )
    assert resolved.json()["status"] == "resolved"

    # The requester confirms by closing it.
    closed = requester.post(f"tickets/{ref}/transitions", json={"transition": "close"})
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None

    topics = set(OutboxMessage.objects.values_list("topic", flat=True))
    assert {
        "ticket.created",
        "ticket.assigned",
        "ticket.status_changed",
        "ticket.commented",
    } <= topics


def test_notifications_follow_the_conversation(personas, api_as):
    from servio.core.outbox import drain

    p = personas
    requester, agent = api_as(p.requester_acme), api_as(p.agent_desk)
    ref = requester.post("tickets", json={"title": "VPN down"}).json()["reference"]
    agent.post(
        f"tickets/{ref}/assignment", json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk}
    )
    agent.post(f"tickets/{ref}/comments", json={"body": "secret", "internal": True})
    agent.post(f"tickets/{ref}/comments", json={"body": "Try again now"})
    drain()
    to_requester = set(
        Notification.objects.filter(recipient=p.requester_acme).values_list("kind", flat=True)
    )
    assert to_requester == {"ticket.created", "ticket.agent_replied"}
    # The agent assigned themselves: no notification to themselves.
    assert not Notification.objects.filter(recipient=p.agent_desk).exists()
