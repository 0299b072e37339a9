"""Creating tickets, changing their fields and assigning them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from servio.accounts.models import Team, User
from servio.audit.services import audit_atomic, diff, snapshot
from servio.core import configcache, outbox, restrictions
from servio.core.errors import (
    ValidationFailed,
)
from servio.tickets import hooks, inputs, numbering, policies, tenancy, workflows
from servio.tickets.models import (
    Category,
    Kind,
    Level,
    Service,
    Ticket,
)
from servio.tickets.services.common import (
    KINDS,
    MAX_TEXT,
    MAX_TITLE,
    SOURCES,
    TRACKED_FIELDS,
    _event,
    _lock,
    _pk_of,
    _require_unfinished,
    _touch,
    audit_ticket,
    priority_for,
)

_ORGANIZATION = User._meta.get_field("organization")
# What every creation sets (the check names the optional fields when they are given).
CREATION_FIELDS = ("kind", "title", "impact", "urgency", "source")

# --- create and update ------------------------------------------------------------------------


@configcache.pinned()  # one configuration token for the inputs, the matrix and the SLA
def ticket_create(
    *,
    actor: User | None,
    kind: str = Kind.INCIDENT,
    title: str,
    description: str = "",
    requester: User | int | None = None,
    service: Service | int | None = None,
    category: Category | int | None = None,
    impact: int = Level.LOW,
    urgency: int = Level.LOW,
    priority: int | None = None,
    team: Team | int | None = None,
    assignee: User | int | None = None,
    source: str = Ticket.Source.PORTAL,
    is_major: bool = False,
    parent: Ticket | str | None = None,
) -> Ticket:
    """Log a new ticket; requesters log for themselves, agents may log on someone's behalf."""
    if kind not in KINDS:
        raise ValidationFailed.field("kind", f"must be one of: {', '.join(KINDS)}.")
    if source not in SOURCES:
        raise ValidationFailed.field("source", f"must be one of: {', '.join(SOURCES)}.")
    given = {
        "requester": requester is not None and _pk_of(requester) != _pk_of(actor),
        "team": team is not None,
        "assignee": assignee is not None,
        "priority": priority is not None,
        "is_major": bool(is_major),
        "parent": parent is not None,
    }
    policies.check_create(actor, kind=kind, fields={k for k, v in given.items() if v})
    requester_obj = inputs.person(requester, "requester", actor) if given["requester"] else actor
    if requester_obj is None:
        raise ValidationFailed.field("requester", "is required.")
    if requester_obj.organization_id is None:
        raise ValidationFailed.field(
            "requester", f"{requester_obj} belongs to no organisation; an admin must set one."
        )
    title = inputs.text("title", title, required=True, limit=MAX_TITLE)
    description = inputs.text("description", description, required=False, limit=MAX_TEXT)
    impact, urgency = inputs.level("impact", impact), inputs.level("urgency", urgency)
    service_obj = inputs.active(Service, "service", service)
    category_obj = inputs.active(Category, "category", category)
    if priority is not None:
        priority = inputs.priority(priority)
    team_obj = inputs.team(team)
    assignee_obj = inputs.person(assignee, "assignee", actor)
    inputs.check_assignment(team_obj, assignee_obj)
    _check_attachable(team_obj, assignee_obj, requester_obj.organization_id)
    if is_major and kind != Kind.INCIDENT:
        raise ValidationFailed.field("is_major", "Only incidents can be major.")
    parent_obj = inputs.ticket(parent, "parent", actor)
    if parent_obj is not None:
        inputs.check_parent(parent=parent_obj, child=None, child_kind=kind)
        if is_major:
            raise ValidationFailed.field(
                "is_major", "A major incident cannot be the child of another incident."
            )
    now = timezone.now()
    computed = priority_for(impact, urgency)
    ticket = Ticket(
        kind=kind,
        title=title,
        description=description,
        requester=requester_obj,
        organization_id=requester_obj.organization_id,
        service=service_obj,
        category=category_obj,
        impact=impact,
        urgency=urgency,
        priority=priority if priority is not None else computed,
        priority_overridden=priority is not None and priority != computed,
        status=workflows.get(kind).initial,
        team=team_obj,
        assignee=assignee_obj,
        source=source,
        is_major=bool(is_major),
        parent=parent_obj,
        created_at=now,
        updated_at=now,
    )
    # Already loaded (e.g. with the API token)? Then the response needs no query for it.
    if _ORGANIZATION.is_cached(requester_obj) and requester_obj.organization is not None:
        ticket.organization = requester_obj.organization
    chosen = {"description": description, "service": service_obj, "category": category_obj}
    restrictions.check_writable(
        actor=actor,
        record=ticket,
        fields=[
            *CREATION_FIELDS,
            *(name for name, set_ in given.items() if set_),
            *(name for name, value in chosen.items() if value),
        ],
    )
    # No savepoint of its own: nothing in the block raises a domain error, and a caller that
    # wants to survive a database error wraps the call in its own atomic() (the email intake).
    with audit_atomic(savepoint=False):
        ticket.number = numbering.next_number(kind)
        ticket.save(force_insert=True)
        hooks.ticket_changed(ticket, created=True)
        audit_ticket(
            ticket,
            actor=actor,
            action="ticket.created",
            changes={k: [None, v] for k, v in snapshot(ticket, TRACKED_FIELDS).items() if v},
        )
        outbox.publish(
            "ticket.created",
            _event(
                ticket,
                requester_id=requester_obj.pk,
                team_id=ticket.team_id,
                assignee_id=ticket.assignee_id,
                source=source,
            ),
        )
    return ticket


