"""Shared pieces of the ticket services: tracked fields, locking, events."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from servio.audit.services import audit_record
from servio.core import configcache
from servio.core.errors import (
    Conflict,
    StaleVersion,
)
from servio.tickets import inputs, workflows
from servio.tickets.models import (
    Kind,
    Priority,
    PriorityRule,
    Ticket,
)

TRACKED_FIELDS = (
    "title", "description", "service", "category", "impact", "urgency", "priority",
    "priority_overridden", "status", "hold_reason", "resolution_code", "resolution_notes",
    "team", "assignee", "is_major", "parent", "requester", "organization",
)  # fmt: skip
MAX_TITLE = inputs.MAX_TITLE
MAX_TEXT = inputs.MAX_TEXT
SOURCES = Ticket.Source.values
KINDS = Kind.values  # (a choices class builds its `values` list on every access)


# --- helpers ----------------------------------------------------------------------------------


def audit_ticket(ticket: Ticket, *, actor, action: str, changes: dict[str, Any]) -> None:
    """Record a change of the ticket in the audit trail, named by its number."""
    audit_record(
        actor=actor, action=action, target=ticket, object_repr=ticket.reference, changes=changes
    )


def _load_matrix() -> dict[tuple[int, int], int]:
    return {
        (impact, urgency): priority
        for impact, urgency, priority in PriorityRule.objects.values_list(
            "impact", "urgency", "priority"
        )
    }


_MATRIX = configcache.Cached("priority matrix", _load_matrix, watched=(PriorityRule,))


def priority_for(impact: int, urgency: int) -> int:
    """The matrix's priority for this impact and urgency (admins edit the matrix)."""
    priority = _MATRIX.get().get((impact, urgency))
    if priority is not None:
        return priority
    return min(Priority.PLANNING, impact + urgency - 1)


def _lock(ticket: Ticket, version: int | None) -> Ticket:
    """Re-read the ticket under a row lock and refuse a stale version (nothing is overwritten)."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"{locked.reference} was changed by someone else (you edited version {version}; "
            f"it is now version {locked.version}). Reload it, then apply your change again.",
            current=locked,
            current_version=locked.version,
        )
    return locked


def _require_unfinished(ticket: Ticket) -> None:
    """Closed and cancelled tickets are the record of what happened: their fields stay put."""
    if workflows.get(ticket.kind).is_final(ticket.status):
        raise Conflict(
            f"{ticket.reference} is {ticket.status}; it can no longer be changed. "
            "Report a new ticket instead.",
            current_status=ticket.status,
        )


def _touch(ticket: Ticket, *, bump: bool = True) -> None:
    ticket.updated_at = timezone.now()
    if bump:
        ticket.version += 1


def _event(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.pk, "reference": ticket.reference, "kind": ticket.kind, **extra}


def _pk_of(value: Any) -> Any:
    return getattr(value, "pk", value)
