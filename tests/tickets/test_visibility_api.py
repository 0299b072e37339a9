"""Visibility across organisations: a ticket you may not see answers exactly like one that does
not exist, on every endpoint; internal notes never reach a requester by any path."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servio.core.outbox import drain
from servio.notifications.models import Notification
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.tickets.helpers import log, normalised_problem

pytestmark = pytest.mark.django_db
MISSING = "INC-999999"


@dataclass
class AcmeTicket:
    ticket: Ticket
    attachment_id: int
    internal_attachment_id: int
    link_id: int
    other_ref: str

    @property
    def ref(self) -> str:
        return self.ticket.reference


@pytest.fixture
def acme(personas) -> AcmeTicket:
    """Rita's ticket with a reply, an internal note, two files, a link and a watcher."""
    p = personas
    ticket = log(p.requester_acme, title="Cannot print invoices", description="Since Monday")
    other = log(p.requester_acme, title="Scanner offline")
    services.comment_add(actor=p.agent_desk, ticket=ticket, body="Checking the queue")
    services.comment_add(
        actor=p.agent_desk, ticket=ticket, body="SECRET: printer vendor owes us", internal=True
    )
    public = services.attachment_add(
        actor=p.requester_acme, ticket=ticket, filename="error.txt", content=b"paper jam"
    )
    internal = services.attachment_add(
        actor=p.agent_desk, ticket=ticket, filename="contract.txt", content=b"SECRET", internal=True
    )
    link = services.link_add(actor=p.agent_desk, source=ticket, target=other, type="related_to")
    services.watcher_add(actor=p.agent_desk, ticket=ticket, user=p.lead_desk)
    return AcmeTicket(ticket, public.pk, internal.pk, link.pk, other.reference)


def every_endpoint(ref: str, t: AcmeTicket, someone: int) -> list[tuple[str, str, dict]]:
    """(method, path, request kwargs) for every ticket endpoint, with valid bodies, so only
    visibility can refuse them."""
    upload = SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")
    return [
        ("GET", f"tickets/{ref}", {}),
        ("PATCH", f"tickets/{ref}", {"json": {"title": "Mine now", "version": 1}}),
        ("GET", f"tickets/{ref}/comments", {}),
        ("POST", f"tickets/{ref}/comments", {"json": {"body": "hello?"}}),
        ("GET", f"tickets/{ref}/attachments", {}),
        ("POST", f"tickets/{ref}/attachments", {"data": {"file": upload}}),
        ("GET", f"tickets/{ref}/attachments/{t.attachment_id}", {}),
        ("GET", f"tickets/{ref}/history", {}),
        ("GET", f"tickets/{ref}/links", {}),
        ("POST", f"tickets/{ref}/links", {"json": {"target": t.other_ref, "type": "related_to"}}),
        ("DELETE", f"tickets/{ref}/links/{t.link_id}", {}),
        ("GET", f"tickets/{ref}/watchers", {}),
        ("POST", f"tickets/{ref}/watchers", {"json": {"user": someone}}),
        ("DELETE", f"tickets/{ref}/watchers/{someone}", {}),
        ("POST", f"tickets/{ref}/transitions", {"json": {"transition": "cancel", "reason": "Dup"}}),
        ("POST", f"tickets/{ref}/assignment", {"json": {"team": None, "assignee": None}}),
        ("PUT", f"tickets/{ref}/parent", {"json": {"parent": None}}),
        ("GET", f"tickets/{ref}/children", {}),
    ]


@pytest.mark.parametrize("outsider", ["requester_globex", "agent_network"])
def test_outsiders_get_the_same_404_as_for_a_missing_number(personas, api_as, acme, outsider):
    user = getattr(personas, outsider)
    client = api_as(user)
    before = Ticket.objects.get(pk=acme.ticket.pk)
    for (method, path, kwargs), (_, missing_path, missing_kwargs) in zip(
        every_endpoint(acme.ref, acme, user.pk),
        every_endpoint(MISSING, acme, user.pk),
        strict=True,
    ):
        hidden = client.request(method, path, **kwargs)
        absent = client.request(method, missing_path, **missing_kwargs)
        assert hidden.status_code == 404, (method, path, hidden.content)
        assert absent.status_code == 404, (method, missing_path, absent.content)
        assert normalised_problem(hidden, acme.ref) == normalised_problem(absent, MISSING)
    after = Ticket.objects.get(pk=acme.ticket.pk)
    assert (after.title, after.status, after.version) == (before.title, before.status, 1)
    assert acme.ticket.comments.count() == 2 and acme.ticket.watchers.count() == 1
    # Nor does the list or a search by number give it away.
    listed = client.get("tickets").json()["items"]
    assert acme.ref not in {t["reference"] for t in listed}
    assert client.get("tickets", data={"q": acme.ref}).json()["items"] == []
    assert client.get("tickets", data={"q": "invoices"}).json()["items"] == []


