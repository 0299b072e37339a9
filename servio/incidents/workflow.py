"""The incident life cycle, declared once: states, transitions, who may take them, what they need.

new -> in_progress -> on_hold -> in_progress -> resolved -> closed
(any open state) -> cancelled, with the reason why;  resolved -> in_progress (reopen)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from servio.core.workflow import AGENT, REQUESTER, SYSTEM, State, Transition, Workflow
from servio.tickets.models import Ticket

HOLD_REASONS = tuple(Ticket.HoldReason.values)
RESOLUTION_CODES = (
    "fixed",
    "workaround",
    "no_fault_found",
    "duplicate",
    "user_education",
    "resolved_by_change",
)
# What people read for the fields and choice values above (the UI and the API's table).
LABELS = {
    "hold_reason": "Hold reason",
    **dict(Ticket.HoldReason.choices),
    "resolution_code": "Resolution code",
    "resolution_notes": "Resolution notes",
    "fixed": "Fixed",
    "workaround": "Workaround",
    "no_fault_found": "No fault found",
    "duplicate": "Duplicate",
    "user_education": "User education",
    "resolved_by_change": "Resolved by a change",
    "reason": "Reason for cancelling",
}
STATES = (
    State("new", "New"),
    State("in_progress", "In progress"),
    State("on_hold", "On hold", paused=True),
    State("resolved", "Resolved", open=False),
    State("closed", "Closed", open=False),
    State("cancelled", "Cancelled", open=False, abandoned=True),
)
OPEN = tuple(s.name for s in STATES if s.open)  # where "cancel" may start


def reopen_window() -> timedelta:
    return timedelta(days=settings.SERVIO_INCIDENT_REOPEN_DAYS)


def auto_close_window() -> timedelta:
    return timedelta(days=settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS)


def reopen_deadline(ticket) -> datetime | None:
    """Until when the requester may reopen this resolved ticket (None: not resolved)."""
    return ticket.resolved_at + reopen_window() if ticket.resolved_at else None


def closes_itself_at(ticket) -> datetime | None:
    """When the auto-close job closes this resolved incident (None: it does not)."""
    if ticket.kind != "incident" or ticket.status != "resolved" or not ticket.resolved_at:
        return None
    return ticket.resolved_at + auto_close_window()


def within_reopen_window(ticket, actor) -> str | None:
    """Requesters may reopen only for a while after resolution; staff may always."""
    if actor is not None and actor.is_staff_member:
        return None
    deadline = reopen_deadline(ticket)
    if deadline is not None and timezone.now() > deadline:
        return (
            f"This incident was resolved more than {settings.SERVIO_INCIDENT_REOPEN_DAYS} days "
            "ago and can no longer be reopened. Report a new incident instead."
        )
    return None


INCIDENT_WORKFLOW = Workflow(
    name="incident",
    initial="new",
    states=STATES,
    transitions=(
        Transition("start", "Start work", frozenset({"new"}), "in_progress", frozenset({AGENT})),
        Transition(
            "hold",
            "Put on hold",
            frozenset({"new", "in_progress"}),
            "on_hold",
            frozenset({AGENT}),
            required=("hold_reason",),
            choices={"hold_reason": HOLD_REASONS},
        ),
        Transition(
            "resume", "Resume", frozenset({"on_hold"}), "in_progress", frozenset({AGENT, SYSTEM})
        ),
        Transition(
            "resolve",
            "Resolve",
            frozenset(OPEN),
            "resolved",
            frozenset({AGENT, SYSTEM}),
            required=("resolution_code", "resolution_notes"),
            choices={"resolution_code": RESOLUTION_CODES},
        ),
        Transition(
            "reopen",
            "Reopen",
            frozenset({"resolved"}),
            "in_progress",
            frozenset({AGENT, REQUESTER, SYSTEM}),
            guard=within_reopen_window,
        ),
        Transition(
            "close",
            "Close",
            frozenset({"resolved"}),
            "closed",
            frozenset({AGENT, REQUESTER, SYSTEM}),
            description="The requester confirms, or the auto-close job closes it.",
        ),
        Transition(
            "cancel",
            "Cancel",
            frozenset(OPEN),
            "cancelled",
            frozenset({AGENT, REQUESTER}),
            required=("reason",),
            description="Final: a cancelled ticket cannot be reopened. The reason is recorded.",
        ),
    ),
    labels=LABELS,
)
