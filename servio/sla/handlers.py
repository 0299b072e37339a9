"""Outbox handlers of the SLA app: escalation actions that change the ticket."""

from __future__ import annotations

from servio.core.outbox import Event, handler
from servio.sla.services import TICKET_ACTIONS, sla_escalation_apply


@handler("sla.escalation", name="sla.escalation_actions")
def escalation_actions(event: Event) -> None:
    """Raise the priority or reassign, as the policy's escalation says (notifications elsewhere)."""
    payload = event.payload
    if payload.get("action") in TICKET_ACTIONS:
        sla_escalation_apply(
            ticket_id=payload["ticket_id"],
            action=payload["action"],
            team_id=payload.get("team_id"),
        )
