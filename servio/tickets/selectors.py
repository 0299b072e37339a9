"""Reads of tickets and their conversation, always scoped by the user."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from servio.accounts.services import get_visible
from servio.api.pagination import Page, page_limit, paginate
from servio.audit.models import AuditEvent
from servio.core.errors import NotFound
from servio.tickets import refs, search
from servio.tickets.filters import TicketFilter
from servio.tickets.models import (
    Attachment,
    Comment,
    Link,
    Ticket,
    Watcher,
    is_visible_to,
    parse_number,
)

LIST_RELATED = ("requester", "organization", "team", "assignee", "service")
# Joined by ticket_get; organisation, team and service come from `refs` (see there).
PEOPLE_AND_TREE = ("requester", "assignee", "category", "parent")


def ticket_list(*, user, filters: TicketFilter) -> QuerySet[Ticket]:
    """Tickets the user may see that match the filters (unordered: the caller pages them)."""
    qs = Ticket.objects.visible_to(user).select_related(*LIST_RELATED)
    return filters.apply(qs, user)


def ticket_page(
    queryset: QuerySet, *, filters: TicketFilter, cursor: str | None, limit: int | None
) -> Page:
    """A page of a ticket list (`ticket_list`, `ticket_summaries` or narrower) in the filters'
    order. A word search is planned for its words and looks for its page among the next
    tickets in a time order first (`TicketFilter.window`; decision 28)."""
    order = filters.ordering()
    if not search.by_words(filters.q):
        return paginate(queryset, order=order, cursor=cursor, limit=limit)
    window = filters.window(page_limit(limit))
    with search.planned_for_the_words():
        return paginate(queryset, order=order, cursor=cursor, limit=limit, window=window)


# What a ticket summary (api.ticket_summary) shows as stored; the rest are references.
SUMMARY_PLAIN = (
    "kind", "title", "status", "priority", "impact", "urgency", "is_major", "created_at",
    "updated_at", "version",
)  # fmt: skip
# The columns of a summary row: the people joined, the other references from refs.
SUMMARY_FIELDS = (
    "id", "number", *SUMMARY_PLAIN,
    "requester_id", "organization_id", "team_id", "assignee_id", "service_id",
    "requester__full_name", "requester__email", "assignee__full_name", "assignee__email",
)  # fmt: skip


def ticket_summaries(*, user, filters: TicketFilter) -> QuerySet:
    """`ticket_list` as rows (dicts) of what a summary shows, for `api.summary_of_row`: a page
    of model instances cost more to build than the query took."""
    qs = ticket_list(user=user, filters=filters).select_related(None)
    return qs.values(*SUMMARY_FIELDS, *qs.query.annotations)  # annotations: sort keys


def ticket_get(*, user, reference: str) -> Ticket:
    """The ticket with this number if the user may see it; NotFound otherwise (same answer)."""
    parsed = parse_number(reference)
    if parsed is None:
        raise _missing(reference, exists=False)
    try:  # (kind, number) is unique
        ticket = Ticket.objects.select_related(*PEOPLE_AND_TREE).get(
            kind=parsed[0], number=parsed[1]
        )
    except Ticket.DoesNotExist:
        # The watcher look-up a hidden ticket costs (`is_visible_to`), done for a missing one
        # too: otherwise the time of a 404 would tell that the ticket exists.
        Watcher.objects.filter(user_id=getattr(user, "pk", None) or 0, ticket_id=0).exists()
        raise _missing(reference, exists=False) from None
    if not is_visible_to(ticket, user):
        raise _missing(reference, exists=True)
    refs.attach([ticket])
    return ticket


def _missing(reference: str, *, exists: bool) -> NotFound:
    """The same 404 for a missing and a hidden ticket; which it was goes to the security log."""
    return NotFound(
        f"No ticket {reference[:40]} is visible to you.",
        hidden=exists,
        object_type="tickets.ticket",
        object_id=reference[:40],
    )


def ticket_reload(ticket: Ticket) -> Ticket:
    """The ticket as stored now, with what `ticket_get` attaches (after a write; no scope check:
    the caller read it through `ticket_get`)."""
    fresh = Ticket.objects.select_related(*PEOPLE_AND_TREE).get(pk=ticket.pk)
    refs.attach([fresh])
    return fresh


def comment_list(*, user, ticket: Ticket) -> QuerySet[Comment]:
    """The ticket's comments this user may read (no internal notes for requesters)."""
    return Comment.objects.visible_to(user).filter(ticket=ticket).select_related("author")


def attachment_list(*, user, ticket: Ticket) -> QuerySet[Attachment]:
    """The ticket's files this user may read (no internal ones for requesters)."""
    return Attachment.objects.visible_to(user).filter(ticket=ticket).select_related("uploaded_by")


