"""Who is told what by email when something happens to a ticket (called by the outbox handlers).

Requesters hear about their ticket: the acknowledgement, the desk's public replies (watchers
too), being put on hold awaiting them, resolution (with the survey link) and closure. Agents hear
about assignments, requester replies and SLA warnings and breaches. Nobody is told about their
own action, internal notes are never mailed, and nothing answers mail that asked not to be
answered (automatic, bounce or list mail).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from servio.accounts.models import Team, User
from servio.mail import outbound
from servio.mail.models import InboundMessage, OutboundMessage, TemplateKey
from servio.tickets.models import Comment, Ticket, Watcher
from servio.tickets.tenancy import allowed_recipients, reference_for

TICKET_RELATED = ("requester", "team", "assignee")


def _ticket(ticket_id: Any) -> Ticket | None:
    return Ticket.objects.select_related(*TICKET_RELATED).filter(pk=ticket_id).first()


def _send(
    *,
    event_id: uuid.UUID,
    key: str,
    ticket: Ticket,
    people: Iterable[User],
    skip_user_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> list[OutboundMessage]:
    sent = []
    seen: set[int] = set()
    # Nobody is mailed about a ticket of an organisation they may not see (decision 16).
    for person in allowed_recipients(people, ticket.organization_id):
        if person.pk in seen or person.pk == skip_user_id or not outbound.wants_email(person, key):
            continue
        seen.add(person.pk)
        message = outbound.queue(
            event_id=event_id,
            key=key,
            recipient_email=person.email,
            recipient=person,
            ticket=ticket,
            context={
                "ticket": outbound.ticket_context(ticket, staff=person.is_staff_member),
                **(context or {}),
            },
        )
        if message is not None:
            sent.append(message)
    return sent


def _agents_for(ticket: Ticket, *, team_id: int | None = None) -> list[User]:
    """The assignee; else the members of the team (the queue) who are active staff."""
    if ticket.assignee_id is not None and ticket.assignee is not None:
        return [ticket.assignee]
    team_id = team_id or ticket.team_id
    if team_id is None:
        return []
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return []
    return [m for m in team.members.filter(is_active=True).order_by("pk") if m.is_staff_member]


def _answering_mail_suppressed(ticket: Ticket) -> bool:
    """The ticket came from mail that asked for no automatic answer (list mail, RFC 3834)."""
    first = InboundMessage.objects.filter(ticket=ticket).order_by("id").first()
    return first is not None and first.suppress_autoresponse and first.comment_id is None


def ticket_created(*, event_id: uuid.UUID, payload: dict[str, Any]) -> list[OutboundMessage]:
    """The acknowledgement to the requester; a ticket created already assigned tells its
    assignee too (creation publishes no separate assignment event)."""
    ticket = _ticket(payload["ticket_id"])
    if ticket is None:
        return []
    sent = []
    if not _answering_mail_suppressed(ticket):
        sent += _send(
            event_id=event_id,
            key=TemplateKey.TICKET_CREATED,
            ticket=ticket,
            people=[ticket.requester],
        )
    assignee_id = payload.get("assignee_id")  # as created, not as it may be by now
    if assignee_id is not None and assignee_id == ticket.assignee_id:
        sent += _send(
            event_id=event_id,
            key=TemplateKey.TICKET_ASSIGNED,
            ticket=ticket,
            people=[ticket.assignee] if ticket.assignee else [],
            skip_user_id=ticket.requester_id,
        )
    return sent


def ticket_commented(*, event_id: uuid.UUID, payload: dict[str, Any]) -> list[OutboundMessage]:
    if payload.get("internal"):
        return []
    comment = Comment.objects.select_related("author").filter(pk=payload["comment_id"]).first()
    ticket = _ticket(payload["ticket_id"])
    if comment is None or ticket is None or comment.is_internal:
        return []
    context = {"comment": outbound.comment_context(comment.body, comment.author)}
    if payload.get("by_requester"):
        return _send(
            event_id=event_id,
            key=TemplateKey.REQUESTER_REPLY,
            ticket=ticket,
            people=_agents_for(ticket),
            skip_user_id=comment.author_id,
            context=context,
        )
    watchers = [w.user for w in Watcher.objects.filter(ticket=ticket).select_related("user")]
    return _send(
        event_id=event_id,
        key=TemplateKey.AGENT_REPLY,
        ticket=ticket,
        people=[ticket.requester, *watchers],
        skip_user_id=comment.author_id,
        context=context,
    )


def status_changed(*, event_id: uuid.UUID, payload: dict[str, Any]) -> list[OutboundMessage]:
    new = payload.get("new_status")
    if payload.get("cause") == "major_incident_resolved":
        return []  # incident.resolved_by_major tells the requester, with the parent's number
    if new == "on_hold" and payload.get("hold_reason") == "awaiting_requester":
        key = TemplateKey.STATUS_ON_HOLD
    elif new == "resolved":
        key = TemplateKey.STATUS_RESOLVED
    elif new == "closed":
        key = TemplateKey.STATUS_CLOSED
    else:
        return []
    ticket = _ticket(payload["ticket_id"])
    if ticket is None:
        return []
    context: dict[str, Any] = {}
    if key == TemplateKey.STATUS_RESOLVED and outbound.wants_email(ticket.requester, key):
        context = _survey_context(ticket, event_id)
    return _send(
        event_id=event_id,
        key=key,
        ticket=ticket,
        people=[ticket.requester],
        skip_user_id=payload.get("actor_id"),
        context=context,
    )


def resolved_by_major(*, event_id: uuid.UUID, payload: dict[str, Any]) -> list[OutboundMessage]:
    ticket = _ticket(payload["ticket_id"])
    if ticket is None:
        return []
    context = {
        # Named only to a requester who may see the major incident (another organisation's
        # or the provider's own is not theirs to see).
        "parent_reference": reference_for(
            ticket.requester, payload.get("parent_id"), otherwise="a major incident"
        ),
        **_survey_context(ticket, event_id),
    }
    return _send(
        event_id=event_id,
        key=TemplateKey.RESOLVED_BY_MAJOR,
        ticket=ticket,
        people=[ticket.requester],
        context=context,
    )


def _survey_context(ticket: Ticket, event_id: uuid.UUID) -> dict[str, Any]:
    from servio.surveys.services import survey_invite

    invitation = survey_invite(ticket=ticket, event_id=event_id)
    if invitation is None:
        return {}
    return {"survey_url": invitation.url, "survey_days": invitation.valid_days}


def ticket_assigned(*, event_id: uuid.UUID, payload: dict[str, Any]) -> list[OutboundMessage]:
    ticket = _ticket(payload["ticket_id"])
    if ticket is None or not ticket.is_open:
        return []
    return _send(
        event_id=event_id,
        key=TemplateKey.TICKET_ASSIGNED,
        ticket=ticket,
        people=_agents_for(ticket),
        skip_user_id=payload.get("actor_id"),
    )


def sla_threshold(
    *, event_id: uuid.UUID, payload: dict[str, Any], breached: bool
) -> list[OutboundMessage]:
    ticket = _ticket(payload["ticket_id"])
    if ticket is None or not ticket.is_open:
        return []
    people = _agents_for(ticket)
    if ticket.assignee_id is None and ticket.team is not None and ticket.team.lead is not None:
        people = [ticket.team.lead, *people]
    sla = {
        "metric": str(payload.get("metric", "")).replace("_", " "),
        "percent": payload.get("percent"),
        "policy": payload.get("policy", ""),
        # An aware time (or ""): templates show it in each recipient's zone.
        "due_at": _instant(payload.get("due_at")),
    }
    return _send(
        event_id=event_id,
        key=TemplateKey.SLA_BREACHED if breached else TemplateKey.SLA_WARNING,
        ticket=ticket,
        people=people,
        context={"sla": sla},
    )


def _instant(value: Any) -> dt.datetime | str:
    """An ISO 8601 time of an event payload as an aware datetime ('' when absent or unreadable)."""
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def sender_rejected(*, event_id: uuid.UUID, payload: dict[str, Any]) -> list[OutboundMessage]:
    """Tell an unknown sender that their mail was refused (the mailbox's policy)."""
    inbound = (
        InboundMessage.objects.select_related("mailbox").filter(pk=payload["inbound_id"]).first()
    )
    if inbound is None or inbound.suppress_autoresponse or not inbound.from_address:
        return []
    message = outbound.queue(
        event_id=event_id,
        key=TemplateKey.SENDER_REJECTED,
        recipient_email=inbound.from_address,
        recipient=None,
        ticket=None,
        context={"original_subject": inbound.subject or "your message"},
        in_reply_to=f"<{inbound.message_id}>",
        references=[f"<{inbound.message_id}>"],
        mailbox=inbound.mailbox,
    )
    return [message] if message is not None else []
