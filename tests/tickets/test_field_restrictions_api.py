"""The field-restriction hook as the ticket services call it (servio/core/restrictions.py):
a provider that refuses a field is obeyed by creation, update, assignment, transitions,
comments and watchers, through the API, with a 403 that names the field and nothing written."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from servio.audit.models import AuditEvent
from servio.core import restrictions
from servio.tickets.models import Comment, Ticket, Watcher

pytestmark = pytest.mark.django_db


@pytest.fixture
def restricted(monkeypatch: pytest.MonkeyPatch, personas):
    """Sam (agent of the desk) may not set a ticket's priority, assignee or resolution code,
    nor write internal notes or add watchers; everyone else is unrestricted."""
    monkeypatch.setattr(restrictions, "_providers", [])
    seen: list[SimpleNamespace] = []  # what each call showed, when it was made
    refused_on = {
        Ticket: {"priority", "assignee", "resolution_code"},
        Comment: {"is_internal"},
        Watcher: {"user"},
    }

    @restrictions.register
    def provider(write: restrictions.FieldWrite):
        seen.append(
            SimpleNamespace(
                fields=write.fields,
                creating=write.creating,
                title=getattr(write.record, "title", None),
            )
        )
        if write.actor is None or write.actor.pk != personas.agent_desk.pk:
            return None
        if isinstance(write.record, Comment) and not write.record.is_internal:
            return None  # public replies are fine
        names = refused_on.get(type(write.record), set()) & write.fields
        return {name: "restricted to managers" for name in names}

    return seen


@pytest.fixture
def sam(personas, api_as):
    return api_as(personas.agent_desk)


@pytest.fixture
def ref(personas, api_as):
    response = api_as(personas.requester_acme).post("tickets", json={"title": "Printer jams"})
    return response.json()["reference"]


def refused(response, field: str) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["fields"] == [field]
    assert field in body["detail"]


def test_creation_asks_with_the_fields_given(restricted, sam, personas):
    before = (Ticket.objects.count(), AuditEvent.objects.count())
    refused(sam.post("tickets", json={"title": "Switch down", "priority": 1}), "priority")
    assert (Ticket.objects.count(), AuditEvent.objects.count()) == before

    created = sam.post("tickets", json={"title": "Switch down", "impact": 1, "urgency": 1})
    assert created.status_code == 201, created.content
    write = restricted[-1]
    assert write.creating and write.title == "Switch down"
    assert {"kind", "title", "impact", "urgency"} <= write.fields
    assert "priority" not in write.fields  # the matrix's, not the agent's choice


def test_an_update_asks_before_anything_changes(restricted, sam, ref):
    ticket = Ticket.objects.get(title="Printer jams")
    refused(
        sam.patch(f"tickets/{ref}", json={"priority": 1, "title": "x", "version": 1}), "priority"
    )
    ticket.refresh_from_db()
    assert (ticket.version, ticket.title) == (1, "Printer jams")

    assert (
        sam.patch(f"tickets/{ref}", json={"title": "Printer on 3rd jams", "version": 1}).status_code
        == 200
    )
    write = restricted[-1]
    assert write.fields == {"title"} and not write.creating
    assert write.title == "Printer jams"  # the stored record, before the change


def test_assignment_transitions_comments_and_watchers_ask_too(restricted, sam, ref, personas):
    refused(
        sam.post(
            f"tickets/{ref}/assignment",
            json={"team": personas.team_desk.pk, "assignee": personas.agent_desk.pk},
        ),
        "assignee",
    )
    resolve = {"transition": "resolve", "resolution_code": "fixed", "resolution_notes": "Done."}
    refused(sam.post(f"tickets/{ref}/transitions", json=resolve), "resolution_code")
    assert Ticket.objects.get(title="Printer jams").status == "new"
    assert sam.post(f"tickets/{ref}/transitions", json={"transition": "start"}).status_code == 200
    assert restricted[-1].fields == {"status"}

    refused(
        sam.post(f"tickets/{ref}/comments", json={"body": "x", "internal": True}), "is_internal"
    )
    assert not Comment.objects.exists()
    assert sam.post(f"tickets/{ref}/comments", json={"body": "On it."}).status_code == 201

    watcher = {"user": personas.colleague_acme.pk}
    refused(sam.post(f"tickets/{ref}/watchers", json=watcher), "user")
    assert not Watcher.objects.exists()


def test_other_people_are_not_restricted(restricted, api_as, personas, ref):
    lead = api_as(personas.lead_desk)
    assert lead.patch(f"tickets/{ref}", json={"priority": 1, "version": 1}).status_code == 200
