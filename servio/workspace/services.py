"""Writes of the agent workspace: saved views, canned responses, and bulk actions on tickets.

Bulk actions call the ticket services once per ticket, each in its own transaction, so one
refusal (a stale or finished ticket, a missing field) is reported for that ticket and the
others still go through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone

from servio.accounts.models import Team, User
from servio.audit.services import audit_atomic, audit_record
from servio.core.errors import DomainError, PermissionDenied, ValidationFailed
from servio.tickets import inputs, workflows
from servio.tickets import services as ticket_services
from servio.tickets.filters import TicketFilter
from servio.tickets.models import Ticket, format_number, parse_number
from servio.tickets.services.common import MAX_TEXT
from servio.tickets.services.transitions import MAX_REASON
from servio.workspace import policies, responses
from servio.workspace.models import CannedResponse, SavedView

QUEUES = ("mine", "teams", "unassigned", "breaching", "recent", "all")
BULK_ACTIONS = ("assign", "assign_me", "transition", "comment")
MAX_BULK = 100


def _share_team(actor: User, team: Team | int | None) -> Team | None:
    """A team to share with: needs the sharing capability and membership (admins: any active
    team). Refusals name the `team` field (422)."""
    if team is None or team == "":
        return None
    if not policies.may_share(actor):
        raise ValidationFailed.field(
            "team", "Only team leads and administrators may share with a team."
        )
    team_id = team.pk if isinstance(team, Team) else team
    found = policies.shareable_teams(actor).filter(pk=team_id).first()
    if found is None:
        raise ValidationFailed.field("team", "You may share only with a team you belong to.")
    return found


def _keep_or_share(actor: User, team: Team | int | None, current: Team | None) -> Team | None:
    """The team after an edit: none, the one it already had (nothing new to check: a lead
    may rename what a member shared), or a new one the actor may share with."""
    if team is None or team == "":
        return None
    if current is not None and (team.pk if isinstance(team, Team) else team) == current.pk:
        return current
    return _share_team(actor, team)


def _clean_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Keep only TicketFilter fields with a value, validated the way the queue reads them."""
    try:
        parsed = TicketFilter(**filters)
    except Exception as exc:  # pydantic's ValidationError: name the first bad field
        raise ValidationFailed.field("filters", f"are not valid: {exc}") from exc
    return parsed.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "Give the view a name.")
    if len(name) > 80:
        raise ValidationFailed.field("name", "must be at most 80 characters.")
    return name


def _clean_queue(queue: str) -> str:
    if queue not in QUEUES:
        raise ValidationFailed.field("queue", f"must be one of: {', '.join(QUEUES)}.")
    return queue


def _require_view_change(actor: User, view: SavedView) -> None:
    policies.require_workspace(actor)
    if not policies.may_change_view(actor, view):
        raise PermissionDenied("Only the owner of this view (or its team's lead) may change it.")


def saved_view_create(
    *,
    actor: User,
    name: str,
    queue: str,
    filters: dict[str, Any],
    team: Team | int | None = None,
) -> SavedView:
    """Save the current queue and filters under a name, private or shared with a team; it goes
    to the end of the owner's list."""
    policies.require_workspace(actor)
    name = _clean_name(name)
    queue = _clean_queue(queue)
    shared = _share_team(actor, team)
    cleaned = _clean_filters(filters)
    last = SavedView.objects.filter(owner=actor).aggregate(last=Max("position"))["last"]
    try:
        with audit_atomic():
            view = SavedView.objects.create(
                name=name,
                owner=actor,
                team=shared,
                queue=queue,
                filters=cleaned,
                position=0 if last is None else last + 1,
            )
            audit_record(
                actor=actor,
                action="workspace.view_saved",
                target=view,
                changes={"filters": [None, cleaned], "team": [None, getattr(shared, "pk", None)]},
            )
    except IntegrityError as exc:
        raise ValidationFailed.field("name", f"You already have a view named '{name}'.") from exc
    return view


