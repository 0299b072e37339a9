"""Reads of the self-service portal: the requester's tickets, the public conversation, the
survey waiting for an answer. Scoped by the ticket selectors (404 for anything else)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from servio.tickets import selectors as ticket_selectors
from servio.tickets.filters import TicketFilter
from servio.tickets.models import Ticket
from servio.workspace.selectors import TimelineEntry, timeline


def my_tickets(*, user, scope: str) -> tuple[QuerySet[Ticket], list[str]]:
    """The requester's own tickets, or every ticket of their organisation they may see, with
    the order to page them in."""
    filters = TicketFilter.model_validate(dict(sort="-updated"))
    if scope != "organization":
        filters = TicketFilter.model_validate(dict(requester=user.pk, sort="-updated"))
    return ticket_selectors.ticket_list(user=user, filters=filters), filters.ordering()


def conversation(*, user, ticket: Ticket) -> list[TimelineEntry]:
    """Public replies, shared files and status changes: what a requester follows."""
    entries = []
    for entry in timeline(user=user, ticket=ticket):
        if entry.internal:
            continue
        if entry.kind in ("reply", "file"):
            entries.append(entry)
        elif entry.kind == "status" or entry.title == "created the ticket":
            entry.changes = [c for c in entry.changes if c["field"] == "Status"]
            if entry.title == "created the ticket":
                entry.changes = []
            entries.append(entry)
    return entries


def open_survey(*, user, ticket: Ticket):
    """The requester's unanswered, unexpired invitation to rate this ticket, if any."""
    from servio.surveys.models import SurveyInvitation

    if ticket.requester_id != user.pk:
        return None
    return (
        SurveyInvitation.objects.filter(
            ticket=ticket, requester=user, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def my_rating(*, user, ticket: Ticket):
    """The requester's latest answer about this ticket (their own, so no report rights needed)."""
    from servio.surveys.models import SurveyResponse

    return (
        SurveyResponse.objects.filter(ticket=ticket, invitation__requester=user)
        .order_by("-created_at")
        .first()
    )
