"""Work is never handed across organisations (decision 16): every person or team attached to a
ticket must already be allowed to see its organisation; links, histories, notifications and
reports name nothing of another organisation.

Personas: the Service Desk team (Dana, Lena) serves Acme and the provider; the Network team
(Nick, Chris) serves Globex only.
"""

from __future__ import annotations

import pytest

from servio.audit.models import AuditEvent
from servio.core import outbox
from servio.core.errors import NotFound, ValidationFailed
from servio.core.models import OutboxMessage
from servio.mail.models import OutboundMessage
from servio.notifications.models import Notification
from servio.tickets import services
from servio.tickets.models import Link, Ticket, Watcher
from tests.tickets.helpers import field_names, log, reload
from tests.ui import told, ui_settings  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ui(ui_settings):  # noqa: F811 - static files and uploads for the workspace pages here
    return ui_settings


@pytest.fixture
def acme_ticket(personas) -> Ticket:
    return log(personas.requester_acme, title="Invoices do not print")


@pytest.fixture
def globex_ticket(personas) -> Ticket:
    return log(personas.requester_globex, title="Globex VPN concentrator down")


# --- 1. attaching people and teams ------------------------------------------------------------


def test_the_api_refuses_every_attachment_across_organisations(personas, api_as, acme_ticket):
    p = personas
    ref = acme_ticket.reference
    for actor in (p.agent_desk, p.admin):  # not even an administrator
        api = api_as(actor)
        team = api.post(f"tickets/{ref}/assignment", json={"team": p.team_network.pk})
        assert team.status_code == 422 and field_names(team) == {"team"}, team.json()
        both = api.post(
            f"tickets/{ref}/assignment",
            json={"team": p.team_network.pk, "assignee": p.agent_network.pk},
        )
        assert both.status_code == 422 and "team" in field_names(both)
        patched = api.patch(
            f"tickets/{ref}", json={"team": p.team_network.pk}, headers={"If-Match": '"1"'}
        )
        assert patched.status_code == 422 and field_names(patched) == {"team"}
        watcher = api.post(f"tickets/{ref}/watchers", json={"user": p.agent_network.pk})
        assert watcher.status_code == 422 and field_names(watcher) == {"user"}
        created = api.post(
            "tickets",
            json={
                "title": "Logged for Rita",
                "requester": p.requester_acme.pk,
                "team": p.team_network.pk,
            },
        )
        assert created.status_code == 422 and field_names(created) == {"team"}
    # The error says what went wrong and what to do.
    assert "does not serve Acme" in team.json()["errors"][0]["message"]
    ticket = reload(acme_ticket)
    assert (ticket.team_id, ticket.assignee_id, ticket.version) == (None, None, 1)
    assert not Watcher.objects.filter(ticket=ticket).exists()
    # ... so Network's people still cannot read it.
    assert api_as(p.agent_network).get(f"tickets/{ref}").status_code == 404


def test_the_requester_cannot_move_a_ticket_to_another_organisation(personas, api_as, acme_ticket):
    p = personas
    api = api_as(p.admin)
    for outsider in (p.requester_globex, p.agent_network):  # another customer, the provider
        moved = api.patch(
            f"tickets/{acme_ticket.reference}",
            json={"requester": outsider.pk},
            headers={"If-Match": '"1"'},
        )
        assert moved.status_code == 422 and field_names(moved) == {"requester"}
    assert reload(acme_ticket).organization_id == p.acme.pk
    # A colleague of the same organisation is fine.
    fixed = api.patch(
        f"tickets/{acme_ticket.reference}",
        json={"requester": p.colleague_acme.pk},
        headers={"If-Match": '"1"'},
    )
    assert fixed.status_code == 200 and fixed.json()["requester"]["id"] == p.colleague_acme.pk
    assert api_as(p.agent_network).get(f"tickets/{acme_ticket.reference}").status_code == 404


def test_teams_and_people_who_serve_the_organisation_may_be_attached(personas, acme_ticket):
    p = personas
    ticket = services.ticket_assign(
        actor=p.agent_desk, ticket=acme_ticket, team=p.team_desk, assignee=p.lead_desk
    )
    assert ticket.assignee == p.lead_desk
    services.watcher_add(actor=p.agent_desk, ticket=ticket, user=p.admin)
    services.watcher_add(actor=p.requester_acme, ticket=ticket, user=p.colleague_acme)
    # The provider's own tickets go to any team.
    internal = log(p.agent_desk, title="Internal: renew the certificate")
    internal = services.ticket_assign(
        actor=p.agent_desk, ticket=internal, team=p.team_network, assignee=p.agent_network
    )
    assert internal.team == p.team_network
    # Serving an organisation is what counts, and it is read fresh.
    p.team_network.serves.add(p.acme)
    moved = services.ticket_assign(
        actor=p.agent_desk, ticket=ticket, team=p.team_network, assignee=p.agent_network
    )
    assert moved.team == p.team_network