def test_colleagues_see_the_organisations_tickets_only_when_it_shares_them(personas, api_as, acme):
    p = personas
    carl, gina = api_as(p.colleague_acme), api_as(p.requester_globex)
    assert carl.get(f"tickets/{acme.ref}").status_code == 404
    assert carl.get("tickets").json()["items"] == []

    p.acme.requesters_see_org_tickets = True
    p.acme.save()
    assert carl.get(f"tickets/{acme.ref}").status_code == 200
    assert {t["reference"] for t in carl.get("tickets").json()["items"]} == {
        acme.ref,
        acme.other_ref,
    }
    bodies = [c["body"] for c in carl.get(f"tickets/{acme.ref}/comments").json()["items"]]
    assert bodies == ["Checking the queue"]
    # Sharing is per organisation: Globex's requesters still see nothing of Acme.
    p.globex.requesters_see_org_tickets = True
    p.globex.save()
    assert gina.get(f"tickets/{acme.ref}").status_code == 404


def test_watchers_see_the_ticket(personas, api_as, acme):
    p = personas
    carl = api_as(p.colleague_acme)
    assert carl.get(f"tickets/{acme.ref}").status_code == 404
    added = api_as(p.requester_acme).post(
        f"tickets/{acme.ref}/watchers", json={"user": p.colleague_acme.pk}
    )
    assert added.status_code == 201
    assert p.colleague_acme.pk in {w["id"] for w in added.json()}
    assert carl.get(f"tickets/{acme.ref}").status_code == 200
    assert [t["reference"] for t in carl.get("tickets").json()["items"]] == [acme.ref]
    # A requester cannot add someone of another organisation (they would see the ticket).
    refused = api_as(p.requester_acme).post(
        f"tickets/{acme.ref}/watchers", json={"user": p.requester_globex.pk}
    )
    assert refused.status_code == 422
    # Neither can staff who see both organisations.
    across = api_as(p.admin).post(
        f"tickets/{acme.ref}/watchers", json={"user": p.requester_globex.pk}
    )
    assert across.status_code == 422
    assert api_as(p.requester_globex).get(f"tickets/{acme.ref}").status_code == 404


def test_internal_notes_never_reach_the_requester(personas, api_as, acme):
    p = personas
    rita, dana = api_as(p.requester_acme), api_as(p.agent_desk)

    comments = rita.get(f"tickets/{acme.ref}/comments").json()["items"]
    assert [c["body"] for c in comments] == ["Checking the queue"]
    assert all(not c["internal"] for c in comments)
    assert len(dana.get(f"tickets/{acme.ref}/comments").json()["items"]) == 2

    files = rita.get(f"tickets/{acme.ref}/attachments").json()
    assert [f["filename"] for f in files] == ["error.txt"]
    assert {f["filename"] for f in dana.get(f"tickets/{acme.ref}/attachments").json()} == {
        "error.txt",
        "contract.txt",
    }
    hidden = rita.get(f"tickets/{acme.ref}/attachments/{acme.internal_attachment_id}")
    absent = rita.get(f"tickets/{acme.ref}/attachments/987654")
    assert hidden.status_code == absent.status_code == 404
    assert normalised_problem(hidden, str(acme.internal_attachment_id)) == normalised_problem(
        absent, "987654"
    )
    download = dana.get(f"tickets/{acme.ref}/attachments/{acme.internal_attachment_id}")
    assert b"".join(download.streaming_content) == b"SECRET"

    history = rita.get(f"tickets/{acme.ref}/history").json()["items"]
    actions = [e["action"] for e in history]
    assert actions == [
        "ticket.created",
        "ticket.commented",
        "ticket.attached",
        "ticket.linked",
        "ticket.watcher_added",
    ]
    assert "contract.txt" not in str(history) and "SECRET" not in str(history)
    staff_history = dana.get(f"tickets/{acme.ref}/history").json()["items"]
    assert len(staff_history) == len(history) + 2

    drain()
    to_rita = Notification.objects.filter(recipient=p.requester_acme)
    assert sorted(to_rita.values_list("kind", flat=True)) == [
        "ticket.agent_replied",
        "ticket.created",
        "ticket.created",
    ]
    assert not any("SECRET" in n.subject + n.body for n in Notification.objects.all())


def test_staff_see_their_own_and_the_providers_tickets(personas, api_as):
    p = personas
    nick = api_as(p.agent_network)  # Network serves Globex only
    own = nick.post("tickets", json={"title": "My monitor flickers"})
    assert own.status_code == 201
    assert nick.get(f"tickets/{own.json()['reference']}").status_code == 200
    colleague = api_as(p.agent_desk).post("tickets", json={"title": "Badge reader broken"})
    assert nick.get(f"tickets/{colleague.json()['reference']}").status_code == 200
    globex = api_as(p.requester_globex).post("tickets", json={"title": "VPN down"}).json()
    assert nick.get(f"tickets/{globex['reference']}").status_code == 200
    assert api_as(p.agent_desk).get(f"tickets/{globex['reference']}").status_code == 404
    # Not even an administrator can hand Globex's ticket to a team that does not serve Globex
    # (the assignment would have granted the team's agents the ticket; decision 16).
    refused = api_as(p.admin).post(
        f"tickets/{globex['reference']}/assignment",
        json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk},
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["team"]
    assert api_as(p.agent_desk).get(f"tickets/{globex['reference']}").status_code == 404
