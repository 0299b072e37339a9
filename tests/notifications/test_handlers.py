"""Who is told what: replies reach the other side, internal notes nobody outside the desk,
and a redelivered event never notifies twice."""

from __future__ import annotations

import pytest

from servio.core.models import OutboxMessage, ProcessedEvent
from servio.core.outbox import deliver, drain
from servio.notifications.models import Notification
from servio.notifications.services import notification_mark_read
from servio.tickets import services
from tests.tickets.helpers import log, put_in

pytestmark = pytest.mark.django_db


def kinds_for(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_the_conversation_reaches_the_other_side_only(personas):
    p = personas
    ticket = log(p.requester_acme)
    services.ticket_assign(
        actor=p.lead_desk, ticket=ticket, team=p.team_desk, assignee=p.agent_desk
    )
    services.comment_add(actor=p.agent_desk, ticket=ticket, body="secret", internal=True)
    services.comment_add(actor=p.agent_desk, ticket=ticket, body="Try now")
    services.comment_add(actor=p.requester_acme, ticket=ticket, body="Works")
    drain()
    assert kinds_for(p.requester_acme) == ["ticket.agent_replied", "ticket.created"]
    assert kinds_for(p.agent_desk) == ["ticket.assigned", "ticket.requester_replied"]
    assert kinds_for(p.lead_desk) == []


def test_status_changes_the_requester_hears_about(personas):
    p = personas
    waiting = services.ticket_transition(
        actor=p.agent_desk,
        ticket=log(p.requester_acme),
        transition="hold",
        values={"hold_reason": "awaiting_requester"},
    )
    services.ticket_transition(
        actor=p.agent_desk, ticket=log(p.colleague_acme), transition="hold",
        values={"hold_reason": "awaiting_vendor"},
    )  # fmt: skip
    services.ticket_transition(actor=p.agent_desk, ticket=waiting, transition="resume")
    put_in(log(p.requester_globex), "closed", p.agent_network)
    own = log(p.requester_acme)
    services.ticket_transition(
        actor=p.requester_acme, ticket=own, transition="cancel", values={"reason": "Not needed"}
    )
    drain()
    status = Notification.objects.filter(kind="ticket.status_changed")
    told = sorted((n.recipient.email, n.subject.split("] ")[1]) for n in status)
    assert told == [
        ("gina@globex.example", "Your ticket has been closed"),
        ("gina@globex.example", "Your ticket has been resolved"),
        ("rita@acme.example", "Your ticket is on hold"),
    ]  # not: vendor holds, plain resumes, or what the requester did themselves


def test_a_redelivered_event_notifies_once(personas):
    p = personas
    ticket = log(p.requester_acme)
    services.comment_add(actor=p.agent_desk, ticket=ticket, body="Hello")
    drain()
    message = OutboxMessage.objects.get(topic="ticket.commented", handler="notifications.commented")
    OutboxMessage.objects.filter(pk=message.pk).update(status="pending")
    ProcessedEvent.objects.filter(event_id=message.event_id).delete()  # as if never recorded
    message.refresh_from_db()
    assert deliver(message)
    assert kinds_for(p.requester_acme).count("ticket.agent_replied") == 1


def test_internal_attachments_and_notes_never_notify(personas):
    p = personas
    ticket = put_in(log(p.requester_acme), "in_progress", p.agent_desk)
    drain()
    Notification.objects.all().delete()
    note = services.comment_add(actor=p.agent_desk, ticket=ticket, body="secret", internal=True)
    services.attachment_add(
        actor=p.agent_desk, ticket=ticket, filename="x.txt", content=b"x", comment=note
    )
    drain()
    assert not Notification.objects.filter(recipient=p.requester_acme).exists()


def test_marking_read(personas):
    p = personas
    log(p.requester_acme)
    drain()
    notification = Notification.objects.get(recipient=p.requester_acme)
    assert Notification.objects.visible_to(p.requester_acme).count() == 1
    assert Notification.objects.visible_to(p.colleague_acme).count() == 0
    read = notification_mark_read(actor=p.requester_acme, notification=notification)
    first = read.read_at
    assert first is not None
    assert notification_mark_read(actor=p.requester_acme, notification=read).read_at == first


def test_notify_escalations_reach_the_people_they_name(personas):
    """An escalation that says "notify" tells its recipients (it used to reach nobody); the
    organisation rule of decision 16 still applies to each of them."""
    import uuid

    from servio.core import outbox

    p = personas
    ticket = log(p.requester_acme)
    base = {"ticket_id": ticket.pk, "reference": ticket.reference, "metric": "resolution",
            "policy": "Incidents", "percent": 90}  # fmt: skip
    outbox.publish(
        "sla.escalation",
        {**base, "action": "notify_team", "recipient_ids": [p.agent_desk.pk, p.agent_network.pk]},
        event_id=uuid.uuid4(),
    )
    outbox.publish("sla.escalation", {**base, "action": "raise_priority", "recipient_ids": []})
    drain()
    told = Notification.objects.filter(kind="sla.escalation")
    assert list(told.values_list("recipient_id", flat=True)) == [p.agent_desk.pk]
    assert "90% of the resolution target" in told.get().subject
