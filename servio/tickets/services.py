"""Every write to a ticket: create, update, assign, transition, comment, attach, link, watch.

Each service checks the policy, validates, writes the change and its audit event in one
transaction, and publishes a domain event through the outbox.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from servio.accounts.models import Team, User
from servio.audit.services import audit_record, diff, snapshot
from servio.core import outbox
from servio.core.errors import (
    Conflict,
    PayloadTooLarge,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from servio.core.files import clean_filename, sniff_content_type
from servio.core.workflow import Transition
from servio.tickets import hooks, inputs, numbering, policies, workflows
from servio.tickets.models import (
    Attachment,
    Category,
    Comment,
    Kind,
    Level,
    Link,
    Priority,
    PriorityRule,
    Service,
    Ticket,
    Watcher,
)

TRACKED_FIELDS = (
    "title", "description", "service", "category", "impact", "urgency", "priority",
    "priority_overridden", "status", "hold_reason", "resolution_code", "resolution_notes",
    "team", "assignee", "is_major", "parent", "requester", "organization",
)  # fmt: skip
MAX_TITLE = inputs.MAX_TITLE
MAX_TEXT = inputs.MAX_TEXT
SOURCES = Ticket.Source.values


# --- helpers ----------------------------------------------------------------------------------


def priority_for(impact: int, urgency: int) -> int:
    """The matrix's priority for this impact and urgency (admins edit the matrix)."""
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).first()
    if rule is not None:
        return rule.priority
    return min(Priority.PLANNING, impact + urgency - 1)


