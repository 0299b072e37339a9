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
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from servio.core.files import clean_filename, sniff_content_type
from servio.tickets import hooks, numbering, policies, workflows
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
MAX_TITLE = 200
MAX_TEXT = 100_000
REQUESTER_KINDS = (Kind.INCIDENT, Kind.REQUEST)


# --- helpers ----------------------------------------------------------------------------------


def priority_for(impact: int, urgency: int) -> int:
    """The matrix's priority for this impact and urgency (admins edit the matrix)."""
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).first()
    if rule is not None:
        return rule.priority
    return min(Priority.PLANNING, impact + urgency - 1)


def _level(name: str, value: Any) -> int:
    if value not in Level.values:
        raise ValidationFailed.field(name, "must be 1 (high), 2 (medium) or 3 (low).")
    return int(value)


def _text(name: str, value: Any, *, required: bool, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else None
    if text is None:
        raise ValidationFailed.field(name, "must be text.")
    if required and not text:
        raise ValidationFailed.field(name, "is required.")
    if len(text) > limit:
        raise ValidationFailed.field(name, f"must be at most {limit} characters.")
    return text


def _active(model, pk, name: str):
    if pk is None:
        return None
    obj = model.objects.filter(pk=getattr(pk, "pk", pk)).first()
    if obj is None or not getattr(obj, "is_active", True):
        raise ValidationFailed.field(name, f"No active {model._meta.verbose_name} with id {pk}.")
    return obj


def _check_assignment(team: Team | None, assignee: User | None) -> None:
    if assignee is not None:
        if team is None:
            raise ValidationFailed.field("team", "Choose the team the assignee works in.")
        if not assignee.is_active or not assignee.is_staff_member:
            raise ValidationFailed.field("assignee", "The assignee must be an active agent.")
        if not team.members.filter(pk=assignee.pk).exists():
            raise ValidationFailed.field(
                "assignee", f"{assignee} is not a member of the team {team}."
            )
    if team is not None and not team.is_active:
        raise ValidationFailed.field("team", f"The team {team} is inactive.")


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


def _touch(ticket: Ticket, *, bump: bool = True) -> None:
    ticket.updated_at = timezone.now()
    if bump:
        ticket.version += 1


def _event(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.pk, "reference": ticket.reference, "kind": ticket.kind, **extra}


# --- create and update ------------------------------------------------------------------------


def ticket_create(
    *,
    actor: User | None,
    kind: str = Kind.INCIDENT,
    title: str,
    description: str = "",
    requester: User | None = None,
    service: Service | int | None = None,
    category: Category | int | None = None,
    impact: int = Level.LOW,
    urgency: int = Level.LOW,
    priority: int | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    source: str = Ticket.Source.PORTAL,
    is_major: bool = False,
    parent: Ticket | None = None,
) -> Ticket:
    """Log a new ticket; requesters log for themselves, agents may log on someone's behalf."""
    agent = actor is None or policies.is_agent(actor)
    if kind not in Kind.values:
        raise ValidationFailed.field("kind", f"must be one of: {', '.join(Kind.values)}.")
    if not agent:
        given = {
            "requester": requester is not None and requester != actor,
            "team": team is not None,
            "assignee": assignee is not None,
            "priority": priority is not None,
            "is_major": is_major,
            "parent": parent is not None,
        }
        refused = sorted(name for name, present in given.items() if present)
        if refused:
            raise PermissionDenied(
                f"Only service desk staff may set: {', '.join(refused)}. Leave them out."
            )
        if kind not in REQUESTER_KINDS:
            raise ValidationFailed.field("kind", "Requesters may report incidents or requests.")
        requester = actor
    requester = requester or actor
    if requester is None:
        raise ValidationFailed.field("requester", "is required.")
    if (
        actor is not None
        and agent
        and requester != actor
        and not User.objects.visible_to(actor).filter(pk=requester.pk).exists()
    ):
        raise ValidationFailed.field("requester", "No such person in your organisations.")
    if requester.organization_id is None:
        raise ValidationFailed.field(
            "requester", f"{requester} belongs to no organisation; an admin must set one."
        )
    title = _text("title", title, required=True, limit=MAX_TITLE)
    description = _text("description", description, required=False, limit=MAX_TEXT)
    impact, urgency = _level("impact", impact), _level("urgency", urgency)
    service_obj = _active(Service, service, "service")
    category_obj = _active(Category, category, "category")
    if priority is not None and priority not in Priority.values:
        raise ValidationFailed.field("priority", "must be 1 (critical) to 5 (planning).")
    _check_assignment(team, assignee)
    if parent is not None:
        _check_parent(child_kind=kind, parent=parent, child=None)
    computed = priority_for(impact, urgency)
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket(
            kind=kind,
            title=title,
            description=description,
            requester=requester,
            organization_id=requester.organization_id,
            service=service_obj,
            category=category_obj,
            impact=impact,
            urgency=urgency,
            priority=priority if priority is not None else computed,
            priority_overridden=priority is not None and priority != computed,
            status=workflows.get(kind).initial,
            team=team,
            assignee=assignee,
            source=source,
            is_major=is_major,
            parent=parent,
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
                requester_id=requester.pk,
                team_id=ticket.team_id,
                assignee_id=ticket.assignee_id,
                source=source,
            ),
        )
    return ticket


