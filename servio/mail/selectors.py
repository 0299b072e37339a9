"""Reads of the email channel, always scoped by the user asking."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from servio.accounts.services import get_visible
from servio.core.errors import NotFound, PermissionDenied
from servio.core.models import OutboxMessage
from servio.mail.models import (
    InboundMessage,
    InboundStatus,
    MailPreference,
    OutboundMessage,
    OutboundStatus,
    TemplateKey,
)
from servio.tickets.models import Ticket

DELIVER_HANDLER = "mail.deliver"
# What a person may choose to receive by email, by audience.
REQUESTER_EVENTS = (
    TemplateKey.TICKET_CREATED,
    TemplateKey.AGENT_REPLY,
    TemplateKey.STATUS_ON_HOLD,
    TemplateKey.STATUS_RESOLVED,
    TemplateKey.STATUS_CLOSED,
    TemplateKey.RESOLVED_BY_MAJOR,
)
AGENT_EVENTS = (
    TemplateKey.TICKET_ASSIGNED,
    TemplateKey.REQUESTER_REPLY,
    TemplateKey.SLA_WARNING,
    TemplateKey.SLA_BREACHED,
)


def _require_admin(user) -> None:
    if not user.has_capability("admin.configure"):
        raise PermissionDenied("Only administrators may see the mail logs.")


def inbound_list(*, user, status: str | None = None) -> QuerySet[InboundMessage]:
    """Admins: every stored message (the quarantine is status=quarantined); others: refused."""
    _require_admin(user)
    qs = (
        InboundMessage.objects.visible_to(user)
        .select_related("mailbox", "ticket")
        .defer("raw", "text_body", "html_body")
    )
    return qs.filter(status=status) if status else qs


def held_list(*, user) -> QuerySet[InboundMessage]:
    """Mail held for an agent: replies on tickets the user may see, and unauthenticated mail
    from staff addresses (on such a ticket, or naming none: then for the agents of the
    mailbox's team; see InboundMessage.objects.visible_to)."""
    return (
        InboundMessage.objects.visible_to(user)
        .filter(status=InboundStatus.HELD)
        .select_related("mailbox", "ticket")
        .defer("raw", "html_body")
    )


def inbound_get(*, user, message_id: int) -> InboundMessage:
    """One stored message with its full body (admins: any; agents: of tickets they see)."""
    return get_visible(
        InboundMessage.objects.select_related("mailbox", "ticket").defer("raw"),
        user,
        missing="No such email is visible to you.",
        pk=message_id,
    )


def ticket_emails(*, user, ticket: Ticket) -> QuerySet[InboundMessage]:
    """The email a ticket received (full bodies), for agents who may see the ticket."""
    if not user.has_capability("ticket.work"):
        raise NotFound("No such email is visible to you.")
    return (
        InboundMessage.objects.visible_to(user)
        .filter(ticket=ticket)
        .select_related("mailbox", "ticket")
        .defer("raw")
    )


def outbound_list(*, user, status: str | None = None) -> QuerySet[OutboundMessage]:
    """Admins: the outbound log with each message's delivery attempts and last error.

    `status`: queued, sent, or `failed` (delivery dead-lettered after the last retry).
    """
    _require_admin(user)
    delivery = OutboxMessage.objects.filter(
        event_id=OuterRef("delivery_event_id"), handler=DELIVER_HANDLER
    )
    qs = OutboundMessage.objects.select_related("ticket").annotate(
        delivery_status=Subquery(delivery.values("status")[:1]),
        delivery_attempts=Subquery(delivery.values("attempts")[:1]),
        delivery_error=Subquery(delivery.values("last_error")[:1]),
    )
    if status == "failed":
        return qs.filter(status=OutboundStatus.QUEUED, delivery_status=OutboxMessage.Status.DEAD)
    return qs.filter(status=status) if status else qs


def outbound_get(*, user, message_id: int) -> OutboundMessage:
    message = outbound_list(user=user).filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such email.")
    return message


def preferences(*, user) -> list[dict]:
    """Each notification this person may receive by email, and whether they do."""
    events = list(REQUESTER_EVENTS)
    if user.has_capability("ticket.work"):
        events += list(AGENT_EVENTS)
    off = set(MailPreference.objects.filter(user=user, email=False).values_list("event", flat=True))
    return [
        {"event": event.value, "label": event.label, "email": event.value not in off}
        for event in events
    ]
