"""Public replies, internal notes and attachments."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db.models import Sum

from servio.accounts.models import User
from servio.audit.services import audit_atomic
from servio.core import outbox, restrictions, storage
from servio.core.errors import (
    PayloadTooLarge,
    PermissionDenied,
    ValidationFailed,
)
from servio.core.files import clean_filename, sniff_content_type
from servio.tickets import hooks, inputs, policies, workflows
from servio.tickets.models import (
    Attachment,
    Comment,
    Ticket,
)
from servio.tickets.services.common import (
    MAX_TEXT,
    SOURCES,
    _event,
    _touch,
    audit_ticket,
)
from servio.tickets.services.transitions import _apply_transition

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
    if source not in SOURCES:
        raise ValidationFailed.field("source", f"must be one of: {', '.join(SOURCES)}.")
    agent = policies.is_agent(actor)
    if internal and not agent:
        raise PermissionDenied("Only service desk staff can add internal notes.")
    if not ticket.is_open and ticket.status != "resolved" and not agent:
        raise PermissionDenied(
            f"{ticket.reference} is {ticket.status}; report a new ticket instead of replying."
        )
    with audit_atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        comment = Comment(
            ticket=locked, author=actor, body=body, is_internal=internal, source=source
        )
        restrictions.check_writable(actor=actor, record=comment, fields=("body", "is_internal"))
        comment.save(force_insert=True)
        by_requester = actor.pk == locked.requester_id or not agent
        if agent and not internal and not by_requester and locked.first_response_at is None:
            locked.first_response_at = comment.created_at
        _touch(locked, bump=False)
        locked.save(update_fields=["first_response_at", "updated_at"])
        if locked.first_response_at == comment.created_at:
            hooks.ticket_changed(locked)
        audit_ticket(
            locked,
            actor=actor,
            action="ticket.commented",
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
    attachment = Attachment(
        ticket=ticket,
        comment=comment,
        uploaded_by=actor,
        filename=name,
        content_type=sniff_content_type(content[:8192], name),
        size=size,
        sha256=hashlib.sha256(content).hexdigest(),
        is_internal=internal or bool(comment and comment.is_internal),
    )
    restrictions.check_writable(
        actor=actor,
        record=attachment,
        fields=("file", "is_internal", *(("comment",) if comment is not None else ())),
    )
    # The file first, outside the ticket's lock; the row in the transaction; the file is
    # removed if that transaction (or the caller's, around it) does not commit.
    files = Attachment.file.field.storage
    stored = storage.save_new(
        files, attachment.file.field.generate_filename(attachment, name), content
    )
    attachment.file.name = stored
    try:
        with audit_atomic():
            storage.keep_if_committed(files, stored)
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            used = locked.attachments.aggregate(total=Sum("size"))["total"] or 0
            total_limit = settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES
            if used + size > total_limit:
                raise PayloadTooLarge(
                    f"{locked.reference} already holds {used / 1048576:.1f} MB of attachments; "
                    f"the limit per ticket is {total_limit / 1048576:.0f} MB."
                )
            attachment.ticket = locked
            attachment.save()
            _touch(locked, bump=False)
            locked.save(update_fields=["updated_at"])
            audit_ticket(
                locked,
                actor=actor,
                action="ticket.attached",
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
    except BaseException:
        storage.remove(files, stored)  # the row was not written: do not leave the file behind
        raise
    return attachment
