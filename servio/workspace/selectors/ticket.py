"""Reads of the ticket page: the steps an agent may take, who tickets may go to, the priority's
source, links, children, watchers, SLA clocks, and ticket numbers written in text as links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from servio.accounts.models import Team, User
from servio.core.text import find_terms, render_markdown
from servio.core.workflow import AGENT, Transition, Workflow
from servio.sla.models import SlaClock
from servio.tickets import selectors as ticket_selectors
from servio.tickets import services as ticket_services
from servio.tickets import workflows
from servio.tickets.filters import TicketFilter
from servio.tickets.models import NUMBER_IN_TEXT, Priority, Ticket, format_number, parse_number


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


def person_by_email(*, user, email: str) -> User | None:
    if not email:
        return None
    return User.objects.visible_to(user).filter(email__iexact=email, is_active=True).first()
