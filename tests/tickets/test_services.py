"""The ticket services: first response, priority from the matrix, assignment, links, and the
rule that finished tickets no longer change."""

from __future__ import annotations

import pytest

from servio.audit.models import AuditEvent
from servio.core.errors import Conflict, PermissionDenied, ValidationFailed
from servio.core.models import OutboxMessage
from servio.tickets import services
from servio.tickets.models import PriorityRule
from servio.tickets.services import priority_for
from tests.tickets.helpers import log, put_in, reload

pytestmark = pytest.mark.django_db

MATRIX = {  # ITIL's usual impact x urgency matrix, as the migration seeds it
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}  # fmt: skip


def updated(ticket, actor, **changes):
    return services.ticket_update(
        actor=actor, ticket=ticket, version=reload(ticket).version, changes=changes
    )


# --- first response -----------------------------------------------------------------------------


def test_the_first_public_agent_reply_is_the_first_response(personas):
    p = personas
    ticket = log(p.requester_acme)
    services.comment_add(actor=p.requester_acme, ticket=ticket, body="Any news?")
    services.comment_add(actor=p.agent_desk, ticket=ticket, body="Looking", internal=True)
    assert reload(ticket).first_response_at is None
    reply = services.comment_add(actor=p.agent_desk, ticket=ticket, body="On it")
    assert reload(ticket).first_response_at == reply.created_at
    services.comment_add(actor=p.lead_desk, ticket=ticket, body="Me too")
    assert reload(ticket).first_response_at == reply.created_at
    assert reload(ticket).version == 1  # comments are not edits of the ticket's fields


def test_an_agents_reply_on_their_own_ticket_is_no_first_response(personas):
    p = personas
    own = log(p.agent_desk, title="My keyboard")
    services.comment_add(actor=p.agent_desk, ticket=own, body="Still broken")
    assert reload(own).first_response_at is None


# --- priority ---------------------------------------------------------------------------------


def test_priority_follows_the_matrix(personas):
    p = personas
    assert {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()} == MATRIX
    for (impact, urgency), priority in MATRIX.items():
        ticket = log(p.requester_acme, impact=impact, urgency=urgency)
        assert (ticket.priority, ticket.priority_overridden) == (priority, False)
    PriorityRule.objects.filter(impact=3, urgency=3).update(priority=4)
    assert log(p.requester_acme).priority == 4
    PriorityRule.objects.filter(impact=3, urgency=3).delete()
    assert priority_for(3, 3) == 5  # a missing cell falls back to impact + urgency - 1


def test_an_agent_override_is_marked_audited_and_survives_impact_changes(personas):
    p = personas
    ticket = log(p.requester_acme, impact=3, urgency=3)
    ticket = updated(ticket, p.agent_desk, priority=2)
    assert (ticket.priority, ticket.priority_overridden) == (2, True)
    event = AuditEvent.objects.filter(action="ticket.updated").latest("pk")
    assert event.changes["priority"] == [5, 2]
    assert event.changes["priority_overridden"] == [False, True]
    assert event.actor_id == p.agent_desk.pk

    ticket = updated(ticket, p.agent_desk, impact=1)
    assert (ticket.priority, ticket.priority_overridden) == (2, True)
    ticket = updated(ticket, p.agent_desk, priority=None)  # back to the matrix
    assert (ticket.priority, ticket.priority_overridden) == (MATRIX[1, 3], False)
    ticket = updated(ticket, p.agent_desk, urgency=1)
    assert ticket.priority == MATRIX[1, 1]
    # Choosing what the matrix says anyway is no override.
    ticket = updated(ticket, p.agent_desk, priority=1, impact=1)
    assert ticket.priority_overridden is False


def test_agents_may_override_priority_when_logging(personas):
    p = personas
    ticket = log(p.agent_desk, requester=p.requester_acme.pk, priority=1)
    assert (ticket.priority, ticket.priority_overridden) == (1, True)
    created = AuditEvent.objects.get(action="ticket.created", object_id=str(ticket.pk))
    assert created.changes["priority_overridden"] == [None, True]


# --- assignment -------------------------------------------------------------------------------


def test_assignment_counts_reassignments_and_tells_the_assignee(personas):
    p = personas
    p.team_network.serves.add(p.acme)  # so that the ticket may move between the two teams
    ticket = log(p.requester_acme)
    ticket = services.ticket_assign(
        actor=p.agent_desk, ticket=ticket, team=p.team_desk, assignee=p.agent_desk
    )
    assert ticket.reassignment_count == 0
    ticket = services.ticket_assign(
        actor=p.agent_desk, ticket=ticket, team=p.team_desk.pk, assignee=p.lead_desk.pk
    )
    assert ticket.reassignment_count == 1
    ticket = services.ticket_assign(
        actor=p.agent_desk, ticket=ticket, team=p.team_network, assignee=None
    )
    assert (ticket.team, ticket.assignee, ticket.reassignment_count) == (p.team_network, None, 2)
    events = OutboxMessage.objects.filter(topic="ticket.assigned", handler__startswith="notif")
    assert [e.payload["assignee_id"] for e in events.order_by("id")] == [
        p.agent_desk.pk,
        p.lead_desk.pk,
        None,
    ]
    with pytest.raises(ValidationFailed) as outsider:
        services.ticket_assign(
            actor=p.agent_desk, ticket=ticket, team=p.team_desk, assignee=p.agent_network
        )
    assert set(outsider.value.errors) == {"assignee"}


