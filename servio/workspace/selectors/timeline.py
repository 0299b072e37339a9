"""Reads of a ticket's history: its timeline (replies, notes, files, steps and field changes)
and what changed since the version an agent saw (conflicts, the refresh notice)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, QuerySet

from servio.accounts.models import Organization, Team, User
from servio.audit.models import AuditEvent
from servio.mail.models import UNAUTHENTICATED
from servio.tickets import selectors as ticket_selectors
from servio.tickets import workflows
from servio.tickets.models import (
    Attachment,
    Category,
    Comment,
    Level,
    Priority,
    Service,
    Ticket,
)
from servio.workspace.selectors.ticket import rendered, ticket_links

# Audit actions that moved the ticket to a new version (one version per event, in order).
NON_VERSION_ACTIONS = frozenset(
    {
        "ticket.commented",
        "ticket.attached",
        "ticket.linked",
        "ticket.unlinked",
        "ticket.watcher_added",
        "ticket.watcher_removed",
    }
)
FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "service": "Service",
    "category": "Category",
    "impact": "Impact",
    "urgency": "Urgency",
    "priority": "Priority",
    "priority_overridden": "Priority overridden",
    "status": "Status",
    "hold_reason": "Hold reason",
    "resolution_code": "Resolution code",
    "resolution_notes": "Resolution notes",
    "team": "Team",
    "assignee": "Assignee",
    "is_major": "Major incident",
    "parent": "Parent",
    "requester": "Requester",
    "organization": "Organisation",
    "reason": "Reason",
}
FK_MODELS = {
    "team": Team,
    "assignee": User,
    "requester": User,
    "service": Service,
    "category": Category,
    "organization": Organization,
    "parent": Ticket,
}
HIDDEN_HISTORY_FIELDS = frozenset({"description", "priority_overridden"})
# Shown by the timeline in their own place, not as a change of value.
TIMELINE_OWN_PLACE = frozenset({"reason"})


@dataclass
class TimelineEntry:
    kind: str  # reply, note, event
    at: dt.datetime
    actor: str
    html: str = ""
    title: str = ""
    changes: list[dict[str, str]] = field(default_factory=list)
    attachments: list[Any] = field(default_factory=list)
    internal: bool = False
    source: str = ""
    unauthenticated: bool = False  # came by email that was checked and not authenticated
    by_staff: bool = False  # the actor works for the provider (the portal names them its way)
    first_name: str = ""  # the actor's first name, when they have a name (never the email)
    reason: str = ""  # why a step was taken (a cancellation says why)


def _names(events: list[AuditEvent], user) -> dict[str, dict[Any, str]]:
    """Display names of the records history refers to by id (one query per kind of record);
    a ticket the reader may not see is not named (another organisation's major incident)."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        for name, values in (event.changes or {}).items():
            if name in FK_MODELS and isinstance(values, list):
                wanted.setdefault(name, set()).update(v for v in values if isinstance(v, int))
    by_model: dict[type, set[int]] = {}
    for name, ids in wanted.items():
        by_model.setdefault(FK_MODELS[name], set()).update(ids)
    names: dict[type, dict[int, str]] = {}
    for model, ids in by_model.items():
        if model is Ticket:
            visible = Ticket.objects.visible_to(user).filter(pk__in=ids)
            found = {t.pk: t.reference for t in visible.only("kind", "number")}
            names[model] = {pk: found.get(pk, ticket_selectors.HIDDEN) for pk in ids}
        elif model is User:
            names[model] = {
                u["pk"]: u["full_name"] or u["email"]
                for u in User.objects.filter(pk__in=ids).values("pk", "full_name", "email")
            }
        elif model is Category:
            names[model] = dict(Category.objects.filter(pk__in=ids).values_list("pk", "path"))
        else:
            manager: Any = model._default_manager  # type: ignore[attr-defined]
            names[model] = dict(manager.filter(pk__in=ids).values_list("pk", "name"))
    return {name: names.get(model, {}) for name, model in FK_MODELS.items()}


def display_value(name: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    if value in (None, ""):
        return "—"
    if name in FK_MODELS:
        return names.get(name, {}).get(value, f"#{value}")
    if name in ("impact", "urgency"):
        return Level(value).label if value in Level.values else str(value)
    if name == "priority":
        return Priority(value).label if value in Priority.values else str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "status":
        return _state_label(str(value))
    return str(value).replace("_", " ") if name == "hold_reason" else str(value)


def _state_label(status: str) -> str:
    for kind in ("incident", "request", "problem", "change", "task"):
        try:
            return workflows.get(kind).state(status).label
        except (LookupError, KeyError):
            continue
    return status.replace("_", " ").capitalize()


def _event_changes(event: AuditEvent, names) -> list[dict[str, str]]:
    out = []
    for name, values in (event.changes or {}).items():
        if name in HIDDEN_HISTORY_FIELDS or name in TIMELINE_OWN_PLACE or name not in FIELD_LABELS:
            continue
        if not isinstance(values, list) or len(values) != 2:
            continue
        out.append(
            {
                "field": FIELD_LABELS[name],
                "old": display_value(name, values[0], names),
                "new": display_value(name, values[1], names),
            }
        )
    return out


TRANSITION_TITLES = {
    "start": "started work",
    "hold": "put the ticket on hold",
    "resume": "resumed work",
    "resolve": "resolved the ticket",
    "reopen": "reopened the ticket",
    "close": "closed the ticket",
    "cancel": "cancelled the ticket",
}
EVENT_TITLES = {
    "ticket.created": "created the ticket",
    "ticket.updated": "changed",
    "ticket.assigned": "assigned",
    "ticket.parent_set": "set the parent",
    "ticket.linked": "linked",
    "ticket.unlinked": "removed a link",
    "ticket.watcher_added": "added a watcher",
    "ticket.watcher_removed": "removed a watcher",
}


def _of_ticket(model, user, ticket: Ticket) -> QuerySet:
    """Comments or attachments of a ticket that came from a scoped read (`ticket_get`), with
    the same rule as their `visible_to`: internal ones for staff only. Filtering by the ticket
    alone spares re-deriving the user's visibility three times per page."""
    qs = model.objects.filter(ticket=ticket)
    if not user.has_capability("ticket.internal_note"):
        qs = qs.filter(is_internal=False)
    return qs


def timeline(*, user, ticket: Ticket, limit: int = 300) -> list[TimelineEntry]:
    """Replies, notes (staff only), attachments, status changes and field history, in order.

    A fixed number of queries whatever the length of the conversation.
    """
    comments = list(
        _of_ticket(Comment, user, ticket)
        .select_related("author")
        .annotate(mail_authentication=F("inbound_message__authentication"))
        .order_by("-pk")[:limit]
    )
    files = list(
        _of_ticket(Attachment, user, ticket).select_related("uploaded_by").order_by("-pk")[:limit]
    )
    events = list(
        ticket_selectors.history(user=user, ticket=ticket)
        .exclude(action__in=("ticket.commented", "ticket.attached"))
        .select_related("actor")
        .order_by("-pk")[:limit]
    )
    names = _names(events, user)
    links = ticket_links(user=user, texts=[c.body for c in comments])
    by_comment: dict[int, list[Any]] = {}
    loose = []
    for f in files:
        if f.comment_id:
            by_comment.setdefault(f.comment_id, []).append(f)
        else:
            loose.append(f)
    entries = []
    for c in comments:
        entries.append(
            TimelineEntry(
                kind="note" if c.is_internal else "reply",
                at=c.created_at,
                actor=c.author.get_full_name(),
                **_who(c.author),
                html=rendered(c.body, links),
                attachments=by_comment.get(c.pk, []),
                internal=c.is_internal,
                source=c.source,
                unauthenticated=c.mail_authentication in UNAUTHENTICATED,
            )
        )
    for f in loose:
        entries.append(
            TimelineEntry(
                kind="file",
                at=f.created_at,
                actor=f.uploaded_by.get_full_name(),
                **_who(f.uploaded_by),
                title="attached a file",
                attachments=[f],
                internal=f.is_internal,
            )
        )
    for e in events:
        action = e.action
        if action.startswith("ticket.") and action not in EVENT_TITLES:
            name = action.split(".", 1)[1]
            title = TRANSITION_TITLES.get(name, name.replace("_", " "))
            kind = "status"
        else:
            title = EVENT_TITLES.get(action, action)
            kind = "event"
        reason = (e.changes or {}).get("reason")
        reason = str(reason[1] or "") if isinstance(reason, list) and len(reason) == 2 else ""
        entries.append(
            TimelineEntry(
                kind=kind,
                at=e.at,
                actor=_actor_name(e),
                **_who(e.actor if "actor" in e._state.fields_cache else None),
                title=title,
                changes=[] if action == "ticket.created" else _event_changes(e, names),
                reason=reason,
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return entries


def first_name(person: User) -> str:
    """A person's first name, never their email address ("" when they have no name)."""
    full = (person.full_name or "").strip()
    return full.split()[0] if full else ""


def _who(person: User | None) -> dict[str, Any]:
    """Whether the actor is staff, and their first name (for pages that show only that)."""
    if person is None:
        return {}
    return {"by_staff": person.is_staff_member, "first_name": first_name(person)}


def _actor_name(event: AuditEvent) -> str:
    """The actor's name when the event was loaded with it, else the recorded address."""
    actor = event.actor if "actor" in event._state.fields_cache else None
    if actor is not None:
        return actor.get_full_name()
    return event.actor_repr if event.actor_id or event.actor_repr != "system" else "Servio"


def changes_since(*, user, ticket: Ticket, version: int) -> list[dict[str, str]]:
    """What changed after `version`: per field, the value now and who changed it last.

    Each audited edit, assignment or transition produced exactly one new version, so the
    events after the first `version` of them are the ones the agent has not seen.
    """
    events = [
        e
        for e in ticket_selectors.history(user=user, ticket=ticket)
        .select_related("actor")
        .order_by("pk")
        if e.action not in NON_VERSION_ACTIONS
    ][max(version, 0) :]
    names = _names(events, user)
    latest: dict[str, dict[str, str]] = {}
    for e in events:
        for name, values in (e.changes or {}).items():
            if name not in FIELD_LABELS or name in HIDDEN_HISTORY_FIELDS:
                continue
            if not isinstance(values, list) or len(values) != 2:
                continue
            entry = latest.setdefault(
                name, {"field": FIELD_LABELS[name], "was": display_value(name, values[0], names)}
            )
            entry.update(
                now=display_value(name, values[1], names),
                by=_actor_name(e),
                at=e.at.isoformat(),
            )
    return list(latest.values())


def last_changed_by(*, user, ticket: Ticket) -> str:
    """Who made the latest recorded change the user may see (for the refresh notice)."""
    event = (
        ticket_selectors.history(user=user, ticket=ticket)
        .select_related("actor")
        .order_by("-pk")
        .first()
    )
    return _actor_name(event) if event else ""
