"""Links between tickets, major-incident parents and watchers."""

from __future__ import annotations

from servio.accounts.models import User
from servio.audit.services import audit_atomic
from servio.core import outbox, restrictions
from servio.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from servio.tickets import inputs, policies, tenancy
from servio.tickets.models import (
    Link,
    Ticket,
    Watcher,
    is_visible_to,
)
from servio.tickets.services.common import (
    _event,
    _lock,
    _pk_of,
    _require_unfinished,
    _touch,
    audit_ticket,
)

# --- links, parents and watchers --------------------------------------------------------------

# What the actor chooses when adding (or takes away when removing) a link or a watcher.
LINK_FIELDS = ("source", "target", "type")
WATCHER_FIELDS = ("ticket", "user")


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
    with audit_atomic():
        Ticket.objects.select_for_update().get(pk=source.pk)  # serialise linkers of one ticket
        if Link.objects.filter(source=source, target=target_obj, type=type).exists():
            raise ValidationFailed.field(
                "target", f"{target_obj.reference} is already linked that way."
            )
        link = Link(source=source, target=target_obj, type=type, created_by=actor)
        restrictions.check_writable(actor=actor, record=link, fields=LINK_FIELDS)
        link.save(force_insert=True)
        audit_ticket(
            source,
            actor=actor,
            action="ticket.linked",
            changes={"link": [None, {"type": type, "target": target_obj.reference}]},
        )
        outbox.publish("ticket.linked", _event(source, target_id=target_obj.pk, type=type))
    return link


def link_remove(*, actor: User, link: Link) -> None:
    """Remove a relation between two tickets; both ends must be visible to the actor (a link
    to a ticket they may not see answers like one that does not exist)."""
    policies.require_agent(actor, "unlink tickets")
    if not (is_visible_to(link.source, actor) and is_visible_to(link.target, actor)):
        raise NotFound("No such link on this ticket.")
    restrictions.check_writable(actor=actor, record=link, fields=LINK_FIELDS, deleting=True)
    with audit_atomic():
        audit_ticket(
            link.source,
            actor=actor,
            action="ticket.unlinked",
            changes={"link": [{"type": link.type, "target": link.target.reference}, None]},
        )
        outbox.publish(
            "ticket.unlinked", _event(link.source, target_id=link.target_id, type=link.type)
        )
        link.delete()


def ticket_set_parent(
    *, actor: User | None, ticket: Ticket, parent: Ticket | str | None, version: int | None = None
) -> Ticket:
    """Make an incident a child of a major incident (`parent` may be its number), or detach it."""
    policies.require_agent(actor, "set: parent")
    parent_obj = inputs.ticket(parent, "parent", actor)
    with audit_atomic():
        locked = _lock(ticket, version)
        _require_unfinished(locked)
        if parent_obj is not None:
            inputs.check_parent(parent=parent_obj, child=locked, child_kind=locked.kind)
        old = locked.parent_id
        if old == _pk_of(parent_obj):
            return locked
        restrictions.check_writable(actor=actor, record=locked, fields=("parent",))
        locked.parent = parent_obj
        _touch(locked)
        locked.save()
        audit_ticket(
            locked,
            actor=actor,
            action="ticket.parent_set",
            changes={"parent": [old, _pk_of(parent_obj)]},
        )
        outbox.publish("ticket.updated", _event(locked, fields=["parent"]))
    return locked


def watcher_add(*, actor: User, ticket: Ticket, user: User | int) -> Watcher:
    """Keep someone informed. Staff add people they can see, requesters their colleagues; a
    watcher sees the ticket, so only people who may already see its organisation qualify
    (staff who serve it, its own people; decision 16)."""
    if policies.is_agent(actor):
        people = User.objects.visible_to(actor)
    else:
        people = User.objects.filter(organization_id=actor.organization_id, is_active=True)
    candidate = inputs.lookup(people, "user", user, "person visible to you")
    tenancy.require_person(candidate, ticket.organization_id, field="user", role="watcher")
    restrictions.check_writable(
        actor=actor, record=Watcher(ticket=ticket, user=candidate), fields=WATCHER_FIELDS
    )
    with audit_atomic():
        watcher, created = Watcher.objects.get_or_create(ticket=ticket, user=candidate)
        if created:
            audit_ticket(
                ticket,
                actor=actor,
                action="ticket.watcher_added",
                changes={"watcher": [None, candidate.pk]},
            )
    return watcher


def watcher_remove(*, actor: User, ticket: Ticket, user: User) -> None:
    """Stop informing someone; requesters may remove themselves or watchers of their ticket."""
    if not policies.is_agent(actor) and actor.pk != user.pk and actor.pk != ticket.requester_id:
        raise PermissionDenied("You may only remove yourself as a watcher.")
    restrictions.check_writable(
        actor=actor, record=Watcher(ticket=ticket, user=user), fields=WATCHER_FIELDS, deleting=True
    )
    with audit_atomic():
        deleted, _ = Watcher.objects.filter(ticket=ticket, user=user).delete()
        if deleted:
            audit_ticket(
                ticket,
                actor=actor,
                action="ticket.watcher_removed",
                changes={"watcher": [user.pk, None]},
            )
