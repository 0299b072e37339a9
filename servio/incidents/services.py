"""Incident-specific behaviour: the major-incident cascade and auto-close."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from servio.core import outbox
from servio.tickets.models import Kind, Ticket


def cascade_major_incident(*, ticket: Ticket, transition, actor, values) -> None:
    """Resolving a major incident resolves its open children with the parent's resolution."""
    from servio.tickets.services import transition_as_system

    if not ticket.is_major or transition.target != "resolved":
        return
    children = Ticket.objects.filter(parent=ticket, status__in=("new", "in_progress", "on_hold"))
    for child in children.order_by("pk"):
        transition_as_system(
            ticket=child,
            transition="resolve",
            values={
                "resolution_code": ticket.resolution_code,
                "resolution_notes": f"Resolved with major incident {ticket.reference}: "
                f"{ticket.resolution_notes}",
                "cause": "major_incident_resolved",
            },
        )
        outbox.publish(
            "incident.resolved_by_major",
            {
                "ticket_id": child.pk,
                "reference": child.reference,
                "parent_id": ticket.pk,
                "parent_reference": ticket.reference,
                "requester_id": child.requester_id,
            },
        )


def incidents_auto_close(*, now=None, batch: int = 500) -> int:
    """Close incidents resolved longer ago than SERVIO_INCIDENT_AUTOCLOSE_DAYS; returns count."""
    from servio.tickets.services import transition_as_system

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS)
    closed = 0
    while True:
        ids = list(
            Ticket.objects.filter(kind=Kind.INCIDENT, status="resolved", resolved_at__lt=cutoff)
            .order_by("resolved_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return closed
        for pk in ids:
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update().get(pk=pk)
                if ticket.status != "resolved":
                    continue  # reopened meanwhile
                transition_as_system(
                    ticket=ticket, transition="close", values={"cause": "auto_close"}
                )
                closed += 1
