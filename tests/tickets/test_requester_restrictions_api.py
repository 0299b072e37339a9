"""What requesters may not do: staff-only fields are refused with 403 naming each field,
wherever they are sent; requesters log incidents and requests only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servio.tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(personas, api_as):
    return api_as(personas.requester_acme)


@pytest.fixture
def major_ref(personas, api_as):
    return (
        api_as(personas.agent_desk)
        .post("tickets", json={"title": "Email down for everyone", "is_major": True})
        .json()["reference"]
    )


def refused_fields(response) -> set[str]:
    assert response.status_code == 403, response.content
    body = response.json()
    for name in body["fields"]:
        assert name in body["detail"]
    return set(body["fields"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", 1),
        ("team", "team"),
        ("assignee", "agent"),
        ("is_major", True),
        ("parent", "major"),
        ("requester", "colleague"),
    ],
)
def test_creating_with_a_staff_only_field_is_refused(personas, rita, major_ref, field, value):
    p = personas
    value = {
        "team": p.team_desk.pk,
        "agent": p.agent_desk.pk,
        "major": major_ref,
        "colleague": p.colleague_acme.pk,
    }.get(value, value)
    before = Ticket.objects.count()
    response = rita.post("tickets", json={"title": "Printer jams", field: value})
    assert refused_fields(response) == {field}
    assert Ticket.objects.count() == before


def test_every_refused_field_is_named_at_once(personas, rita):
    p = personas
    response = rita.post(
        "tickets",
        json={
            "title": "Printer jams",
            "priority": 1,
            "team": p.team_desk.pk,
            "assignee": 987654,  # refused before anyone looks it up: no 422 for the id
        },
    )
    assert refused_fields(response) == {"priority", "team", "assignee"}
    assert "Only service desk staff" in response.json()["detail"]


def test_requesters_log_only_incidents_and_requests(personas, rita):
    for kind in ("incident", "request"):
        assert rita.post("tickets", json={"title": "Help", "kind": kind}).status_code == 201
    for kind in ("problem", "change", "task"):
        assert refused_fields(rita.post("tickets", json={"title": "x", "kind": kind})) == {"kind"}
    own = rita.post("tickets", json={"title": "For me", "requester": personas.requester_acme.pk})
    assert own.status_code == 201


def test_updates_and_assignment_of_staff_only_fields_are_refused(personas, rita, major_ref):
    p = personas
    ref = rita.post("tickets", json={"title": "Laptop slow"}).json()["reference"]
    for field, value in {
        "priority": 1,
        "is_major": True,
        "team": p.team_desk.pk,
        "assignee": p.agent_desk.pk,
        "parent": major_ref,
        "requester": p.colleague_acme.pk,
    }.items():
        response = rita.patch(f"tickets/{ref}", json={field: value, "version": 1})
        assert refused_fields(response) == {field}
    assigned = rita.post(
        f"tickets/{ref}/assignment", json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk}
    )
    assert assigned.status_code == 403 and "team, assignee" in assigned.json()["detail"]
    parent = rita.request("PUT", f"tickets/{ref}/parent", json={"parent": major_ref})
    assert parent.status_code == 403 and "parent" in parent.json()["detail"]
    link = rita.post(f"tickets/{ref}/links", json={"target": major_ref, "type": "related_to"})
    assert link.status_code == 403
    ticket = rita.get(f"tickets/{ref}").json()
    assert (ticket["priority"], ticket["team"], ticket["parent"], ticket["version"]) == (
        5,
        None,
        None,
        1,
    )


def test_internal_notes_and_files_are_staff_only(personas, rita):
    ref = rita.post("tickets", json={"title": "Laptop slow"}).json()["reference"]
    note = rita.post(f"tickets/{ref}/comments", json={"body": "psst", "internal": True})
    assert note.status_code == 403 and "internal notes" in note.json()["detail"]
    upload = SimpleUploadedFile("notes.txt", b"psst")
    file = rita.post(f"tickets/{ref}/attachments", data={"file": upload, "internal": "true"})
    assert file.status_code == 403
    assert rita.get(f"tickets/{ref}/comments").json()["items"] == []
    assert rita.get(f"tickets/{ref}/attachments").json() == []


def test_requesters_edit_their_words_only_until_work_starts(personas, api_as, rita):
    p = personas
    ref = rita.post("tickets", json={"title": "Laptop slow"}).json()["reference"]
    edited = rita.patch(
        f"tickets/{ref}", json={"title": "Laptop very slow", "description": "Since the update"}
    )
    assert edited.status_code == 422  # the version is still required
    edited = rita.patch(f"tickets/{ref}", json={"title": "Laptop very slow", "version": 1})
    assert edited.status_code == 200 and edited.json()["title"] == "Laptop very slow"
    impact = rita.patch(f"tickets/{ref}", json={"impact": 1, "version": 2})
    assert refused_fields(impact) == {"impact"}

    carl = api_as(p.colleague_acme)
    p.acme.requesters_see_org_tickets = True
    p.acme.save()
    assert carl.patch(f"tickets/{ref}", json={"title": "Mine", "version": 2}).status_code == 403

    api_as(p.agent_desk).post(f"tickets/{ref}/transitions", json={"transition": "start"})
    late = rita.patch(f"tickets/{ref}", json={"title": "Still slow", "version": 3})
    assert late.status_code == 403 and "reply" in late.json()["detail"]