def attachment_get(*, user, ticket: Ticket, attachment_id: int) -> Attachment:
    return get_visible(
        Attachment.objects.filter(ticket=ticket).select_related("uploaded_by"),
        user,
        missing="No such attachment on this ticket.",
        pk=attachment_id,
    )


def links(*, user, ticket: Ticket) -> list[tuple[Link, Ticket, str]]:
    """The ticket's links in both directions whose other end the user may also see, as
    (link, other ticket, "outgoing" or "incoming"), oldest first (2 queries)."""
    visible = Ticket.objects.visible_to(user).values("pk")
    outgoing = Link.objects.filter(source=ticket, target__in=visible).select_related("target")
    incoming = Link.objects.filter(target=ticket, source__in=visible).select_related("source")
    return [(link, link.target, "outgoing") for link in outgoing.order_by("pk")] + [
        (link, link.source, "incoming") for link in incoming.order_by("pk")
    ]


def link_get(*, user, ticket: Ticket, link_id: int) -> Link:
    """A link of this ticket (either direction) whose other end the user may also see; a link
    to a ticket they may not see answers like one that does not exist."""
    visible = Ticket.objects.visible_to(user).values("pk")
    link = (
        Link.objects.filter(pk=link_id)
        .filter(Q(source=ticket, target__in=visible) | Q(target=ticket, source__in=visible))
        .select_related("source", "target")
        .first()
    )
    if link is None:
        raise NotFound("No such link on this ticket.")
    return link


def history(*, user, ticket: Ticket) -> QuerySet[AuditEvent]:
    """The ticket's audit events; requesters do not see internal notes or attachments."""
    qs = AuditEvent.objects.filter(object_type="tickets.ticket", object_id=str(ticket.pk))
    if not user.has_capability("ticket.internal_note"):
        # has_key first: a bare exclude() on a JSON key also drops every event without it
        # (the comparison is NULL there), which hid nearly the whole history.
        qs = qs.exclude(Q(changes__has_key="internal") & Q(changes__internal=[None, True]))
    return qs


HIDDEN = "(hidden)"  # what a history shows in place of a record the reader may not see


def visible_parent(*, user, ticket: Ticket) -> Ticket | None:
    """The ticket's parent (major incident) if the user may see it: a child of another
    organisation's major incident must not name it to people who may not see it."""
    if ticket.parent_id is None:
        return None
    parent = ticket.parent
    return parent if parent is not None and is_visible_to(parent, user) else None


def history_changes(*, user, events: list[AuditEvent]) -> dict[int, dict]:
    """Each event's recorded changes (by event id) as this reader may read them: the number of
    a linked ticket or parent they may not see is replaced by HIDDEN (2 queries at most)."""
    pks, numbers = set(), set()
    for event in events:
        for name, values in (event.changes or {}).items():
            if not isinstance(values, list):
                continue
            for value in values:
                if name == "parent" and isinstance(value, int):
                    pks.add(value)
                elif name == "link" and isinstance(value, dict):
                    parsed = parse_number(str(value.get("target", "")))
                    if parsed:
                        numbers.add(parsed)
    visible = Ticket.objects.visible_to(user)
    seen_pks = set(visible.filter(pk__in=pks).values_list("pk", flat=True)) if pks else set()
    seen_numbers: set[tuple[str, int]] = set()
    if numbers:
        condition = Q()
        for kind, number in numbers:
            condition |= Q(kind=kind, number=number)
        seen_numbers = set(visible.filter(condition).values_list("kind", "number"))

    def shown(name: str, value):
        if name == "parent" and isinstance(value, int) and value not in seen_pks:
            return HIDDEN
        if name == "link" and isinstance(value, dict):
            parsed = parse_number(str(value.get("target", "")))
            if parsed and parsed not in seen_numbers:
                return {**value, "target": HIDDEN}
        return value

    out = {}
    for event in events:
        changes = event.changes or {}
        out[event.pk] = {
            name: [shown(name, v) for v in values] if isinstance(values, list) else values
            for name, values in changes.items()
        }
    return out


MAX_MENTIONS = 100  # ticket numbers looked up per rendering; the rest stay plain text


def visible_numbers(*, user, references: list[str]) -> set[str]:
    """Which of these ticket numbers (as written: INC-42, INC-000042) name a ticket the user
    may see, in one query whatever their number. A missing ticket and a hidden one are left
    out alike, by the same query, so the answer and its cost tell them apart for no one."""
    wanted: dict[tuple[str, int], list[str]] = {}
    for written in references[:MAX_MENTIONS]:
        parsed = parse_number(written)
        if parsed is not None:
            wanted.setdefault(parsed, []).append(written)
    if not wanted:
        return set()
    condition = Q()
    for kind, number in wanted:
        condition |= Q(kind=kind, number=number)
    visible = Ticket.objects.visible_to(user, in_one_query=True)
    found = visible.filter(condition).values_list("kind", "number")
    return {written for key in found for written in wanted.get(key, [])}