def _lock(ticket: Ticket, version: int | None) -> Ticket:
    """Re-read the ticket under a row lock and refuse a stale version (nothing is overwritten)."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            f"{locked.reference} was changed by someone else (you edited version {version}; "
            f"it is now version {locked.version}). Reload it, then apply your change again.",
            current=locked,
            current_version=locked.version,
        )
    return locked


def _require_unfinished(ticket: Ticket) -> None:
    """Closed and cancelled tickets are the record of what happened: their fields stay put."""
    if workflows.get(ticket.kind).is_final(ticket.status):
        raise Conflict(
            f"{ticket.reference} is {ticket.status}; it can no longer be changed. "
            "Report a new ticket instead.",
            current_status=ticket.status,
        )


def _touch(ticket: Ticket, *, bump: bool = True) -> None:
    ticket.updated_at = timezone.now()
    if bump:
        ticket.version += 1


def _event(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.pk, "reference": ticket.reference, "kind": ticket.kind, **extra}


def _pk_of(value: Any) -> Any:
    return getattr(value, "pk", value)


# --- create and update ------------------------------------------------------------------------


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
    if kind not in Kind.values:
        raise ValidationFailed.field("kind", f"must be one of: {', '.join(Kind.values)}.")
    if source not in Ticket.Source.values:
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
    if is_major and kind != Kind.INCIDENT:
        raise ValidationFailed.field("is_major", "Only incidents can be major.")
    parent_obj = inputs.ticket(parent, "parent", actor)
    if parent_obj is not None:
        inputs.check_parent(parent=parent_obj, child=None, child_kind=kind)
        if is_major:
            raise ValidationFailed.field(
                "is_major", "A major incident cannot be the child of another incident."
            )
    computed = priority_for(impact, urgency)
    now = timezone.now()
    with transaction.atomic():
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
        ticket.number = numbering.next_number(kind)
        ticket.save(force_insert=True)
        hooks.ticket_changed(ticket)
        audit_record(
            actor=actor,
            action="ticket.created",
            target=ticket,
            object_repr=ticket.reference,
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
    with transaction.atomic():
        locked = _lock(ticket, version)
        _require_unfinished(locked)
        policies.check_editable_fields(locked, actor, set(changes))
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
            assigned = _apply_assignment(locked, team, assignee)
        changed = diff(before, snapshot(locked, TRACKED_FIELDS))
        if not changed:
            return locked
        _touch(locked)
        locked.save()
        hooks.ticket_changed(locked)
        audit_record(
            actor=actor,
            action="ticket.updated",
            target=locked,
            object_repr=locked.reference,
            changes=changed,
        )
        outbox.publish("ticket.updated", _event(locked, fields=sorted(changed)))
        if assigned:
            outbox.publish("ticket.assigned", _assignment_event(locked, actor))
    return locked


def _member_ids(team: Team) -> set[int]:
    return set(team.members.values_list("pk", flat=True))


def _apply_field_changes(ticket: Ticket, actor: User | None, changes: dict[str, Any]) -> None:
    """Validate and set every field but the assignment, then check they fit together."""
    if "requester" in changes:
        requester = inputs.person(changes["requester"], "requester", actor)
        if requester is None or requester.organization_id is None:
            raise ValidationFailed.field("requester", "must be a person of an organisation.")
        ticket.requester, ticket.organization_id = requester, requester.organization_id
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
    with transaction.atomic():
        locked = _lock(ticket, version)
        _require_unfinished(locked)
        before = snapshot(locked, ("team", "assignee"))
        if not _apply_assignment(locked, team_obj, assignee_obj):
            return locked
        _touch(locked)
        locked.save()
        hooks.ticket_changed(locked)
        audit_record(
            actor=actor,
            action="ticket.assigned",
            target=locked,
            object_repr=locked.reference,
            changes=diff(before, snapshot(locked, ("team", "assignee"))),
        )
        outbox.publish("ticket.assigned", _assignment_event(locked, actor))
    return locked


# --- workflow ---------------------------------------------------------------------------------


def allowed_transitions(ticket: Ticket, user: User | None) -> list[Transition]:
    """The transitions this user may take on the ticket now (for the API and the UI)."""
    return workflows.get(ticket.kind).allowed(ticket, user, policies.roles_for(ticket, user))


def ticket_transition(
    *,
    actor: User | None,
    ticket: Ticket,
    transition: str,
    values: dict[str, Any] | None = None,
    version: int | None = None,
) -> Ticket:
    """Move the ticket along its workflow; the table says who may and what it needs."""
    values = dict(values or {})
    with transaction.atomic():
        locked = _lock(ticket, version)
        return _apply_transition(locked, actor, transition, values)


def _apply_transition(
    ticket: Ticket, actor: User | None, name: str, values: dict[str, Any]
) -> Ticket:
    """Check the step against the table, then keep the milestones in step with the status:
    resolved_at and the resolution while resolved or closed, closed_at once closed, the hold
    reason only while on hold."""
    workflow = workflows.get(ticket.kind)
    step = workflow.check(ticket, actor, policies.roles_for(ticket, actor), name, values)
    before = snapshot(ticket, TRACKED_FIELDS)
    now = timezone.now()
    old_status = ticket.status
    ticket.status = step.target
    if step.target == "on_hold":
        ticket.hold_reason = values["hold_reason"]
    elif old_status == "on_hold":
        ticket.hold_reason = ""
    if step.target == "resolved":
        ticket.resolution_code = values["resolution_code"]
        ticket.resolution_notes = inputs.text(
            "resolution_notes", values["resolution_notes"], required=True, limit=MAX_TEXT
        )
        ticket.resolved_at = now
    if step.name == "reopen":
        ticket.resolved_at = None
        ticket.resolution_code = ""
        ticket.resolution_notes = ""
        ticket.reopen_count += 1
    if step.target == "closed":
        ticket.closed_at = now
    _touch(ticket)
    ticket.save()
    hooks.ticket_changed(ticket)
    changed = diff(before, snapshot(ticket, TRACKED_FIELDS))
    if reason := values.get("reason"):
        changed["reason"] = [None, str(reason)[:500]]
    audit_record(
        actor=actor,
        action=f"ticket.{step.name}",
        target=ticket,
        object_repr=ticket.reference,
        changes=changed,
    )
    outbox.publish(
        "ticket.status_changed",
        _event(
            ticket,
            transition=step.name,
            old_status=old_status,
            new_status=ticket.status,
            actor_id=getattr(actor, "pk", None),
            requester_id=ticket.requester_id,
            hold_reason=ticket.hold_reason,
            cause=values.get("cause", ""),
        ),
    )
    for hook in workflows.transition_hooks(ticket.kind):
        hook(ticket=ticket, transition=step, actor=actor, values=values)
    return ticket


def transition_as_system(*, ticket: Ticket, transition: str, values: dict[str, Any]) -> Ticket:
    """For cascades and jobs already inside a transaction (the ticket row is locked here)."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    return _apply_transition(locked, None, transition, values)


# --- conversation -----------------------------------------------------------------------------


