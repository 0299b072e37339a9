"""Moving tickets along their workflow (the table says who may and what it needs)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from servio.accounts.models import User
from servio.audit.services import audit_atomic, diff, snapshot
from servio.core import outbox, restrictions
from servio.core.workflow import Transition
from servio.tickets import hooks, inputs, policies, workflows
from servio.tickets.models import (
    Ticket,
)
from servio.tickets.services.common import (
    MAX_TEXT,
    TRACKED_FIELDS,
    _event,
    _lock,
    _touch,
    audit_ticket,
)

MAX_REASON = 500  # characters of the reason given for a step (TransitionIn.reason says so too)

# --- workflow ---------------------------------------------------------------------------------


def allowed_transitions(ticket: Ticket, user: User | None) -> list[Transition]:
    """The transitions this user may take on the ticket now (for the API and the UI)."""
    return workflows.get(ticket.kind).allowed(ticket, user, policies.roles_for(ticket, user))


def ticket_transition(
    *,
    actor: User | None,
    ticket: Ticket,
    transition: str,
    values: dict[str, Any] | None = None,
    version: int | None = None,
) -> Ticket:
    """Move the ticket along its workflow; the table says who may and what it needs."""
    values = dict(values or {})
    with audit_atomic():
        locked = _lock(ticket, version)
        return _apply_transition(locked, actor, transition, values)


def _apply_transition(
    ticket: Ticket, actor: User | None, name: str, values: dict[str, Any]
) -> Ticket:
    """Check the step against the table, then keep the milestones in step with the status:
    resolved_at and the resolution while resolved or closed, closed_at once closed, the hold
    reason only while on hold."""
    workflow = workflows.get(ticket.kind)
    step = workflow.check(ticket, actor, policies.roles_for(ticket, actor), name, values)
    reason = None
    if "reason" in step.required or values.get("reason"):
        # Why the step was taken (a cancellation must say): recorded with it, on the timeline.
        reason = inputs.text(
            "reason", values.get("reason"), required="reason" in step.required, limit=MAX_REASON
        )
    # The status, and the ticket's fields the step takes from its values (a hold reason, the
    # resolution); what follows from them (milestones, counters) is the service's own.
    restrictions.check_writable(
        actor=actor,
        record=ticket,
        fields=["status", *(field for field in values if field in TRACKED_FIELDS)],
    )
    before = snapshot(ticket, TRACKED_FIELDS)
    now = timezone.now()
    old_status = ticket.status
    ticket.status = step.target
    if step.target == "on_hold":
        ticket.hold_reason = values["hold_reason"]
    elif old_status == "on_hold":
        ticket.hold_reason = ""
    if step.target == "resolved":
        ticket.resolution_code = values["resolution_code"]
        ticket.resolution_notes = inputs.text(
            "resolution_notes", values["resolution_notes"], required=True, limit=MAX_TEXT
        )
        ticket.resolved_at = now
    if step.name == "reopen":
        ticket.resolved_at = None
        ticket.resolution_code = ""
        ticket.resolution_notes = ""
        ticket.reopen_count += 1
    if step.target == "closed":
        ticket.closed_at = now
    _touch(ticket)
    ticket.save()
    hooks.ticket_changed(ticket)
    changed = diff(before, snapshot(ticket, TRACKED_FIELDS))
    if reason:
        changed["reason"] = [None, reason]
    audit_ticket(
        ticket,
        actor=actor,
        action=f"ticket.{step.name}",
        changes=changed,
    )
    outbox.publish(
        "ticket.status_changed",
        _event(
            ticket,
            transition=step.name,
            old_status=old_status,
            new_status=ticket.status,
            actor_id=getattr(actor, "pk", None),
            requester_id=ticket.requester_id,
            hold_reason=ticket.hold_reason,
            cause=values.get("cause", ""),
        ),
    )
    for hook in workflows.transition_hooks(ticket.kind):
        hook(ticket=ticket, transition=step, actor=actor, values=values)
    return ticket


def transition_as_system(*, ticket: Ticket, transition: str, values: dict[str, Any]) -> Ticket:
    """For cascades and jobs already inside a transaction (the ticket row is locked here)."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    return _apply_transition(locked, None, transition, values)