@pytest.mark.parametrize("actor", ["agent_desk", "admin"])
def test_the_system_and_every_role_follow_the_same_rule(personas, acme_ticket, actor):
    p = personas
    who = getattr(p, actor)
    attempts = {
        "team": lambda: services.ticket_assign(
            actor=who, ticket=acme_ticket, team=p.team_network, assignee=None
        ),
        "assignee": lambda: services.ticket_update(
            actor=who,
            ticket=acme_ticket,
            version=None,
            changes={"team": p.team_desk.pk, "assignee": p.agent_network.pk},
        ),
        "user": lambda: services.watcher_add(actor=who, ticket=acme_ticket, user=p.change_manager),
        "requester": lambda: services.ticket_update(
            actor=who, ticket=acme_ticket, version=None, changes={"requester": p.requester_globex}
        ),
    }
    for field, attempt in attempts.items():
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert field in refused.value.errors, field
    # The system (email intake, SLA escalations) too.
    with pytest.raises(ValidationFailed):
        services.ticket_create(
            actor=None, title="From a monitor", requester=p.requester_acme, team=p.team_network
        )


def test_workspace_edits_and_bulk_actions_refuse_other_organisations_teams(
    client, personas, acme_ticket
):
    p = personas
    client.force_login(p.agent_desk)
    editor = client.get(f"/desk/t/{acme_ticket.reference}/edit/assignment/")
    offered = {value for value, _ in editor.context["edit_form"].fields["team"].choices}
    assert p.team_desk.pk in offered and p.team_network.pk not in offered
    posted = client.post(
        f"/desk/t/{acme_ticket.reference}/edit/assignment/",
        {"team": p.team_network.pk, "assignee": "", "version": 1},
    )
    assert told(posted) == 422
    response = client.post(
        "/desk/bulk/",
        {
            "action": "assign",
            "team": p.team_network.name,  # typed into the searchable list
            "tickets": [acme_ticket.reference],
            "query": "queue=all",
        },
    )
    (outcome,) = response.context["bulk"]["outcomes"]
    assert not outcome.ok and "does not serve Acme" in outcome.message
    watched = client.post(
        f"/desk/t/{acme_ticket.reference}/watchers/",
        {"email": p.agent_network.email},
        headers={"HX-Request": "true"},
    )
    assert "Nick Network may not see tickets of Acme" in watched.content.decode()
    assert reload(acme_ticket).team_id is None
    assert not Watcher.objects.filter(ticket=acme_ticket).exists()


def test_nobody_hears_of_a_ticket_of_an_organisation_they_may_not_see(
    personas, acme_ticket, settings
):
    """Attachments made before a team stopped serving an organisation stay, but mail and
    notifications go only to people who may see it now."""
    p = personas
    p.team_network.serves.add(p.acme)
    ticket = services.ticket_assign(
        actor=p.admin, ticket=acme_ticket, team=p.team_network, assignee=p.agent_network
    )
    services.watcher_add(actor=p.admin, ticket=ticket, user=p.change_manager)
    p.team_network.serves.remove(p.acme)  # Network no longer serves Acme
    outbox.drain()
    Notification.objects.all().delete()
    OutboundMessage.objects.all().delete()

    services.comment_add(actor=p.agent_desk, ticket=ticket, body="We are on it")
    services.comment_add(actor=p.requester_acme, ticket=ticket, body="Thanks, still broken")
    outbox.drain()
    told = set(Notification.objects.values_list("recipient_id", flat=True))
    mailed = set(OutboundMessage.objects.values_list("recipient", flat=True))
    assert p.agent_network.pk not in told and p.change_manager.pk not in told
    assert p.agent_network.email not in mailed and p.change_manager.email not in mailed
    assert p.requester_acme.pk in told  # the requester still hears of the desk's reply


def test_mail_intake_leaves_unassigned_what_its_default_team_may_not_take(personas):
    from servio.mail.models import Mailbox
    from servio.mail.services import inbound_ingest
    from tests.mail.messages import make_email

    mailbox = Mailbox.objects.create(
        name="Globex line",
        address="globex-desk@provider.example",
        default_team=personas.team_network,  # serves Globex, not Acme
    )
    raw = make_email(sender="rita@acme.example", to=mailbox.address, subject="Help")
    message = inbound_ingest(raw=raw, mailbox=mailbox, via="pipe")
    assert message.ticket is not None, message.reason
    assert message.ticket.organization_id == personas.acme.pk
    assert message.ticket.team_id is None


# --- 2. links ---------------------------------------------------------------------------------


def test_a_link_whose_other_end_is_hidden_cannot_be_removed(
    personas, api_as, acme_ticket, globex_ticket, client
):
    p = personas
    link = services.link_add(
        actor=p.admin, source=acme_ticket, target=globex_ticket, type="related_to"
    )
    dana = api_as(p.agent_desk)
    hidden = dana.delete(f"tickets/{acme_ticket.reference}/links/{link.pk}")
    missing = dana.delete(f"tickets/{acme_ticket.reference}/links/987654")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]
    assert dana.get(f"tickets/{acme_ticket.reference}/links").json() == []
    client.force_login(p.agent_desk)
    ui = client.post(f"/desk/t/{acme_ticket.reference}/links/{link.pk}/delete/")
    assert ui.status_code == 404
    with pytest.raises(NotFound):  # the service itself checks both ends
        services.link_remove(actor=p.agent_desk, link=link)
    assert Link.objects.filter(pk=link.pk).exists()


