"""Reads of the agent workspace: queues, the ticket page, its timeline and what changed.

Every read starts from a scoped selector (`tickets.selectors`), so what an agent may not see
never reaches a page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from servio.accounts import scope
from servio.accounts.models import Organization, Team, User
from servio.audit.models import AuditEvent
from servio.core.text import find_terms, render_markdown
from servio.core.workflow import AGENT, Transition, Workflow
from servio.mail.models import UNAUTHENTICATED
from servio.sla.models import SlaClock
from servio.tickets import selectors as ticket_selectors
from servio.tickets import services as ticket_services
from servio.tickets import workflows
from servio.tickets.filters import TicketFilter
from servio.tickets.models import (
    NUMBER_IN_TEXT,
    Attachment,
    Category,
    Comment,
    Level,
    Priority,
    Service,
    Ticket,
    format_number,
    parse_number,
)
from servio.workspace import policies
from servio.workspace.models import CannedResponse, SavedView

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


def saved_views(*, user) -> QuerySet[SavedView]:
    """The agent's own views and those shared with their teams."""
    return SavedView.objects.visible_to(user).select_related("team", "owner")


@dataclass
class SavedViewLists:
    """The agent's own views in their chosen order, then those others shared with them."""

    own: list[SavedView]
    shared: list[SavedView]

    def __iter__(self):
        return iter([*self.own, *self.shared])

    def __contains__(self, view) -> bool:
        return view in self.own or view in self.shared


def saved_view_lists(*, user) -> SavedViewLists:
    """Own views by position, then the ones shared with the agent's teams by team and name;
    each carries `can_change` (whether this agent may rename, re-share or delete it)."""
    views = list(saved_views(user=user))
    for view in views:
        view.can_change = policies.may_change_view(user, view)  # type: ignore[attr-defined]
    own = [v for v in views if v.owner_id == user.pk]
    shared = sorted(
        (v for v in views if v.owner_id != user.pk),
        key=lambda v: (v.team.name if v.team else "", v.name.lower(), v.pk),
    )
    return SavedViewLists(own, shared)


def saved_view_get(*, user, view_id: int) -> SavedView | None:
    return saved_views(user=user).filter(pk=view_id).first()


def canned_responses(*, user) -> QuerySet[CannedResponse]:
    """The canned responses an agent may use: their own, their teams' and everyone's."""
    return CannedResponse.objects.visible_to(user).select_related("team", "owner")


def canned_response_get(*, user, response_id: int) -> CannedResponse | None:
    return canned_responses(user=user).filter(pk=response_id).first()


def canned_response_list(*, user) -> list[CannedResponse]:
    """The responses with `can_change` set for the page that lists and edits them."""
    found = list(canned_responses(user=user))
    for response in found:
        response.can_change = policies.may_change_response(user, response)  # type: ignore[attr-defined]
    return found


# --- the ticket page --------------------------------------------------------------------------


def stamp(ticket: Ticket) -> str:
    """Changes with every edit, transition, comment or attachment (for the refresh poll)."""
    return f"{ticket.version}.{int(ticket.updated_at.timestamp() * 1000)}"


def ticket_stamp(*, user, reference: str) -> str:
    ticket = ticket_selectors.ticket_get(user=user, reference=reference)
    return stamp(ticket)


def transitions_for(ticket: Ticket, user) -> list[dict[str, Any]]:
    """The transitions this user may take now, each with the fields it needs and words for
    them (from the table). A step into a closed state that reaches no goal (cancel) is
    `destructive`; `final` when nothing leads out of its target."""
    workflow = workflows.get(ticket.kind)
    out = []
    for t in ticket_services.allowed_transitions(ticket, user):
        target = workflow.state(t.target)
        out.append(
            {
                "name": t.name,
                "label": t.label,
                "target": t.target,
                "target_label": target.label,
                "destructive": target.abandoned,
                "final": workflow.is_final(t.target),
                "fields": transition_fields(workflow, t),
            }
        )
    return out


def transition_fields(workflow: Workflow, t: Transition) -> list[dict[str, Any]]:
    """The fields a transition takes, with their labels and their choices' labels."""
    return [
        {
            "name": name,
            "label": workflow.label(name),
            "required": name in t.required,
            "choices": [(c, workflow.label(c)) for c in t.choices.get(name, ())],
            "long": name.endswith("notes") or name == "reason",
        }
        for name in t.fields
    ]


def bulk_transitions() -> list[dict[str, Any]]:
    """The status changes agents may ask of many tickets at once, each with the fields it
    needs and words for them (from the tables of every kind; the first table naming a step
    describes it, and each ticket's own table decides when it is applied)."""
    steps: dict[str, dict[str, Any]] = {}
    for workflow in workflows.registered():
        for t in workflow.transitions:
            if AGENT not in t.actors or t.name in steps:
                continue
            target = workflow.state(t.target)
            steps[t.name] = {
                "name": t.name,
                "label": t.label,
                "target_label": target.label,
                "destructive": target.abandoned,
                "final": workflow.is_final(t.target),
                "fields": transition_fields(workflow, t),
            }
    return list(steps.values())


@dataclass
class Assignable:
    """Who tickets may be handed to from the bulk form: the active teams the agent sees and
    the active staff among their members, with the names of their teams."""

    teams: list[Team]
    people: list[User]
    teams_of: dict[int, list[str]]

    def team_named(self, text: str) -> Team | None:
        wanted = (text or "").strip().casefold()
        return next((t for t in self.teams if t.name.casefold() == wanted), None)

    def people_of(self, team: Team | None) -> list[User]:
        """Everyone, or the members of `team`."""
        if team is None:
            return self.people
        return [p for p in self.people if team.name in self.teams_of.get(p.pk, [])]