def comment_add(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    source: str = Ticket.Source.PORTAL,
) -> Comment:
    """Add a public reply or an internal note; replies move the ticket where the desk expects."""
    body = inputs.text("body", body, required=True, limit=MAX_TEXT)
    if source not in Ticket.Source.values:
        raise ValidationFailed.field("source", f"must be one of: {', '.join(SOURCES)}.")
    agent = policies.is_agent(actor)
    if internal and not agent:
        raise PermissionDenied("Only service desk staff can add internal notes.")
    if not ticket.is_open and ticket.status != "resolved" and not agent:
        raise PermissionDenied(
            f"{ticket.reference} is {ticket.status}; report a new ticket instead of replying."
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        comment = Comment.objects.create(
            ticket=locked, author=actor, body=body, is_internal=internal, source=source
        )
        by_requester = actor.pk == locked.requester_id or not agent
        if agent and not internal and not by_requester and locked.first_response_at is None:
            locked.first_response_at = comment.created_at
        _touch(locked, bump=False)
        locked.save(update_fields=["first_response_at", "updated_at"])
        if locked.first_response_at == comment.created_at:
            hooks.ticket_changed(locked)
        audit_record(
            actor=actor,
            action="ticket.commented",
            target=locked,
            object_repr=locked.reference,
            changes={"comment": [None, comment.pk], "internal": [None, internal]},
        )
        outbox.publish(
            "ticket.commented",
            _event(
                locked,
                comment_id=comment.pk,
                internal=internal,
                author_id=actor.pk,
                by_requester=by_requester,
                assignee_id=locked.assignee_id,
                requester_id=locked.requester_id,
            ),
        )
        if by_requester and not agent:
            _requester_replied(locked, actor)
    return comment


def _requester_replied(ticket: Ticket, actor: User) -> None:
    """A reply to a resolved incident reopens it (inside the window); one on hold resumes it."""
    workflow = workflows.get(ticket.kind)
    roles = policies.roles_for(ticket, actor) | {"system"}
    if ticket.status == "resolved":
        step = workflow.transition("reopen")
        if step and not (step.guard and step.guard(ticket, actor)):
            _apply_transition(
                ticket,
                actor if actor.pk == ticket.requester_id else None,
                "reopen",
                {"cause": "requester_reply"},
            )
    elif (
        ticket.status == "on_hold"
        and ticket.hold_reason == "awaiting_requester"
        and any(t.name == "resume" for t in workflow.allowed(ticket, None, roles))
    ):
        _apply_transition(ticket, None, "resume", {"cause": "requester_reply"})


def attachment_add(
    *,
    actor: User,
    ticket: Ticket,
    filename: str,
    content: bytes,
    comment: Comment | None = None,
    internal: bool = False,
) -> Attachment:
    """Store a file on the ticket within the per-file and per-ticket limits."""
    agent = policies.is_agent(actor)
    if internal and not agent:
        raise PermissionDenied("Only service desk staff can add internal attachments.")
    if not agent and workflows.get(ticket.kind).is_final(ticket.status):
        raise PermissionDenied(
            f"{ticket.reference} is {ticket.status}; report a new ticket to send more files."
        )
    if comment is not None and comment.ticket_id != ticket.pk:
        raise ValidationFailed.field("comment", "That comment belongs to another ticket.")
    size = len(content)
    limit = settings.SERVIO_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise PayloadTooLarge(
            f"The file is {size / 1048576:.1f} MB; files may be at most {limit / 1048576:.0f} MB."
        )
    if size == 0:
        raise ValidationFailed.field("file", "The file is empty.")
    name = clean_filename(filename)
    stored_name = ""
    try:
        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            used = locked.attachments.aggregate(total=Sum("size"))["total"] or 0
            total_limit = settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES
            if used + size > total_limit:
                raise PayloadTooLarge(
                    f"{locked.reference} already holds {used / 1048576:.1f} MB of attachments; "
                    f"the limit per ticket is {total_limit / 1048576:.0f} MB."
                )
            attachment = Attachment(
                ticket=locked,
                comment=comment,
                uploaded_by=actor,
                filename=name,
                content_type=sniff_content_type(content[:8192], name),
                size=size,
                sha256=hashlib.sha256(content).hexdigest(),
                is_internal=internal or bool(comment and comment.is_internal),
            )
            attachment.file.save(name, ContentFile(content), save=False)
            stored_name = attachment.file.name or ""
            attachment.save()
            _touch(locked, bump=False)
            locked.save(update_fields=["updated_at"])
            audit_record(
                actor=actor,
                action="ticket.attached",
                target=locked,
                object_repr=locked.reference,
                changes={
                    "attachment": [None, attachment.pk],
                    "filename": [None, name],
                    "size": [None, size],
                    "internal": [None, attachment.is_internal],
                },
            )
            outbox.publish(
                "ticket.attached",
                _event(locked, attachment_id=attachment.pk, internal=attachment.is_internal),
            )
    except Exception:
        if stored_name:  # the row was not written: do not leave the file behind
            Attachment.file.field.storage.delete(stored_name)
        raise
    return attachment


# --- links, parents and watchers --------------------------------------------------------------


def link_add(*, actor: User, source: Ticket, target: Ticket | str, type: str) -> Link:
    """Relate two tickets (duplicate of, caused by, related to); `target` may be its number."""
    policies.require_agent(actor, "link tickets")
    if type not in Link.Type.values:
        raise ValidationFailed.field("type", f"must be one of: {', '.join(Link.Type.values)}.")
    target_obj = inputs.ticket(target, "target", actor)
    if target_obj is None:
        raise ValidationFailed.field("target", "is required.")
    if source.pk == target_obj.pk:
        raise ValidationFailed.field("target", "A ticket cannot be linked to itself.")
    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=source.pk)  # serialise linkers of one ticket
        if Link.objects.filter(source=source, target=target_obj, type=type).exists():
            raise ValidationFailed.field(
                "target", f"{target_obj.reference} is already linked that way."
            )
        link = Link.objects.create(source=source, target=target_obj, type=type, created_by=actor)
        audit_record(
            actor=actor,
            action="ticket.linked",
            target=source,
            object_repr=source.reference,
            changes={"link": [None, {"type": type, "target": target_obj.reference}]},
        )
        outbox.publish("ticket.linked", _event(source, target_id=target_obj.pk, type=type))
    return link