def saved_view_update(
    *, actor: User, view: SavedView, name: str, team: Team | int | None
) -> SavedView:
    """Rename a saved view and choose who it is shared with (a team, or nobody)."""
    _require_view_change(actor, view)
    name = _clean_name(name)
    shared = _keep_or_share(actor, team, view.team)
    before = {"name": view.name, "team": view.team_id}
    after = {"name": name, "team": getattr(shared, "pk", None)}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        return view
    try:
        with audit_atomic():
            view.name, view.team = name, shared
            view.save(update_fields=["name", "team"])
            audit_record(actor=actor, action="workspace.view_changed", target=view, changes=changes)
    except IntegrityError as exc:
        view.refresh_from_db()
        raise ValidationFailed.field(
            "name", f"Its owner already has a view named '{name}'."
        ) from exc
    return view


def saved_view_set_filters(
    *, actor: User, view: SavedView, queue: str, filters: dict[str, Any]
) -> SavedView:
    """Replace a saved view's queue and filters with those the agent has applied now."""
    _require_view_change(actor, view)
    queue = _clean_queue(queue)
    cleaned = _clean_filters(filters)
    with audit_atomic():
        changes = {"queue": [view.queue, queue], "filters": [view.filters, cleaned]}
        view.queue, view.filters = queue, cleaned
        view.save(update_fields=["queue", "filters"])
        audit_record(actor=actor, action="workspace.view_changed", target=view, changes=changes)
    return view


def saved_view_move(*, actor: User, view: SavedView, offset: int) -> SavedView:
    """Move one of the agent's own views up (negative offset) or down their list."""
    policies.require_workspace(actor)
    if view.owner_id != actor.pk:
        raise PermissionDenied("You can reorder only your own views.")
    with audit_atomic():
        own = list(
            SavedView.objects.select_for_update()
            .filter(owner=actor)
            .order_by("position", "name", "id")
        )
        old = next(i for i, v in enumerate(own) if v.pk == view.pk)
        new = max(0, min(len(own) - 1, old + offset))
        if new == old:
            return view
        own.insert(new, own.pop(old))
        moved = []
        for position, item in enumerate(own):
            if item.position != position:
                item.position = position
                moved.append(item)
        SavedView.objects.bulk_update(moved, ["position"])
        audit_record(
            actor=actor,
            action="workspace.view_moved",
            target=view,
            changes={"position": [old, new]},
        )
    view.position = new
    return view


def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """Delete a saved view: its owner, or a lead of the team it is shared with."""
    policies.require_workspace(actor)
    if not policies.may_change_view(actor, view):
        raise PermissionDenied("Only the owner of this view may delete it.")
    with audit_atomic():
        audit_record(actor=actor, action="workspace.view_deleted", target=view)
        view.delete()


MAX_RESPONSE = 10000