def test_changing_the_team_by_update_drops_an_assignee_who_is_not_in_it(personas):
    p = personas
    p.team_network.serves.add(p.acme)  # so that the ticket may move between the two teams
    ticket = log(p.requester_acme)
    ticket = updated(ticket, p.agent_desk, team=p.team_desk.pk, assignee=p.agent_desk.pk)
    assert ticket.assignee == p.agent_desk
    ticket = updated(ticket, p.agent_desk, team=p.team_network.pk)
    assert (ticket.team, ticket.assignee, ticket.reassignment_count) == (p.team_network, None, 1)
    assigned = OutboxMessage.objects.filter(topic="ticket.assigned", handler__startswith="notif")
    assert assigned.count() == 2  # PATCH goes through the same events as /assignment
    p.team_network.members.add(p.agent_desk)
    ticket = updated(ticket, p.agent_desk, assignee=p.agent_desk.pk)
    ticket = updated(ticket, p.agent_desk, team=p.team_network.pk, title="Renamed")
    assert ticket.assignee == p.agent_desk


def test_finished_tickets_no_longer_change(personas):
    p = personas
    for status in ("closed", "cancelled"):
        ticket = put_in(log(p.requester_acme), status, p.agent_desk)
        with pytest.raises(Conflict):
            updated(ticket, p.agent_desk, title="Rewritten history")
        with pytest.raises(Conflict):
            services.ticket_assign(
                actor=p.agent_desk, ticket=ticket, team=p.team_desk, assignee=None
            )
        with pytest.raises(PermissionDenied):
            services.attachment_add(
                actor=p.requester_acme, ticket=ticket, filename="late.txt", content=b"late"
            )
        assert reload(ticket).version == ticket.version


# --- links and watchers -----------------------------------------------------------------------


def test_links_are_typed_and_never_duplicated(personas):
    p = personas
    a, b = log(p.requester_acme), log(p.requester_acme)
    link = services.link_add(actor=p.agent_desk, source=a, target=b.reference, type="caused_by")
    assert (link.source, link.target, link.type) == (a, b, "caused_by")
    for target, kind, field in [(b, "caused_by", "target"), (a, "related_to", "target")]:
        with pytest.raises(ValidationFailed) as refused:
            services.link_add(actor=p.agent_desk, source=a, target=target, type=kind)
        assert set(refused.value.errors) == {field}
    with pytest.raises(ValidationFailed) as bad_type:
        services.link_add(actor=p.agent_desk, source=a, target=b, type="loves")
    assert set(bad_type.value.errors) == {"type"}
    with pytest.raises(ValidationFailed):  # a number the agent cannot see reads as missing
        services.link_add(actor=p.agent_network, source=a, target=b.reference, type="related_to")
    services.link_remove(actor=p.agent_desk, link=link)
    assert not a.links_out.exists()


def test_watchers_are_people_who_may_already_see_the_tickets_organisation(personas):
    p = personas
    ticket = log(p.requester_acme)
    services.watcher_add(actor=p.requester_acme, ticket=ticket, user=p.colleague_acme.pk)
    services.watcher_add(actor=p.admin, ticket=ticket, user=p.lead_desk)
    with pytest.raises(ValidationFailed):
        services.watcher_add(actor=p.admin, ticket=ticket, user=p.requester_globex)
    with pytest.raises(ValidationFailed) as other_team:  # Network serves Globex only
        services.watcher_add(actor=p.admin, ticket=ticket, user=p.agent_network)
    assert set(other_team.value.errors) == {"user"}
    with pytest.raises(ValidationFailed):  # requesters only add their colleagues
        services.watcher_add(actor=p.requester_acme, ticket=ticket, user=p.agent_desk.pk)
    assert set(ticket.watchers.values_list("user_id", flat=True)) == {
        p.colleague_acme.pk,
        p.lead_desk.pk,
    }
    with pytest.raises(PermissionDenied):
        services.watcher_remove(actor=p.colleague_acme, ticket=ticket, user=p.lead_desk)
    services.watcher_remove(actor=p.colleague_acme, ticket=ticket, user=p.colleague_acme)
    assert ticket.watchers.count() == 1


def test_text_with_nul_characters_is_refused_before_the_database(personas):
    p = personas
    with pytest.raises(ValidationFailed) as refused:
        log(p.requester_acme, title="a\x00b")
    assert set(refused.value.errors) == {"title"}
    ticket = log(p.requester_acme)
    with pytest.raises(ValidationFailed):
        services.comment_add(actor=p.requester_acme, ticket=ticket, body="x\x00")
