"""Incident-specific behaviour: the major-incident cascade and auto-close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from servio.core import outbox
from servio.core.workflow import Transition
from servio.incidents.workflow import auto_close_window
from servio.tickets.models import Kind, Ticket

# What a child incident's resolution notes start with when its major incident resolves it.
MAJOR_RESOLUTION_PREFIX = "Resolved together with the major incident it was part of: "


def cascade_major_incident(
    *, ticket: Ticket, transition: Transition, actor: Any, values: dict[str, Any]
) -> None:
    """Resolving a major incident resolves its open children with the parent's resolution code
    and notes, and tells each child's requester (runs inside the parent's transaction)."""
    from servio.tickets.services import transition_as_system

    if not ticket.is_major or transition.target != "resolved":
        return
    children = Ticket.objects.filter(parent=ticket).open().order_by("pk")
    for child in children:
        transition_as_system(
            ticket=child,
            transition="resolve",
            values={
                "resolution_code": ticket.resolution_code,
                # Not the parent's number: a child may belong to an organisation whose
                # people may not see the major incident (decision 16); staff see the parent.
                "resolution_notes": f"{MAJOR_RESOLUTION_PREFIX}{ticket.resolution_notes}",
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


def incidents_auto_close(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close incidents resolved longer ago than SERVIO_INCIDENT_AUTOCLOSE_DAYS; returns count.

    One transaction per incident, so a requester's reopen in between is respected and a long
    backlog never holds locks for long.
    """
    from servio.tickets.services import transition_as_system

    cutoff = (now or timezone.now()) - auto_close_window()
    due = Ticket.objects.filter(kind=Kind.INCIDENT, status="resolved", resolved_at__lt=cutoff)
    closed = 0
    last_pk = 0
    while True:
        ids = list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return closed
        last_pk = ids[-1]
        for pk in ids:
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update().get(pk=pk)
                if ticket.status != "resolved" or (ticket.resolved_at or cutoff) >= cutoff:
                    continue  # reopened (and maybe resolved again) meanwhile
                transition_as_system(
                    ticket=ticket, transition="close", values={"cause": "auto_close"}
                )
                closed += 1
