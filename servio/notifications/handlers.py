"""Turn ticket events into notifications for the people who need to know."""

from __future__ import annotations

from servio.core.outbox import Event, handler
from servio.notifications.services import notify

STATUS_TELLS_REQUESTER = {
    "on_hold": "is on hold",
    "resolved": "has been resolved",
    "closed": "has been closed",
    "in_progress": "is being worked on",
    "cancelled": "has been cancelled",
}


@handler("ticket.status_changed", name="notifications.status_changed")
def status_changed(event: Event) -> None:
    """Tell the requester when their ticket waits on them, is resolved, closed or reopened."""
    p = event.payload
    new = p["new_status"]
    if p.get("cause") == "major_incident_resolved":
        return  # incident.resolved_by_major tells the requester, naming the major incident
    if new == "on_hold" and p.get("hold_reason") not in (None, "", "awaiting_requester"):
        return
    if new not in STATUS_TELLS_REQUESTER:
        return
    if new == "in_progress" and p.get("transition") != "reopen":
        return
    notify(
        recipient_id=p.get("requester_id"),
        event_id=event.id,
        kind="ticket.status_changed",
        subject=f"[{p['reference']}] Your ticket {STATUS_TELLS_REQUESTER[new]}",
        ticket_id=p["ticket_id"],
        skip_user_id=p.get("actor_id"),
    )


@handler("ticket.commented", name="notifications.commented")
def commented(event: Event) -> None:
    """A public reply tells the other side; internal notes never leave the desk."""
    p = event.payload
    if p["internal"]:
        return
    if p["by_requester"]:
        notify(
            recipient_id=p.get("assignee_id"),
            event_id=event.id,
            kind="ticket.requester_replied",
            subject=f"[{p['reference']}] The requester replied",
            ticket_id=p["ticket_id"],
            skip_user_id=p["author_id"],
        )
    else:
        notify(
            recipient_id=p.get("requester_id"),
            event_id=event.id,
            kind="ticket.agent_replied",
            subject=f"[{p['reference']}] New reply from the service desk",
            ticket_id=p["ticket_id"],
            skip_user_id=p["author_id"],
        )


@handler("ticket.assigned", name="notifications.assigned")
def assigned(event: Event) -> None:
    """Tell the new assignee (unless they took it themselves)."""
    p = event.payload
    notify(
        recipient_id=p.get("assignee_id"),
        event_id=event.id,
        kind="ticket.assigned",
        subject=f"[{p['reference']}] Assigned to you",
        ticket_id=p["ticket_id"],
        skip_user_id=p.get("actor_id"),
    )


@handler("ticket.created", name="notifications.created")
def created(event: Event) -> None:
    """Confirm to the requester that the ticket was logged."""
    p = event.payload
    notify(
        recipient_id=p.get("requester_id"),
        event_id=event.id,
        kind="ticket.created",
        subject=f"[{p['reference']}] We have received your ticket",
        ticket_id=p["ticket_id"],
    )


@handler("incident.resolved_by_major", name="notifications.resolved_by_major")
def resolved_by_major(event: Event) -> None:
    """Tell a child incident's requester it was resolved with its major incident (named only
    when they may see it)."""
    p = event.payload
    notify(
        recipient_id=p.get("requester_id"),
        event_id=event.id,
        kind="incident.resolved_by_major",
        subject=f"[{p['reference']}] Resolved together with {_major_incident(p)}",
        ticket_id=p["ticket_id"],
    )


def _major_incident(payload: dict) -> str:
    """The major incident's number for a requester who may see it; else no number."""
    from servio.accounts.models import User
    from servio.tickets.tenancy import reference_for

    reader = User.objects.filter(pk=payload.get("requester_id")).first()
    name = reference_for(reader, payload.get("parent_id"), otherwise="")
    return f"major incident {name}" if name else "a major incident"


ESCALATION_TELLS = {
    "notify_assignee": "you are assigned",
    "notify_team_lead": "you lead its team",
    "notify_team": "your team holds it",
    "notify_group": "the SLA policy names your team",
}


@handler("sla.escalation", name="notifications.sla_escalation")
def sla_escalation(event: Event) -> None:
    """Tell the people a notify escalation names (the scan chose them; `notify` leaves out
    anyone who may not see the ticket's organisation)."""
    p = event.payload
    why = ESCALATION_TELLS.get(p.get("action", ""))
    if why is None:
        return  # raise_priority and reassign change the ticket (servio.sla.handlers)
    metric = str(p.get("metric", "")).replace("_", " ")
    subject = (
        f"[{p['reference']}] SLA escalation: {p.get('percent')}% of the {metric} target used "
        f"({p.get('policy', '')}); you are told because {why}"
    )
    for recipient_id in p.get("recipient_ids") or ():
        notify(
            recipient_id=recipient_id,
            event_id=event.id,
            kind="sla.escalation",
            subject=subject,
            ticket_id=p["ticket_id"],
        )