def link_remove(*, actor: User, link: Link) -> None:
    """Remove a relation between two tickets."""
    policies.require_agent(actor, "unlink tickets")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="ticket.unlinked",
            target=link.source,
            object_repr=link.source.reference,
            changes={"link": [{"type": link.type, "target": link.target.reference}, None]},
        )
        link.delete()


def ticket_set_parent(
    *, actor: User | None, ticket: Ticket, parent: Ticket | str | None, version: int | None = None
) -> Ticket:
    """Make an incident a child of a major incident (`parent` may be its number), or detach it."""
    policies.require_agent(actor, "set: parent")
    parent_obj = inputs.ticket(parent, "parent", actor)
    with transaction.atomic():
        locked = _lock(ticket, version)
        _require_unfinished(locked)
        if parent_obj is not None:
            inputs.check_parent(parent=parent_obj, child=locked, child_kind=locked.kind)
        old = locked.parent_id
        if old == _pk_of(parent_obj):
            return locked
        locked.parent = parent_obj
        _touch(locked)
        locked.save()
        audit_record(
            actor=actor,
            action="ticket.parent_set",
            target=locked,
            object_repr=locked.reference,
            changes={"parent": [old, _pk_of(parent_obj)]},
        )
        outbox.publish("ticket.updated", _event(locked, fields=["parent"]))
    return locked


def watcher_add(*, actor: User, ticket: Ticket, user: User | int) -> Watcher:
    """Keep someone informed. Staff add people they can see, requesters their colleagues; a
    watcher sees the ticket, so only staff and people of the ticket's organisation qualify."""
    if policies.is_agent(actor):
        people = User.objects.visible_to(actor)
    else:
        people = User.objects.filter(organization_id=actor.organization_id, is_active=True)
    candidate = inputs.lookup(people, "user", user, "person visible to you")
    if not candidate.is_staff_member and candidate.organization_id != ticket.organization_id:
        raise ValidationFailed.field(
            "user", f"{candidate} is not in {ticket.reference}'s organisation; they may not see it."
        )
    with transaction.atomic():
        watcher, created = Watcher.objects.get_or_create(ticket=ticket, user=candidate)
        if created:
            audit_record(
                actor=actor,
                action="ticket.watcher_added",
                target=ticket,
                object_repr=ticket.reference,
                changes={"watcher": [None, candidate.pk]},
            )
    return watcher


def watcher_remove(*, actor: User, ticket: Ticket, user: User) -> None:
    """Stop informing someone; requesters may remove themselves or watchers of their ticket."""
    if not policies.is_agent(actor) and actor.pk != user.pk and actor.pk != ticket.requester_id:
        raise PermissionDenied("You may only remove yourself as a watcher.")
    with transaction.atomic():
        deleted, _ = Watcher.objects.filter(ticket=ticket, user=user).delete()
        if deleted:
            audit_record(
                actor=actor,
                action="ticket.watcher_removed",
                target=ticket,
                object_repr=ticket.reference,
                changes={"watcher": [user.pk, None]},
            )
