"""Acting on an inbound message once the intake has decided what it is: a new ticket from it,
or a comment on the ticket it answers, with its attachments (within the ticket limits; one that
does not fit is dropped with a note), its Message-ID linked for threading, and colleagues in Cc
as watchers. `Outcome` is what the intake records on the message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from servio.accounts import scope
from servio.accounts.models import User
from servio.core.errors import DomainError
from servio.mail.models import InboundMessage, InboundStatus, ThreadMessage
from servio.mail.parsing import ParsedAttachment, ParsedMessage
from servio.tickets.models import Comment, Ticket
from servio.tickets.services import MAX_TEXT, MAX_TITLE

_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fwd?|aw|wg|sv|vs|tr|rv|antw|odp|ynt|vl)\s*(\[\d+\])?\s*[:\uff1a]\s*)+",
    re.IGNORECASE,
)
_TICKET_TAG = re.compile(r"\[(INC|REQ|PRB|CHG|TSK)-\d{6,}\]\s*", re.IGNORECASE)
TRUNCATED = "\n\n[The message was longer; the full text is kept with the email.]"


@dataclass
class Outcome:
    """What processing decided; applied to the stored message at the end."""

    status: str
    reason: str = ""
    ticket: Ticket | None = None
    comment: Comment | None = None
    sender: User | None = None
    notes: list[str] = field(default_factory=list)


def clean_title(subject: str, body: str) -> str:
    title = _TICKET_TAG.sub("", _SUBJECT_PREFIX.sub("", subject)).strip()
    title = _SUBJECT_PREFIX.sub("", title).strip()
    if not title:
        first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
        title = first_line[:80] or "(no subject)"
    return title[:MAX_TITLE]


def bounded(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - len(TRUNCATED)] + TRUNCATED


def _plan_attachments(
    ticket: Ticket | None, attachments: tuple[ParsedAttachment, ...]
) -> tuple[list[ParsedAttachment], list[str]]:
    """Which attachments fit the per-file and per-ticket limits; a note for each that does not."""
    per_file = settings.SERVIO_ATTACHMENT_MAX_BYTES
    per_ticket = settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES
    if not attachments:
        return [], []
    used = 0
    if ticket is not None:
        used = sum(ticket.attachments.values_list("size", flat=True))
    keep, notes = [], []
    for attachment in attachments:
        size_mb = attachment.size / 1048576
        if attachment.size == 0:
            continue
        if attachment.size > per_file:
            notes.append(
                f"The attachment {attachment.filename} ({size_mb:.1f} MB) was not stored: files "
                f"may be at most {per_file / 1048576:.0f} MB."
            )
        elif used + attachment.size > per_ticket:
            notes.append(
                f"The attachment {attachment.filename} ({size_mb:.1f} MB) was not stored: the "
                f"ticket's attachments may total at most {per_ticket / 1048576:.0f} MB."
            )
        else:
            keep.append(attachment)
            used += attachment.size
    return keep, notes


def _with_notes(body: str, notes: list[str]) -> str:
    if not notes:
        return body
    return body.rstrip() + "\n\n" + "\n".join(f"[{note}]" for note in notes)


def _store_attachments(
    *,
    actor: User,
    ticket: Ticket,
    comment: Comment | None,
    attachments: list[ParsedAttachment],
    notes: list[str],
) -> None:
    from servio.tickets.services import attachment_add

    for attachment in attachments:
        try:
            with transaction.atomic():
                attachment_add(
                    actor=actor,
                    ticket=ticket,
                    filename=attachment.filename,
                    content=attachment.content,
                    comment=comment,
                )
        except DomainError as exc:
            notes.append(f"The attachment {attachment.filename} was not stored: {exc.detail}")


def remember(message: InboundMessage, ticket: Ticket) -> None:
    """Link the message's Message-ID to the ticket, so that replies to it thread there."""
    link = ThreadMessage(
        message_id=message.message_id, ticket=ticket, direction=ThreadMessage.Direction.IN
    )
    # A retried message may already be linked.
    ThreadMessage.objects.bulk_create([link], ignore_conflicts=True)


def add_comment(
    message: InboundMessage, parsed: ParsedMessage, ticket: Ticket, user: User
) -> Outcome:
    from servio.tickets.services import comment_add

    keep, notes = _plan_attachments(ticket, parsed.attachments)
    text = parsed.reply_text.strip() or parsed.text_body.strip()
    if not text:
        text = "(The reply has attachments only.)" if parsed.attachments else "(Empty reply.)"
    comment = comment_add(
        actor=user,
        ticket=ticket,
        body=bounded(_with_notes(text, notes)),
        source=Ticket.Source.EMAIL,
    )
    _store_attachments(actor=user, ticket=ticket, comment=comment, attachments=keep, notes=notes)
    remember(message, ticket)
    return Outcome(
        InboundStatus.COMMENT_ADDED, ticket=ticket, comment=comment, sender=user, notes=notes
    )


def _description(parsed: ParsedMessage) -> str:
    if parsed.forwarded is None:
        return parsed.reply_text.strip() or parsed.text_body.strip()
    text = parsed.text_body.strip()
    forwarded = parsed.forwarded
    if forwarded.kind == "attachment" and forwarded.text.strip():
        sender = f"{forwarded.from_name} <{forwarded.from_address}>".strip()
        text += (
            f"\n\n---------- Forwarded message ----------\nFrom: {sender}\n"
            f"Subject: {forwarded.subject}\n\n{forwarded.text.strip()}"
        )
    return text


def create_ticket(
    message: InboundMessage,
    parsed: ParsedMessage,
    user: User,
    *,
    own: set[str],
    follows: Ticket | None = None,
) -> Outcome:
    """A new ticket from the message, requested by `user` (Cc colleagues become watchers)."""
    from servio.tickets.services import ticket_create

    mailbox = message.mailbox
    keep, notes = _plan_attachments(None, parsed.attachments)
    description = _description(parsed)
    if follows is not None:
        description = (
            f"(Follow-up to {follows.reference}, which is {follows.status}.)\n\n" + description
        )
    team: Any = (
        mailbox.default_team if mailbox.default_team and mailbox.default_team.is_active else None
    )
    if team is not None and not scope.team_serves(team.pk, user.organization_id):
        team = None  # it may not take this organisation's tickets: unassigned (decision 16)
    ticket = ticket_create(
        actor=None,
        kind=mailbox.default_kind,
        title=clean_title(parsed.subject, parsed.text_body),
        description=bounded(_with_notes(description, notes)),
        requester=user,
        team=team,
        source=Ticket.Source.EMAIL,
    )
    _store_attachments(actor=user, ticket=ticket, comment=None, attachments=keep, notes=notes)
    remember(message, ticket)
    _add_cc_watchers(ticket, user, parsed, own)
    return Outcome(InboundStatus.TICKET_CREATED, ticket=ticket, sender=user, notes=notes)


def _add_cc_watchers(ticket: Ticket, requester: User, parsed: ParsedMessage, own: set[str]) -> None:
    """Known colleagues in Cc (same organisation) keep being informed, as a desk expects."""
    from servio.tickets.services import watcher_add

    wanted = [a for a in parsed.cc[:20] if a not in own and a != requester.email]
    if not wanted:
        return
    for colleague in User.objects.filter(
        email__in=wanted, organization_id=requester.organization_id, is_active=True
    ):
        try:
            with transaction.atomic():
                watcher_add(actor=requester, ticket=ticket, user=colleague)
        except DomainError:
            continue