def ticket_update(
    *, actor: User | None, ticket: Ticket, version: int | None, changes: dict[str, Any]
) -> Ticket:
    """Change fields, based on the version the client saw; a stale version changes nothing."""
    if not changes:
        return ticket
    policies.check_editable_fields(ticket, actor, set(changes))
    with transaction.atomic():
        locked = _lock(ticket, version)
        before = snapshot(locked, TRACKED_FIELDS)
        for name, value in changes.items():
            if name == "title":
                locked.title = _text("title", value, required=True, limit=MAX_TITLE)
            elif name == "description":
                locked.description = _text("description", value, required=False, limit=MAX_TEXT)
            elif name == "service":
                locked.service = _active(Service, value, "service")
            elif name == "category":
                locked.category = _active(Category, value, "category")
            elif name in ("impact", "urgency"):
                setattr(locked, name, _level(name, value))
            elif name == "priority":
                if value is not None and value not in Priority.values:
                    raise ValidationFailed.field(
                        "priority", "must be 1 (critical) to 5 (planning)."
                    )
                locked.priority_overridden = value is not None
            elif name == "is_major":
                if value and locked.kind != Kind.INCIDENT:
                    raise ValidationFailed.field("is_major", "Only incidents can be major.")
                if value and locked.parent_id:
                    raise ValidationFailed.field(
                        "is_major", "A child of a major incident cannot itself be major."
                    )
                locked.is_major = bool(value)
        computed = priority_for(locked.impact, locked.urgency)
        if "priority" in changes and changes["priority"] is not None:
            locked.priority = changes["priority"]
            locked.priority_overridden = changes["priority"] != computed
        elif not locked.priority_overridden or "priority" in changes:
            locked.priority = computed
            locked.priority_overridden = False
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
    return locked


def ticket_assign(
    *,
    actor: User | None,
    ticket: Ticket,
    team: Team | None,
    assignee: User | None,
    version: int | None = None,
) -> Ticket:
    """Give the ticket to a team and optionally one of its members."""
    policies.require_agent(actor, "assign tickets")
    _check_assignment(team, assignee)
    with transaction.atomic():
        locked = _lock(ticket, version)
        if locked.team_id == (team.pk if team else None) and locked.assignee_id == (
            assignee.pk if assignee else None
        ):
            return locked
        before = snapshot(locked, ("team", "assignee"))
        if (locked.team_id and team is not None and locked.team_id != team.pk) or (
            locked.assignee_id and assignee is not None and locked.assignee_id != assignee.pk
        ):
            locked.reassignment_count += 1
        locked.team, locked.assignee = team, assignee
        _touch(locked)
        locked.save()
        hooks.ticket_changed(locked)
        changed = diff(before, snapshot(locked, ("team", "assignee")))
        audit_record(
            actor=actor,
            action="ticket.assigned",
            target=locked,
            object_repr=locked.reference,
            changes=changed,
        )
        outbox.publish(
            "ticket.assigned",
            _event(
                locked,
                team_id=locked.team_id,
                assignee_id=locked.assignee_id,
                actor_id=getattr(actor, "pk", None),
            ),
        )
    return locked


