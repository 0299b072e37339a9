"""Who may do what to a ticket. Visibility itself is `Ticket.objects.visible_to(user)`."""

from __future__ import annotations

from servio.core.errors import PermissionDenied, ValidationFailed
from servio.core.workflow import AGENT, REQUESTER, SYSTEM

# Fields only service desk staff may set or change (on creation and afterwards).
AGENT_ONLY_FIELDS = frozenset({"team", "assignee", "priority", "is_major", "parent", "requester"})
# What a requester may still edit on their own ticket while it is new.
REQUESTER_EDITABLE = frozenset({"title", "description"})
# Every field an update may carry; status moves through transitions only.
AGENT_EDITABLE = frozenset(
    {"title", "description", "service", "category", "impact", "urgency"} | AGENT_ONLY_FIELDS
)
# What a requester may log: the rest (problems, changes, tasks) is the desk's own work.
REQUESTER_KINDS = frozenset({"incident", "request"})


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
    """Refuse non-staff; `what` completes "Only service desk staff may ..."."""
    if user is not None and not is_agent(user):
        raise PermissionDenied(f"Only service desk staff may {what}.")


def refuse_agent_only(fields: set[str]) -> None:
    """A requester tried to set staff-only fields: name every one of them."""
    refused = sorted(fields & AGENT_ONLY_FIELDS)
    if refused:
        raise PermissionDenied(
            f"Only service desk staff may set: {', '.join(refused)}. Leave them out.",
            fields=refused,
        )


def check_create(user, *, kind: str, fields: set[str]) -> None:
    """Requesters log incidents and requests for themselves, without staff-only fields."""
    if user is None or is_agent(user):
        return
    refuse_agent_only(fields)
    if kind not in REQUESTER_KINDS:
        raise PermissionDenied(
            f"kind: requesters may report incidents or requests, not a {kind}.", fields=["kind"]
        )


def check_editable_fields(ticket, user, fields: set[str]) -> None:
    """Staff edit any updatable field; a requester edits the title and description of their
    own ticket while nobody has started on it (after that, a reply says what changed)."""
    unknown = fields - AGENT_EDITABLE
    if unknown:
        raise ValidationFailed(
            {name: "cannot be changed here (status moves through transitions)." for name in unknown}
        )
    if user is None or is_agent(user):
        return
    refuse_agent_only(fields)
    if ticket.requester_id != user.pk:
        raise PermissionDenied("Only the requester or the service desk may edit this ticket.")
    refused = sorted(fields - REQUESTER_EDITABLE)
    if refused:
        raise PermissionDenied(
            f"You may not change: {', '.join(refused)}. Only service desk staff may set these.",
            fields=refused,
        )
    if ticket.status != "new":
        raise PermissionDenied(
            "Your ticket is already being worked on; add a reply instead of editing it."
        )
