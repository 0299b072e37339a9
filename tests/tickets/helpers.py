"""Helpers shared by the ticket and incident tests: log tickets and walk them to a state."""

from __future__ import annotations

import re
from typing import Any

from servio.tickets import services
from servio.tickets.models import Ticket

RESOLVE = {"resolution_code": "fixed", "resolution_notes": "Replaced the part"}
# How an agent takes a new incident to each state, one transition at a time.
PATH_TO = {
    "new": [],
    "in_progress": [("start", {})],
    "on_hold": [("hold", {"hold_reason": "awaiting_vendor"})],
    "resolved": [("resolve", RESOLVE)],
    "closed": [("resolve", RESOLVE), ("close", {})],
    "cancelled": [("cancel", {"reason": "Logged by mistake"})],
}


def log(actor, title: str = "Printer jams", **fields: Any) -> Ticket:
    """Log a ticket through the service, as `actor` (a requester logs for themselves)."""
    return services.ticket_create(actor=actor, title=title, **fields)


def put_in(ticket: Ticket, status: str, agent) -> Ticket:
    """Walk `ticket` from new to `status` through the workflow, as `agent`."""
    for name, values in PATH_TO[status]:
        ticket = services.ticket_transition(
            actor=agent, ticket=ticket, transition=name, values=dict(values)
        )
    assert ticket.status == status
    return ticket


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def field_names(response) -> set[str]:
    """The fields a 422 problem document names."""
    return {error["field"] for error in response.json().get("errors", [])}


def normalised_problem(response, reference: str) -> dict[str, Any]:
    """A problem body without what legitimately differs per request (id, the number asked)."""
    body = dict(response.json())
    body.pop("request_id", None)
    return {
        key: re.sub(rf"(?<!\w){re.escape(reference)}(?!\w)", "<ref>", value)
        if isinstance(value, str)
        else value
        for key, value in body.items()
    }
