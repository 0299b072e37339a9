"""Bad input gets a problem document naming the field and the reason, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servio.tickets.models import Category, Service, Ticket
from tests.factories import UserFactory
from tests.tickets.helpers import field_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(personas, api_as):
    return api_as(personas.agent_desk)


def create(client, personas, **fields):
    return client.post("tickets", json={"title": "Printer jams", **fields})


def test_bad_fields_on_creation_are_named(personas, agent):
    p = personas
    retired = Service.objects.create(name="Fax", is_active=False)
    stranger = UserFactory(role="agent", organization=p.provider)  # in no team
    cases = {
        "impact": [{"impact": 0}, {"impact": 4}, {"impact": "high"}, {"impact": None}],
        "urgency": [{"urgency": 9}, {"urgency": -1}],
        "priority": [{"priority": 0}, {"priority": 6}],
        "title": [{"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": None}],
        "service": [{"service": 987654}, {"service": retired.pk}, {"service": 2**70}],
        "category": [{"category": 987654}],
        "team": [{"team": 987654}, {"assignee": p.agent_desk.pk}],
        "assignee": [
            {"team": p.team_desk.pk, "assignee": 987654},
            {"team": p.team_desk.pk, "assignee": p.agent_network.pk},
            {"team": p.team_desk.pk, "assignee": stranger.pk},
            {"team": p.team_desk.pk, "assignee": p.requester_acme.pk},
        ],
        "kind": [{"kind": "spaceship"}],
        "requester": [{"requester": 987654}, {"requester": p.requester_globex.pk}],
        "status": [{"status": "closed"}],
        "parent": [{"parent": "INC-987654"}, {"parent": "not a number"}],
    }
    for field, variants in cases.items():
        for variant in variants:
            response = create(agent, p, **variant)
            assert response.status_code == 422, (variant, response.content)
            assert response["Content-Type"] == "application/problem+json"
            assert field_names(response) == {field}, (variant, response.json())
            assert field in response.json()["detail"]
    assert Ticket.objects.count() == 0


def test_bad_fields_on_update_are_named(personas, agent):
    p = personas
    ref = create(agent, p).json()["reference"]
    for variant, field in [
        ({"title": ""}, "title"),
        ({"title": "  "}, "title"),
        ({"impact": 5}, "impact"),
        ({"priority": 9}, "priority"),
        ({"service": 987654}, "service"),
        ({"category": 987654}, "category"),
        ({"team": 987654}, "team"),
        ({"assignee": p.agent_network.pk, "team": p.team_desk.pk}, "assignee"),
        ({"status": "resolved"}, "status"),
        ({"resolution_notes": "sneaky"}, "resolution_notes"),
        ({"parent": ref}, "parent"),
        ({"is_major": True, "parent": None, "kind": "change"}, "kind"),
    ]:
        response = agent.patch(f"tickets/{ref}", json={**variant, "version": 1})
        assert response.status_code == 422, (variant, response.content)
        assert field_names(response) == {field}, (variant, response.json())
    assert agent.get(f"tickets/{ref}").json()["version"] == 1


def test_ids_too_large_for_the_database_are_a_422_not_a_500(personas, agent):
    ref = create(agent, personas).json()["reference"]
    huge = "9" * 30
    for params in ({"team": huge}, {"requester": huge}, {"assignee": huge}, {"assignee": "²"}):
        response = agent.get("tickets", data=params)
        assert response.status_code == 422, (params, response.content)
    for path in (f"tickets/{ref}/attachments/{huge}", f"tickets/{ref}/links/{huge}"):
        method = "GET" if "attachments" in path else "DELETE"
        assert agent.request(method, path).status_code == 422
    for q in (huge, "²", "INC-" + huge, "a:b & c | !d", "'\"", "*"):
        assert agent.get("tickets", data={"q": q}).status_code == 200, q


def test_oversized_and_empty_files(personas, agent, settings):
    settings.SERVIO_ATTACHMENT_MAX_BYTES = 1000
    settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES = 2500
    ref = create(agent, personas).json()["reference"]

    def upload(name, size):
        return agent.post(
            f"tickets/{ref}/attachments",
            data={"file": SimpleUploadedFile(name, b"a" * size, content_type="text/plain")},
        )

    too_big = upload("big.log", 1001)
    assert too_big.status_code == 413
    assert too_big["Content-Type"] == "application/problem+json"
    for i in range(2):
        assert upload(f"part{i}.log", 1000).status_code == 201
    over_total = upload("part3.log", 501)
    assert over_total.status_code == 413 and "per ticket" in over_total.json()["detail"]
    assert upload("last.log", 500).status_code == 201
    empty = upload("empty.txt", 0)
    assert empty.status_code == 422 and field_names(empty) == {"file"}
    missing = agent.post(f"tickets/{ref}/attachments", data={})
    assert missing.status_code == 422 and field_names(missing) == {"file"}
    assert len(agent.get(f"tickets/{ref}/attachments").json()) == 3


def test_inactive_categories_and_services_cannot_be_chosen(personas, agent):
    hardware = Category.objects.create(name="Hardware")
    old = Category.objects.create(name="Floppy", parent=hardware, is_active=False)
    response = create(agent, personas, category=old.pk)
    assert response.status_code == 422 and field_names(response) == {"category"}
    ok = create(agent, personas, category=hardware.pk)
    assert ok.status_code == 201 and ok.json()["category"] == {
        "id": hardware.pk,
        "path": "Hardware",
    }