def assignable(*, user) -> Assignable:
    """Teams and their people in two queries, whatever their number."""
    teams = list(Team.objects.visible_to(user).filter(is_active=True).only("pk", "name"))
    names = {t.pk: t.name for t in teams}
    memberships = (
        Team.members.through.objects.filter(team_id__in=list(names), user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email", "team_id")
    )
    people: dict[int, User] = {}
    teams_of: dict[int, list[str]] = {}
    for m in memberships:
        if not m.user.is_staff_member:
            continue
        people.setdefault(m.user_id, m.user)
        teams_of.setdefault(m.user_id, []).append(names[m.team_id])
    return Assignable(teams, list(people.values()), teams_of)


@dataclass(frozen=True)
class PriorityState:
    """Where a ticket's priority comes from: the impact x urgency matrix, or set by hand
    (then kept when impact or urgency change); `matrix` is what the matrix gives now."""

    priority: int
    overridden: bool
    matrix: int

    @property
    def label(self) -> str:
        return Priority(self.priority).label

    @property
    def matrix_label(self) -> str:
        return Priority(self.matrix).label


def priority_state(ticket: Ticket) -> PriorityState:
    """The ticket's priority and its source (the matrix is a cached configuration read)."""
    matrix = ticket_services.priority_for(ticket.impact, ticket.urgency)
    return PriorityState(ticket.priority, ticket.priority_overridden, matrix)


def status_label(ticket: Ticket) -> str:
    try:
        return workflows.get(ticket.kind).state(ticket.status).label
    except (LookupError, KeyError):
        return ticket.status.replace("_", " ").capitalize()


def links(*, user, ticket: Ticket) -> list[dict[str, Any]]:
    """Links in both directions, to tickets the user may also see (2 queries)."""
    out = []
    for link, other, direction in ticket_selectors.links(user=user, ticket=ticket):
        label = link.get_type_display()
        if direction == "incoming":
            label = {"duplicate_of": "Has duplicate", "caused_by": "Causes"}.get(link.type, label)
        out.append({"id": link.pk, "type": label, "ticket": other})
    return out


def children(*, user, ticket: Ticket) -> list[Ticket]:
    if not ticket.is_major:
        return []
    return list(
        ticket_selectors.ticket_list(
            user=user, filters=TicketFilter.model_validate(dict(parent=ticket.pk))
        ).order_by("number")[:200]
    )


def watchers(*, ticket: Ticket) -> list[User]:
    return [w.user for w in ticket.watchers.select_related("user").order_by("pk")]


def clocks(*, user, ticket: Ticket) -> list[dict[str, Any]]:
    from servio.sla import selectors as sla_selectors

    return [sla_selectors.clock_view(c) for c in _ticket_clocks(user, ticket)]


def _ticket_clocks(user, ticket: Ticket) -> list[SlaClock]:
    from servio.sla import selectors as sla_selectors

    try:
        return list(sla_selectors.ticket_clocks(user=user, ticket=ticket))
    except TypeError:  # the older signature: ticket only (staff see every clock)
        found = list(sla_selectors.ticket_clocks(ticket))  # type: ignore[call-arg]
        if user.is_staff_member:
            return found
        return [c for c in found if c.policy_type == "sla"]


def ticket_links(*, user, texts: list[str]) -> dict[str, str]:
    """The address of each ticket number written in these texts that the user may see (one
    query when the texts name any ticket, none otherwise); the others stay plain text."""
    written = find_terms(texts, NUMBER_IN_TEXT, limit=ticket_selectors.MAX_MENTIONS)
    if not written:
        return {}
    visible = ticket_selectors.visible_numbers(user=user, references=written)
    # The reader's own page of a ticket: the desk's for staff, the portal's for requesters
    # (the portal's conversation is this timeline too).
    page = "workspace:ticket" if user.has_capability("workspace.use") else "portal:ticket"
    prefix = reverse(page, kwargs={"reference": "X"})[:-2]
    links = {}
    for number in visible:
        parsed = parse_number(number)
        if parsed is not None:
            links[number] = f"{prefix}{format_number(*parsed)}/"
    return links


def rendered(text: str, links: dict[str, str]) -> SafeString:
    """User Markdown for the page, with the ticket numbers of `links` as links."""
    return mark_safe(render_markdown(text, links=links, terms=NUMBER_IN_TEXT))  # noqa: S308 - nh3


def description_html(*, user, ticket: Ticket) -> SafeString:
    """The ticket's description for the page, its ticket numbers linked where the user may
    see them."""
    return rendered(ticket.description, ticket_links(user=user, texts=[ticket.description]))


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


def tickets_by_reference(*, user, references: list[str]) -> list[Ticket]:
    """The visible tickets among these numbers (unknown and hidden ones are left out)."""
    from django.db.models import Q

    from servio.tickets.models import parse_number

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


def person_by_email(*, user, email: str) -> User | None:
    if not email:
        return None
    return User.objects.visible_to(user).filter(email__iexact=email, is_active=True).first()


def last_changed_by(*, user, ticket: Ticket) -> str:
    """Who made the latest recorded change the user may see (for the refresh notice)."""
    event = (
        ticket_selectors.history(user=user, ticket=ticket)
        .select_related("actor")
        .order_by("-pk")
        .first()
    )
    return _actor_name(event) if event else ""