def test_removing_a_link_publishes_an_event_as_adding_one_does(
    personas, api_as, acme_ticket, monkeypatch
):
    monkeypatch.setattr(outbox, "_handlers", dict(outbox._handlers))  # undone after the test
    outbox.handler("*", name="test.everything")(lambda event: None)
    other = log(personas.requester_acme, title="Scanner offline")
    api = api_as(personas.agent_desk)
    added = api.post(
        f"tickets/{acme_ticket.reference}/links",
        json={"target": other.reference, "type": "related_to"},
    )
    assert added.status_code == 201
    removed = api.delete(f"tickets/{acme_ticket.reference}/links/{added.json()[0]['id']}")
    assert removed.status_code == 204
    topics = list(
        OutboxMessage.objects.filter(handler="test.everything")
        .order_by("id")
        .values_list("topic", "payload")
    )
    linked = [payload for topic, payload in topics if topic == "ticket.linked"]
    unlinked = [payload for topic, payload in topics if topic == "ticket.unlinked"]
    assert len(linked) == len(unlinked) == 1
    assert unlinked[0]["target_id"] == other.pk and unlinked[0]["type"] == "related_to"


# --- 3. histories, timelines and the parent ---------------------------------------------------


def test_histories_and_timelines_do_not_name_hidden_tickets(
    personas, api_as, acme_ticket, globex_ticket, client
):
    p = personas
    services.link_add(actor=p.admin, source=acme_ticket, target=globex_ticket, type="caused_by")
    globex_major = services.ticket_create(
        actor=p.admin, title="Globex outage", requester=p.requester_globex, is_major=True
    )
    services.ticket_set_parent(actor=p.admin, ticket=acme_ticket, parent=globex_major)
    hidden_numbers = (globex_ticket.reference, globex_major.reference)

    dana = api_as(p.agent_desk)
    history = dana.get(f"tickets/{acme_ticket.reference}/history").json()["items"]
    detail = dana.get(f"tickets/{acme_ticket.reference}").json()
    for text in (str(history), str(detail)):
        assert not any(number in text for number in hidden_numbers), text
    linked = next(e for e in history if e["action"] == "ticket.linked")
    assert linked["changes"]["link"][1] == {"type": "caused_by", "target": "(hidden)"}
    parent_set = next(e for e in history if e["action"] == "ticket.parent_set")
    assert parent_set["changes"]["parent"] == [None, "(hidden)"]
    assert detail["parent"] == "(hidden)"

    client.force_login(p.agent_desk)
    page = client.get(f"/desk/t/{acme_ticket.reference}/").content.decode()
    assert not any(number in page for number in hidden_numbers)
    assert "a major incident you may not see" in page

    # Whoever may see both ends reads the numbers.
    admin_history = str(api_as(p.admin).get(f"tickets/{acme_ticket.reference}/history").json())
    assert globex_ticket.reference in admin_history
    assert api_as(p.admin).get(f"tickets/{acme_ticket.reference}").json()["parent"] == (
        globex_major.reference
    )
    events = AuditEvent.objects.filter(object_id=str(acme_ticket.pk))
    assert events.filter(action="ticket.linked").exists()  # the trail itself keeps the fact


# --- 4. reports -------------------------------------------------------------------------------


def test_survey_answers_and_reports_are_limited_to_what_the_reader_may_see(
    personas, api_as, acme_ticket, globex_ticket
):
    import uuid

    from servio.surveys.services import survey_answer, survey_invite

    p = personas
    for ticket, rating, comment in (
        (acme_ticket, 5, "Acme: quick and kind"),
        (globex_ticket, 1, "Globex: secret complaint"),
    ):
        invitation = survey_invite(ticket=ticket, event_id=uuid.uuid4())
        survey_answer(token=invitation.token, rating=rating, comment=comment)
    lena = api_as(p.lead_desk)  # team lead of the desk: Acme and the provider
    answers = lena.get("surveys/responses").json()["items"]
    assert [a["comment"] for a in answers] == ["Acme: quick and kind"]
    report = lena.get("surveys/report?group_by=month").json()
    assert sum(row["responses"] for row in report) == 1
    assert report[0]["average_rating"] == 5.0
    chris = api_as(p.change_manager)  # Network: Globex
    assert [a["comment"] for a in chris.get("surveys/responses").json()["items"]] == [
        "Globex: secret complaint"
    ]
    assert len(api_as(p.admin).get("surveys/responses").json()["items"]) == 2
    assert api_as(p.requester_acme).get("surveys/responses").json()["items"] == []
