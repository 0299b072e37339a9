"""Writing planned tickets: ids and numbers reserved, rows copied, history appended to the chain.

The rows are the ones the services would have written for the same story (see `stories/`);
historical tickets publish no outbox events (their notifications would be years late).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from django.db import transaction

from servio.demo.audit_chain import append_events
from servio.demo.stories import Plan
from servio.demo.tables import TableWriter, reserve_ids
from servio.tickets import numbering
from servio.tickets.models import PREFIX, Comment, Kind, Ticket

TICKET_COLUMNS = (
    "id", "kind", "number", "title", "description", "requester_id", "organization_id",
    "service_id", "category_id", "impact", "urgency", "priority", "priority_overridden", "status",
    "hold_reason", "resolution_code", "resolution_notes", "team_id", "assignee_id", "source",
    "is_major", "parent_id", "created_at", "updated_at", "first_response_at", "resolved_at",
    "closed_at", "reassignment_count", "reopen_count", "version",
)  # fmt: skip
COMMENT_COLUMNS = ("id", "ticket_id", "author_id", "body", "is_internal", "source", "created_at")
PREFIXES = {str(kind): prefix for kind, prefix in PREFIX.items()}


def reference(kind: str, number: int) -> str:
    return f"{PREFIXES[kind]}-{number:06d}"


def write_plans(plans: Sequence[Plan], *, tick: Callable[[int], None] | None = None) -> dict:
    """Write the plans (ordered by creation) and their history in one transaction.

    Returns counts of tickets, comments and audit events written.
    """
    if not plans:
        return {"tickets": 0, "comments": 0, "events": 0}
    with transaction.atomic():
        # Ids and numbers first: numbers rise with creation time within each kind.
        for plan, pk in zip(plans, reserve_ids(Ticket, len(plans)), strict=True):
            plan.id = pk
        counts = Counter(p.kind for p in plans)
        numbers = {kind: iter(numbering.reserve(Kind(kind), n)) for kind, n in counts.items()}
        for plan in plans:
            plan.number = next(numbers[plan.kind])
        refs = {id(p): reference(p.kind, p.number) for p in plans}

        TableWriter(Ticket, TICKET_COLUMNS).write(_ticket_rows(plans))
        if tick:
            tick(len(plans) // 3)

        comment_count = sum(len(p.comments) for p in plans)
        comment_ids = iter(reserve_ids(Comment, comment_count))
        for plan in plans:
            for comment in plan.comments:
                comment.append(next(comment_ids))
        TableWriter(Comment, COMMENT_COLUMNS).write(
            (c[5], plan.id, c[1], c[2], c[3], c[4], c[0]) for plan in plans for c in plan.comments
        )
        if tick:
            tick(len(plans) // 3)

        # History in time order across the batch, so the chain reads chronologically.
        timeline = [
            (event[0], i, j, plan, event)
            for i, plan in enumerate(plans)
            for j, event in enumerate(plan.events)
        ]
        timeline.sort(key=_when)
        append_events(_events(timeline, refs))
        if tick:
            tick(len(plans) - 2 * (len(plans) // 3))
    return {"tickets": len(plans), "comments": comment_count, "events": len(timeline)}


def _when(item):
    return item[0], item[1], item[2]


def _ticket_rows(plans):
    for p in plans:
        yield (
            p.id, p.kind, p.number, p.title, p.description, p.requester_id, p.organization_id,
            p.service_id, p.category_id, p.impact, p.urgency, p.priority, p.priority_overridden,
            p.status, p.hold_reason, p.resolution_code, p.resolution_notes, p.team_id,
            p.assignee_id, p.source, p.is_major, p.parent_id, p.created_at, p.updated_at,
            p.first_response_at, p.resolved_at, p.closed_at, p.reassignment_count,
            p.reopen_count, p.version,
        )  # fmt: skip


def _events(timeline, refs):
    for at, _, _, plan, (_, actor, action, changes, fixup) in timeline:
        if fixup is not None and fixup[1] is not None:
            what, target = fixup
            changes = dict(changes)
            if what == "comment":
                changes["comment"] = [None, plan.comments[target][5]]
            else:
                changes["parent"] = [None, target.id]
        yield (
            at,
            actor.id if actor is not None else None,
            actor.email if actor is not None else "system",
            action,
            "tickets.ticket",
            str(plan.id),
            refs[id(plan)],
            changes,
        )