def ticket_update(
    *, actor: User | None, ticket: Ticket, version: int | None, changes: dict[str, Any]
) -> Ticket:
    """Change fields, based on the version the client saw; a stale version changes nothing.

    `changes` may hold title, description, service, category, impact, urgency, priority
    (None goes back to the matrix), is_major, requester, parent, team and assignee. Changing
    the team alone keeps the assignee only if they belong to the new team.
    """
    if not changes:
        return ticket
    with audit_atomic():
        locked = _lock(ticket, version)
        _require_unfinished(locked)
        policies.check_editable_fields(locked, actor, set(changes))
        restrictions.check_writable(actor=actor, record=locked, fields=changes)
        before = snapshot(locked, TRACKED_FIELDS)
        _apply_field_changes(locked, actor, changes)
        assigned = False
        if "team" in changes or "assignee" in changes:
            team = inputs.team(changes["team"]) if "team" in changes else locked.team
            if "assignee" in changes:
                assignee = inputs.person(changes["assignee"], "assignee", actor)
            elif team is not None and locked.assignee_id in _member_ids(team):
                assignee = locked.assignee
            else:
                assignee = None
            inputs.check_assignment(team, assignee)
            _check_attachable(team, assignee, locked.organization_id)
            assigned = _apply_assignment(locked, team, assignee)
        changed = diff(before, snapshot(locked, TRACKED_FIELDS))
        if not changed:
            return locked
        _touch(locked)
        locked.save()
        hooks.ticket_changed(locked)
        audit_ticket(
            locked,
            actor=actor,
            action="ticket.updated",
            changes=changed,
        )
        outbox.publish("ticket.updated", _event(locked, fields=sorted(changed)))
        if assigned:
            outbox.publish("ticket.assigned", _assignment_event(locked, actor))
    return locked


def _check_attachable(team: Team | None, assignee: User | None, organization_id: int) -> None:
    """The team and assignee must already work with the ticket's organisation (decision 16)."""
    tenancy.require_team(team, organization_id)
    tenancy.require_person(assignee, organization_id, field="assignee")


def _member_ids(team: Team) -> set[int]:
    return set(team.members.values_list("pk", flat=True))