# --- workflow ---------------------------------------------------------------------------------


def allowed_transitions(ticket: Ticket, user: User | None) -> list:
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


def _apply_transition(ticket: Ticket, actor, name: str, values: dict[str, Any]) -> Ticket:
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
        ticket.resolution_notes = _text(
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
    body = _text("body", body, required=True, limit=MAX_TEXT)
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
    if internal and not policies.is_agent(actor):
        raise PermissionDenied("Only service desk staff can add internal attachments.")
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


def link_add(*, actor: User, source: Ticket, target: Ticket, type: str) -> Link:
    """Relate two tickets (duplicate of, caused by, related to)."""
    policies.require_agent(actor, "link tickets")
    if type not in Link.Type.values:
        raise ValidationFailed.field("type", f"must be one of: {', '.join(Link.Type.values)}.")
    if source.pk == target.pk:
        raise ValidationFailed.field("target", "A ticket cannot be linked to itself.")
    if Link.objects.filter(source=source, target=target, type=type).exists():
        raise ValidationFailed.field("target", f"{target.reference} is already linked that way.")
    with transaction.atomic():
        link = Link.objects.create(source=source, target=target, type=type, created_by=actor)
        audit_record(
            actor=actor,
            action="ticket.linked",
            target=source,
            object_repr=source.reference,
            changes={"link": [None, {"type": type, "target": target.reference}]},
        )
        outbox.publish("ticket.linked", _event(source, target_id=target.pk, type=type))
    return link


def link_remove(*, actor: User, link: Link) -> None:
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


def _check_parent(*, child_kind: str, parent: Ticket, child: Ticket | None) -> None:
    if child_kind != Kind.INCIDENT or parent.kind != Kind.INCIDENT:
        raise ValidationFailed.field("parent", "Only incidents can be children of an incident.")
    if not parent.is_major:
        raise ValidationFailed.field("parent", f"{parent.reference} is not a major incident.")
    if not parent.is_open:
        raise ValidationFailed.field("parent", f"{parent.reference} is already {parent.status}.")
    if child is not None and (child.pk == parent.pk or child.is_major):
        raise ValidationFailed.field(
            "parent", "A major incident cannot be the child of another incident."
        )


def ticket_set_parent(
    *, actor: User, ticket: Ticket, parent: Ticket | None, version: int | None = None
) -> Ticket:
    """Make an incident a child of a major incident (or detach it)."""
    policies.require_agent(actor, "group incidents under a major incident")
    if parent is not None:
        _check_parent(child_kind=ticket.kind, parent=parent, child=ticket)
    with transaction.atomic():
        locked = _lock(ticket, version)
        old = locked.parent_id
        if old == (parent.pk if parent else None):
            return locked
        locked.parent = parent
        _touch(locked)
        locked.save()
        audit_record(
            actor=actor,
            action="ticket.parent_set",
            target=locked,
            object_repr=locked.reference,
            changes={"parent": [old, parent.pk if parent else None]},
        )
        outbox.publish("ticket.updated", _event(locked, fields=["parent"]))
    return locked


def watcher_add(*, actor: User, ticket: Ticket, user: User) -> Watcher:
    """Keep someone informed; staff add anyone they can see, requesters their colleagues."""
    if policies.is_agent(actor):
        if not User.objects.visible_to(actor).filter(pk=user.pk).exists():
            raise NotFound("No such person in your organisations.")
    elif user.organization_id != actor.organization_id:
        raise PermissionDenied("You may only add people of your own organisation as watchers.")
    with transaction.atomic():
        watcher, created = Watcher.objects.get_or_create(ticket=ticket, user=user)
        if created:
            audit_record(
                actor=actor,
                action="ticket.watcher_added",
                target=ticket,
                object_repr=ticket.reference,
                changes={"watcher": [None, user.pk]},
            )
    return watcher


def watcher_remove(*, actor: User, ticket: Ticket, user: User) -> None:
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
