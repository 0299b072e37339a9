"""Who may do what to a ticket. Visibility itself is `Ticket.objects.visible_to(user)`."""

from __future__ import annotations

from servio.core.errors import PermissionDenied
from servio.core.workflow import AGENT, REQUESTER, SYSTEM

# Fields only service desk staff may set or change.
AGENT_ONLY_FIELDS = frozenset(
    {"team", "assignee", "priority", "is_major", "parent", "requester", "source", "kind_task"}
)
# What a requester may still edit on their own ticket while it is new.
REQUESTER_EDITABLE = frozenset({"title", "description"})
AGENT_EDITABLE = frozenset(
    {"title", "description", "service", "category", "impact", "urgency", "priority", "is_major"}
)


def is_agent(user) -> bool:
    return user is not None and user.has_capability("ticket.work")


def roles_for(ticket, user) -> set[str]:
    """The workflow roles this user holds on this (already visible) ticket."""
    if user is None:
        return {SYSTEM}
    roles = set()
    if is_agent(user):
        roles.add(AGENT)
    if ticket.requester_id == user.pk:
        roles.add(REQUESTER)
    return roles


def require_agent(user, what: str) -> None:
    if user is not None and not is_agent(user):
        raise PermissionDenied(f"Only service desk staff may {what}.")


def check_editable_fields(ticket, user, fields: set[str]) -> None:
    if user is None or is_agent(user):
        refused = fields - AGENT_EDITABLE
    else:
        refused = fields - REQUESTER_EDITABLE if ticket.requester_id == user.pk else fields
        if not refused and ticket.status != "new":
            raise PermissionDenied(
                "Your ticket is already being worked on; add a reply instead of editing it."
            )
    if refused:
        raise PermissionDenied(
            f"You may not change: {', '.join(sorted(refused))}. "
            "Only service desk staff may set these."
        )
