"""Reads of the queues: their tickets page by page, the counts on their links, the breaching
list, and the tickets picked from a queue for a bulk action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from servio.accounts import scope
from servio.sla.models import SlaClock
from servio.tickets import selectors as ticket_selectors
from servio.tickets import workflows
from servio.tickets.filters import TicketFilter
from servio.tickets.models import Ticket, parse_number

PAGE_SIZE = 50
BREACHING_LIMIT = 100
COUNTING = ("running", "breached")

QUEUE_LABELS = {
    "mine": "My work",
    "teams": "My teams",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
    "recent": "Recently updated",
    "all": "All tickets",
}
DEFAULT_SORT = {
    "mine": "priority",
    "teams": "priority",
    "unassigned": "priority",
    "recent": "-updated",
    "all": "-created",
}


@dataclass
class QueuePage:
    queue: str
    label: str
    tickets: list[Ticket]
    next_cursor: str | None
    sort: str
    total: int | None = None  # of a filtered queue, up to COUNT_LIMIT + 1


def annotate_sla(tickets: list[Ticket]) -> None:
    """Set `sla_due_at`, `sla_breached` and `sla_metric` on each ticket from the counting clock
    that falls due first (1 query): the queue names the clock it shows."""
    ids = [t.pk for t in tickets]
    live = SlaClock.objects.filter(ticket_id__in=ids, stopped_at__isnull=True)
    first: dict[int, tuple] = {}
    breached = set()
    for ticket_id, metric, due, state, is_breached in live.values_list(
        "ticket_id", "metric", "due_at", "state", "breached"
    ):
        if is_breached:
            breached.add(ticket_id)
        counting = state in COUNTING and due is not None
        if counting and (ticket_id not in first or due < first[ticket_id][0]):
            first[ticket_id] = (due, metric)
    for t in tickets:
        due, metric = first.get(t.pk, (None, ""))
        setattr(t, "sla_due_at", due)  # noqa: B010 - display-only attributes
        setattr(t, "sla_breached", t.pk in breached)  # noqa: B010
        setattr(t, "sla_metric", metric)  # noqa: B010


SOON = dt.timedelta(hours=1)
# The queues whose links carry a count, and what the count says (for screen readers).
COUNTED = {
    "mine": "open",
    "teams": "open",
    "unassigned": "open",
    "breaching": "due within an hour or overdue",
}


def queue_counts(*, user) -> dict[str, int]:
    """Open tickets of my work, my teams and unassigned, and those of "breaching soon" due
    within the hour or overdue, counted in one grouped query over the agent's visible open
    tickets (the clocks come from their due-time index). Recently updated and all tickets
    are not work lists, so they carry no count."""
    team_ids = scope.team_ids(user)
    due_soon = SlaClock.objects.filter(
        stopped_at__isnull=True, state__in=COUNTING, due_at__lt=timezone.now() + SOON
    ).values("ticket_id")
    return (
        Ticket.objects.visible_to(user)
        .open()
        .aggregate(
            mine=Count("pk", filter=Q(assignee=user)),
            teams=Count("pk", filter=Q(team_id__in=team_ids or [2**62])),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            breaching=Count("pk", filter=Q(pk__in=due_soon)),
        )
    )


def _base_filter(user, queue: str) -> TicketFilter | None:
    if queue == "mine":
        return TicketFilter.model_validate(dict(assignee="me", open=True))
    if queue == "teams":
        team_ids = scope.team_ids(user)
        return TicketFilter.model_validate(dict(team=team_ids or [2**62], open=True))
    if queue == "unassigned":
        return TicketFilter.model_validate(dict(assignee="none", open=True))
    return None


def queue_tickets(*, user, queue: str, filters: TicketFilter) -> QuerySet[Ticket]:
    """A queue's tickets, narrowed by the agent's filters (unordered: the caller pages them)."""
    qs = ticket_selectors.ticket_list(user=user, filters=filters)
    base = _base_filter(user, queue)
    return base.apply(qs, user) if base is not None else qs


# A filtered queue says how many tickets it holds, counted up to this many ("more than").
COUNT_LIMIT = 1000


def queue_total(qs: QuerySet[Ticket]) -> int:
    """The tickets of a queue, counted up to COUNT_LIMIT + 1 (one bounded query)."""
    return qs.select_related(None).order_by()[: COUNT_LIMIT + 1].count()


KEY_FIELDS = ("id", "kind", "number", "priority", "created_at", "updated_at")


def keys_only(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The queue without its joins, for paging: the database orders and cuts the page over
    the ticket table alone (an index walk), then `page_rows` joins only the rows shown."""
    return qs.select_related(None).only(*KEY_FIELDS)


def page_rows(keys: list[Ticket]) -> list[Ticket]:
    """The page's tickets with requester, organisation, team, assignee and service, in the
    page's order, and their SLA due times (3 queries whatever the page size)."""
    found = Ticket.objects.filter(pk__in=[k.pk for k in keys]).select_related(
        *ticket_selectors.LIST_RELATED
    )
    by_pk = {t.pk: t for t in found}
    rows = [by_pk[k.pk] for k in keys if k.pk in by_pk]
    annotate_sla(rows)
    return rows


def breaching_soon(*, user, filters: TicketFilter) -> QueuePage:
    """The "breaching soon" queue: one page, the ticket falling due first on top."""
    return _breaching(user=user, filters=filters)


def _breaching(*, user, filters: TicketFilter) -> QueuePage:
    """Open tickets with a live SLA clock, the one falling due first on top.

    Starts from the clocks' due-time index and keeps the tickets this agent may see, so the
    cost follows the page, not the size of the desk.
    """
    visible = ticket_selectors.ticket_list(user=user, filters=filters).filter(
        status__in=workflows.open_statuses()
    )
    clocks = (
        SlaClock.objects.filter(
            stopped_at__isnull=True, state__in=COUNTING, ticket__in=visible.values("pk")
        )
        .order_by("due_at", "pk")
        .values_list("ticket_id", "due_at")[: BREACHING_LIMIT * 3]
    )
    order: dict[int, dt.datetime | None] = {}
    for ticket_id, due in clocks:
        order.setdefault(ticket_id, due)
        if len(order) >= BREACHING_LIMIT:
            break
    tickets = {
        t.pk: t
        for t in Ticket.objects.filter(pk__in=list(order)).select_related(
            *ticket_selectors.LIST_RELATED
        )
    }
    rows = [tickets[pk] for pk in order if pk in tickets]
    annotate_sla(rows)
    return QueuePage("breaching", QUEUE_LABELS["breaching"], rows, None, "sla")


def tickets_by_reference(*, user, references: list[str]) -> list[Ticket]:
    """The visible tickets among these numbers (unknown and hidden ones are left out)."""
    condition = Q()
    for reference in references[:200]:
        parsed = parse_number(reference)
        if parsed:
            condition |= Q(kind=parsed[0], number=parsed[1])
    if not condition:
        return []
    return list(
        Ticket.objects.visible_to(user)
        .filter(condition)
        .select_related(*ticket_selectors.LIST_RELATED)
        .order_by("kind", "number")
    )
