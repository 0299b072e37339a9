"""Invariants every ticket must satisfy, however it was written (services or bulk load)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from servio.accounts import scope
from servio.accounts.models import Team, User
from servio.accounts.roles import STAFF_ROLES
from servio.audit.models import AuditEvent
from servio.tickets.models import Comment, Ticket, Watcher

FINISHED = ("resolved", "closed")
WORKED = ("in_progress", "on_hold", "resolved", "closed")


def ticket_problems(tickets=None) -> list[str]:
    """Every broken invariant, as 'INC-000001: what is wrong' (empty when all is well)."""
    tickets = list(tickets if tickets is not None else Ticket.objects.all())
    ids = [t.pk for t in tickets]
    users = {u.pk: u for u in User.objects.all()}
    members = {t.pk: set(t.members.values_list("pk", flat=True)) for t in Team.objects.all()}
    events = defaultdict(list)
    for e in AuditEvent.objects.filter(
        object_type="tickets.ticket", object_id__in=[str(i) for i in ids]
    ).order_by("pk"):
        events[int(e.object_id)].append(e)
    watchers = defaultdict(list)
    for ticket_id, user_id in Watcher.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "user_id"
    ):
        watchers[ticket_id].append(user_id)
    comments = defaultdict(dict)
    for c in Comment.objects.filter(ticket_id__in=ids):
        comments[c.ticket_id][c.pk] = c
    by_pk = {t.pk: t for t in tickets}
    now = timezone.now()
    autoclose = timedelta(days=settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS, hours=1)
    problems: list[str] = []
    for t in tickets:
        ref = t.reference

        def bad(message: str, ref=ref) -> None:
            problems.append(f"{ref}: {message}")

        requester = users[t.requester_id]
        if t.organization_id != requester.organization_id:
            bad("organisation is not the requester's")
        # Decision 16: nobody and no team attached who may not see the organisation.
        if t.team_id is not None and not scope.team_serves(t.team_id, t.organization_id):
            bad("team does not serve the organisation")
        if t.assignee_id is not None and not scope.sees_organization(
            users[t.assignee_id], t.organization_id
        ):
            bad("assignee may not see the organisation")
        for watcher_id in watchers[t.pk]:
            if not scope.sees_organization(users[watcher_id], t.organization_id):
                bad("a watcher may not see the organisation")
        if t.assignee_id is not None:
            if t.team_id is None or t.assignee_id not in members[t.team_id]:
                bad("assignee is not a member of the team")
            if users[t.assignee_id].role not in STAFF_ROLES:
                bad("assignee is not staff")
        if (t.status == "on_hold") != bool(t.hold_reason):
            bad(f"hold reason {t.hold_reason!r} with status {t.status}")
        if (t.status in FINISHED) != (t.resolved_at is not None) or (
            (t.status in FINISHED) != bool(t.resolution_code and t.resolution_notes)
        ):
            bad("resolution fields do not match the status")
        if (t.status == "closed") != (t.closed_at is not None):
            bad("closed_at does not match the status")
        if t.status == "resolved" and now - t.resolved_at > autoclose:
            bad("resolved longer than the auto-close window")
        if t.status in WORKED and t.assignee_id is None and t.parent_id is None:
            bad("worked on without an assignee")  # children are resolved by the cascade
        if t.parent_id is not None:
            parent = by_pk.get(t.parent_id) or Ticket.objects.get(pk=t.parent_id)
            if not parent.is_major or t.is_major:
                bad("child of an incident that is not major")
        history = events[t.pk]
        if not history or history[0].action != "ticket.created":
            bad("history does not start with ticket.created")
            continue
        status = "new"
        version = 0
        for e in history:
            if not (t.created_at <= e.at <= now):
                bad(f"event {e.pk} outside the ticket's lifetime")
            if e.action != "ticket.commented":
                version += 1
            change = e.changes.get("status")
            if change and e.action != "ticket.created":
                if change[0] != status:
                    bad(f"event {e.pk} moves from {change[0]} but the ticket was {status}")
                status = change[1]
            if e.action == "ticket.commented":
                comment = comments[t.pk].get(e.changes["comment"][1])
                if comment is None or comment.is_internal != e.changes["internal"][1]:
                    bad(f"event {e.pk} names a missing or different comment")
        if status != t.status:
            bad(f"history ends in {status}, the ticket is {t.status}")
        if version != t.version:
            bad(f"version {t.version}, history says {version}")
        if t.updated_at != history[-1].at:
            bad("updated_at is not the time of the last event")
        public_staff = [
            c.created_at
            for c in comments[t.pk].values()
            if not c.is_internal
            and c.author_id != t.requester_id
            and users[c.author_id].role in STAFF_ROLES
        ]
        if t.first_response_at != (min(public_staff) if public_staff else None):
            bad("first_response_at is not the first public staff reply")
        if len(comments[t.pk]) != sum(1 for e in history if e.action == "ticket.commented"):
            bad("comments and their history events differ")
    return problems