def _clean_response(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the response a title."
    elif len(title) > 120:
        errors["title"] = "must be at most 120 characters."
    if not body:
        errors["body"] = "Write the text of the response."
    elif len(body) > MAX_RESPONSE:
        errors["body"] = f"must be at most {MAX_RESPONSE} characters."
    else:
        unknown = responses.unknown_variables(body)
        if unknown:
            names = ", ".join(f"{{{{ {n} }}}}" for n in unknown)
            errors["body"] = (
                f"Unknown variable {names}; use one of: "
                + ", ".join(f"{{{{ {n} }}}}" for n in responses.VARIABLES)
                + "."
            )
    if errors:
        raise ValidationFailed(errors)
    return title, body


def _response_audience(
    actor: User,
    team: Team | int | None,
    for_everyone: bool,
    current: CannedResponse | None = None,
) -> tuple[Team | None, bool]:
    """(team, for everyone) of a new response, or of `current` after an edit, once the roles
    are checked: everyone needs an administrator (a response already for everyone stays so);
    a team needs the right to share with it, unless the response already has that team."""
    if for_everyone:
        if current is not None and current.is_global:
            return None, True  # kept as it was (only administrators may change it)
        if team not in (None, ""):
            raise ValidationFailed.field("team", "Choose a team or everyone, not both.")
        if not policies.may_write_global(actor):
            raise ValidationFailed.field(
                "team", "Only administrators keep responses for every agent."
            )
        return None, True
    return _keep_or_share(actor, team, current.team if current is not None else None), False


def canned_response_create(
    *,
    actor: User,
    title: str,
    body: str,
    team: Team | int | None = None,
    for_everyone: bool = False,
) -> CannedResponse:
    """Keep a reply text for reuse: personal, for a team (leads) or for everyone (admins)."""
    policies.require_workspace(actor)
    title, body = _clean_response(title, body)
    shared, everyone = _response_audience(actor, team, for_everyone)
    with audit_atomic():
        response = CannedResponse.objects.create(
            title=title, body=body, owner=actor, team=shared, is_global=everyone
        )
        audit_record(
            actor=actor,
            action="workspace.canned_response_created",
            target=response,
            changes={"team": [None, getattr(shared, "pk", None)], "is_global": [None, everyone]},
        )
    return response


def canned_response_update(
    *,
    actor: User,
    response: CannedResponse,
    title: str,
    body: str,
    team: Team | int | None = None,
    for_everyone: bool = False,
) -> CannedResponse:
    """Change a canned response's title, text or audience."""
    policies.require_workspace(actor)
    if not policies.may_change_response(actor, response):
        raise PermissionDenied("You may not change this response.")
    title, body = _clean_response(title, body)
    shared, everyone = _response_audience(actor, team, for_everyone, response)
    before = {
        "title": response.title,
        "body": response.body,
        "team": response.team_id,
        "is_global": response.is_global,
    }
    after = {
        "title": title,
        "body": body,
        "team": getattr(shared, "pk", None),
        "is_global": everyone,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        return response
    with audit_atomic():
        response.title, response.body = title, body
        response.team, response.is_global = shared, everyone
        response.updated_at = timezone.now()
        response.save()
        audit_record(
            actor=actor,
            action="workspace.canned_response_changed",
            target=response,
            changes=changes,
        )
    return response


def canned_response_delete(*, actor: User, response: CannedResponse) -> None:
    """Delete a canned response (its owner, its team's lead, or an administrator)."""
    policies.require_workspace(actor)
    if not policies.may_change_response(actor, response):
        raise PermissionDenied("Only the owner of this response may delete it.")
    with audit_atomic():
        audit_record(actor=actor, action="workspace.canned_response_deleted", target=response)
        response.delete()


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one ticket of a bulk action, in words."""

    reference: str
    ok: bool
    message: str


def bulk_missing(references: list[str], found: list[Ticket]) -> list[BulkOutcome]:
    """An outcome for each selected number that names no ticket the agent may see (the same
    words for a missing and a hidden one)."""
    seen = {t.reference for t in found}
    wanted = (parse_number(r) for r in references)
    return [
        BulkOutcome(r, False, "no ticket you may see has this number")
        for r in dict.fromkeys(format_number(*n) for n in wanted if n)
        if r not in seen
    ]


def bulk_check(*, actor: User, tickets: list[Ticket], action: str, values: dict[str, Any]) -> None:
    """Everything about a bulk action that does not depend on one ticket's state, checked once
    before any ticket is touched: ValidationFailed naming each field (the team, the transition
    and the fields it requires, the text of a note), so a missing field is said once, beside
    it, and not once per ticket."""
    policies.require_workspace(actor)
    if action not in BULK_ACTIONS:
        raise ValidationFailed.field("action", "Choose what to do with the selected tickets.")
    if not tickets:
        raise ValidationFailed.field("tickets", "Select at least one ticket.")
    if len(tickets) > MAX_BULK:
        raise ValidationFailed.field("tickets", f"Select at most {MAX_BULK} tickets at once.")
    if action == "assign":
        team, assignee = values.get("team"), values.get("assignee")
        if team is None:
            raise ValidationFailed.field("team", "Choose the team the tickets go to.")
        inputs.check_assignment(team, assignee)
    elif action == "transition":
        name = values.get("transition") or ""
        fields = values.get("fields") or {}
        found = False
        tables = {w.name: w for w in map(workflows.get, {t.kind for t in tickets})}
        for workflow in tables.values():
            step = workflow.transition(name)
            if step is not None:
                found = True
                workflow.check_values(step, fields)
        if not found:
            raise ValidationFailed.field("transition", "Choose the status change.")
        if "resolution_notes" in fields:
            inputs.text(
                "resolution_notes", fields["resolution_notes"], required=False, limit=MAX_TEXT
            )
        if "reason" in fields:
            inputs.text("reason", fields["reason"], required=False, limit=MAX_REASON)
    elif action == "comment":
        try:
            inputs.text("body", values.get("body"), required=True, limit=MAX_TEXT)
        except ValidationFailed as exc:
            if not (values.get("body") or "").strip():
                raise ValidationFailed.field("body", "Write the note or reply.") from exc
            raise


def _one(actor: User, ticket: Ticket, action: str, values: dict[str, Any]) -> str:
    if action == "assign_me":
        updated = ticket_assign_to_me(actor=actor, ticket=ticket)
        return f"assigned to you ({updated.team})"
    if action == "assign":
        team, assignee = values["team"], values.get("assignee")
        ticket_services.ticket_assign(actor=actor, ticket=ticket, team=team, assignee=assignee)
        return f"assigned to {team} / {assignee}" if assignee else f"assigned to {team}"
    if action == "transition":
        updated = ticket_services.ticket_transition(
            actor=actor,
            ticket=ticket,
            transition=values["transition"],
            values=values.get("fields") or {},
        )
        return f"now {workflows.get(updated.kind).state(updated.status).label}"
    if action == "comment":
        ticket_services.comment_add(
            actor=actor,
            ticket=ticket,
            body=values.get("body") or "",
            internal=bool(values.get("internal")),
            source=Ticket.Source.AGENT,
        )
        return "internal note added" if values.get("internal") else "reply sent to the requester"
    raise ValidationFailed.field("action", f"must be one of: {', '.join(BULK_ACTIONS)}.")


def tickets_bulk_apply(
    *, actor: User, tickets: list[Ticket], action: str, values: dict[str, Any]
) -> list[BulkOutcome]:
    """Apply one action to many tickets through the ticket services, one outcome per ticket:
    checked once first (`bulk_check`), then applied to each ticket in its own transaction, so
    the tickets that can take it do, and each one that cannot says why."""
    bulk_check(actor=actor, tickets=tickets, action=action, values=values)
    outcomes = []
    for ticket in tickets:
        try:
            message = _one(actor, ticket, action, values)
        except DomainError as exc:
            outcomes.append(BulkOutcome(ticket.reference, False, exc.detail))
        else:
            outcomes.append(BulkOutcome(ticket.reference, True, message))
    return outcomes


def home_team(actor: User) -> Team | None:
    """The team an agent's own work goes to when none is named: their first active team."""
    return actor.teams.filter(is_active=True).order_by("name").first()


def ticket_log_for(
    *, actor: User, requester: User, team: int | None, assign_to_me: bool, **fields: Any
) -> Ticket:
    """Log a ticket for a caller; "assign to me" without a team puts it in the agent's team."""
    policies.require_workspace(actor)
    if assign_to_me and team is None:
        mine = home_team(actor)
        team = mine.pk if mine else None
    return ticket_services.ticket_create(
        actor=actor,
        requester=requester.pk,
        team=team,
        assignee=actor.pk if assign_to_me else None,
        **fields,
    )


def ticket_assign_to_me(*, actor: User, ticket: Ticket, version: int | None = None) -> Ticket:
    """Take the ticket: keep its team when the agent belongs to it, else their first team."""
    policies.require_workspace(actor)
    team = ticket.team
    if team is None or not team.members.filter(pk=actor.pk).exists():
        team = home_team(actor)
    if team is None:
        raise ValidationFailed.field("team", "You belong to no team; ask an administrator.")
    return ticket_services.ticket_assign(
        actor=actor, ticket=ticket, team=team, assignee=actor, version=version
    )