def _apply_field_changes(ticket: Ticket, actor: User | None, changes: dict[str, Any]) -> None:
    """Validate and set every field but the assignment, then check they fit together."""
    if "requester" in changes:
        requester = inputs.person(changes["requester"], "requester", actor)
        if requester is None or requester.organization_id is None:
            raise ValidationFailed.field("requester", "must be a person of an organisation.")
        tenancy.require_same_organization(requester, ticket.organization_id, field="requester")
        ticket.requester = requester
    if "title" in changes:
        ticket.title = inputs.text("title", changes["title"], required=True, limit=MAX_TITLE)
    if "description" in changes:
        ticket.description = inputs.text(
            "description", changes["description"], required=False, limit=MAX_TEXT
        )
    if "service" in changes:
        ticket.service = inputs.active(Service, "service", changes["service"])
    if "category" in changes:
        ticket.category = inputs.active(Category, "category", changes["category"])
    for name in ("impact", "urgency"):
        if name in changes:
            setattr(ticket, name, inputs.level(name, changes[name]))
    if "is_major" in changes:
        ticket.is_major = bool(changes["is_major"])
    if "parent" in changes:
        parent = inputs.ticket(changes["parent"], "parent", actor)
        if parent is not None:
            inputs.check_parent(parent=parent, child=ticket, child_kind=ticket.kind)
        ticket.parent = parent
    if "is_major" in changes:
        if ticket.is_major and ticket.kind != Kind.INCIDENT:
            raise ValidationFailed.field("is_major", "Only incidents can be major.")
        if ticket.is_major and ticket.parent_id:
            raise ValidationFailed.field(
                "is_major", "A child of a major incident cannot itself be major."
            )
        if not ticket.is_major and ticket.children.exists():
            raise ValidationFailed.field(
                "is_major", "Detach the child incidents before removing the major flag."
            )
    # Priority follows the matrix unless an agent overrides it; None returns to the matrix.
    computed = priority_for(ticket.impact, ticket.urgency)
    if changes.get("priority") is not None:
        ticket.priority = inputs.priority(changes["priority"])
        ticket.priority_overridden = ticket.priority != computed
    elif "priority" in changes or not ticket.priority_overridden:
        ticket.priority, ticket.priority_overridden = computed, False


def _apply_assignment(ticket: Ticket, team: Team | None, assignee: User | None) -> bool:
    """Set team and assignee; a move from one team or person to another is a reassignment."""
    team_id, assignee_id = _pk_of(team), _pk_of(assignee)
    if ticket.team_id == team_id and ticket.assignee_id == assignee_id:
        return False
    if (ticket.team_id and team_id and ticket.team_id != team_id) or (
        ticket.assignee_id and assignee_id and ticket.assignee_id != assignee_id
    ):
        ticket.reassignment_count += 1
    ticket.team, ticket.assignee = team, assignee
    return True


def _assignment_event(ticket: Ticket, actor: User | None) -> dict[str, Any]:
    return _event(
        ticket,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        actor_id=getattr(actor, "pk", None),
    )


def ticket_assign(
    *,
    actor: User | None,
    ticket: Ticket,
    team: Team | int | None,
    assignee: User | int | None,
    version: int | None = None,
) -> Ticket:
    """Give the ticket to a team and optionally one of its members."""
    policies.require_agent(actor, "set: team, assignee")
    team_obj = inputs.team(team)
    assignee_obj = inputs.person(assignee, "assignee", actor)
    inputs.check_assignment(team_obj, assignee_obj)
    with audit_atomic():
        locked = _lock(ticket, version)
        _require_unfinished(locked)
        restrictions.check_writable(actor=actor, record=locked, fields=("team", "assignee"))
        _check_attachable(team_obj, assignee_obj, locked.organization_id)
        before = snapshot(locked, ("team", "assignee"))
        if not _apply_assignment(locked, team_obj, assignee_obj):
            return locked
        _touch(locked)
        locked.save()
        hooks.ticket_changed(locked)
        audit_ticket(
            locked,
            actor=actor,
            action="ticket.assigned",
            changes=diff(before, snapshot(locked, ("team", "assignee"))),
        )
        outbox.publish("ticket.assigned", _assignment_event(locked, actor))
    return locked
