"""Outbox handlers of the email channel: ticket events become queued emails, and each queued
email is delivered by its own `mail.outbound` event (so SMTP failures retry one message)."""

from __future__ import annotations

from servio.core.outbox import Event, handler
from servio.mail import notices, outbound


@handler("ticket.created", name="mail.ticket_created")
def ticket_created(event: Event) -> None:
    notices.ticket_created(event_id=event.id, payload=event.payload)


@handler("ticket.commented", name="mail.ticket_commented")
def ticket_commented(event: Event) -> None:
    notices.ticket_commented(event_id=event.id, payload=event.payload)


@handler("ticket.status_changed", name="mail.status_changed")
def status_changed(event: Event) -> None:
    notices.status_changed(event_id=event.id, payload=event.payload)


@handler("ticket.assigned", name="mail.ticket_assigned")
def ticket_assigned(event: Event) -> None:
    notices.ticket_assigned(event_id=event.id, payload=event.payload)


@handler("incident.resolved_by_major", name="mail.resolved_by_major")
def resolved_by_major(event: Event) -> None:
    notices.resolved_by_major(event_id=event.id, payload=event.payload)


@handler("sla.warning", name="mail.sla_warning")
def sla_warning(event: Event) -> None:
    notices.sla_threshold(event_id=event.id, payload=event.payload, breached=False)


@handler("sla.breached", name="mail.sla_breached")
def sla_breached(event: Event) -> None:
    notices.sla_threshold(event_id=event.id, payload=event.payload, breached=True)


@handler("mail.sender_rejected", name="mail.sender_rejected")
def sender_rejected(event: Event) -> None:
    notices.sender_rejected(event_id=event.id, payload=event.payload)


@handler(outbound.OUTBOUND_TOPIC, name="mail.deliver", external=True)
def deliver(event: Event) -> None:
    """SMTP, with no transaction open; the message's Message-ID was fixed when it was queued."""
    outbound.deliver(outbound_id=event.payload["outbound_id"])
