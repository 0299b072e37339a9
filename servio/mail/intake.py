"""Inbound email: store the raw bytes first, then decide what the message is and act on it.

`store` writes the raw message in its own transaction before anything is parsed, keyed by
mailbox and Message-ID so that a second delivery of the same message changes nothing. `process`
parses it and takes exactly one outcome, in this order:

1. not an email at all -> quarantined (the reason says why; an admin can retry it);
2. sent by Servio itself, a bounce or an automatic reply -> ignored (never a ticket, never a reply);
3. no sender, or more than SERVIO_MAIL_RATE_LIMIT messages from the sender within
   SERVIO_MAIL_RATE_WINDOW_MINUTES -> quarantined (this stops mail loops);
4. a reply to a ticket (In-Reply-To/References naming a message we sent or received for it, or
   ``[INC-000123]`` in the subject) -> a public comment when the sender takes part in the ticket
   (requester, watcher, assignee, member of its team), else held for an agent to accept;
5. anything else -> a new ticket (source email). Unknown senders become requesters of the
   organisation whose email domains match, else the mailbox's policy applies (create in its
   default organisation, reject with a reply, or quarantine).

Attachments go through the ticket attachment service with its limits; one that is too large is
dropped with a note in the comment, never the whole message. Any failure of a ticket service
quarantines the message with the reason instead of losing it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from servio.accounts.models import Organization, User
from servio.accounts.roles import Role
from servio.core import outbox
from servio.core.errors import DomainError, ValidationFailed
from servio.mail import headers as hdr
from servio.mail.models import InboundMessage, InboundStatus, Mailbox, ThreadMessage
from servio.mail.parsing import (
    SYNTHETIC_ID_DOMAIN,
    MessageParseError,
    ParsedAttachment,
    ParsedMessage,
    parse_message,
)
from servio.tickets import policies as ticket_policies
from servio.tickets import workflows
from servio.tickets.models import Comment, Ticket, Watcher, parse_number
from servio.tickets.services import MAX_TEXT, MAX_TITLE

log = logging.getLogger(__name__)

REJECTED_TOPIC = "mail.sender_rejected"
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fwd?|aw|wg|sv|vs|tr|rv|antw|odp|ynt|vl)\s*(\[\d+\])?\s*[:\uff1a]\s*)+",
    re.IGNORECASE,
)
_TICKET_TAG = re.compile(r"\[(INC|REQ|PRB|CHG|TSK)-\d{6,}\]\s*", re.IGNORECASE)
PROCESSED_FIELDS = (
    "status", "reason", "ticket", "comment", "sender", "notes", "processed_at", "attempts",
    "from_address", "from_name", "subject", "text_body", "html_body", "is_automatic",
    "suppress_autoresponse",
)  # fmt: skip
TRUNCATED = "\n\n[The message was longer; the full text is kept with the email.]"


def rate_limit() -> int:
    return int(getattr(settings, "SERVIO_MAIL_RATE_LIMIT", 20))


def rate_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SERVIO_MAIL_RATE_WINDOW_MINUTES", 10)))


# --- storing ----------------------------------------------------------------------------------


def peek_message_id(raw: bytes) -> str:
    """The Message-ID without parsing the body; the same synthetic id parse_message would give."""
    try:
        head = BytesHeaderParser(policy=policy.default).parsebytes(
            raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
        )
        found = hdr.first_message_id(head, "message-id")
    except Exception:  # the header parser is lenient; this is belt and braces
        found = None
    return found or f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_ID_DOMAIN}"


@dataclass(frozen=True)
class Stored:
    message: InboundMessage
    created: bool


def store(*, raw: bytes, mailbox: Mailbox, via: str, imap_uid: str = "") -> Stored:
    """Write the raw message (its own transaction); a known Message-ID returns the first copy."""
    raw = bytes(raw)
    message_id = peek_message_id(raw)[:998]
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                mailbox=mailbox,
                message_id=message_id,
                raw=raw,
                size=len(raw),
                via=via,
                imap_uid=imap_uid,
            )
        return Stored(message, True)
    except IntegrityError:
        existing = InboundMessage.objects.get(mailbox=mailbox, message_id=message_id)
        return Stored(existing, False)


# --- processing -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What processing decided; applied to the stored message at the end."""

    status: str
    reason: str = ""
    ticket: Ticket | None = None
    comment: Comment | None = None
    sender: User | None = None
    notes: list[str] = field(default_factory=list)


def process(message: InboundMessage, *, retry: bool = False) -> InboundMessage:
    """Parse a stored message and act on it once (a retry re-runs a quarantined one)."""
    top_level = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        if top_level and connection.vendor == "postgresql":
            # The raw message is already committed durably (store); what processing writes can
            # be redone from it (mail.process_stored picks up messages still "received"), so
            # this transaction need not wait for its WAL flush. See docs/email.md.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        locked = (
            InboundMessage.objects.select_for_update(of=("self",))
            .select_related("mailbox")
            .get(pk=message.pk)
        )
        runnable = {InboundStatus.RECEIVED} | ({InboundStatus.QUARANTINED} if retry else set())
        if locked.status not in runnable:
            return locked
        locked.attempts += 1
        try:
            parsed = parse_message(bytes(locked.raw))
        except MessageParseError as exc:
            return finish(
                locked, Outcome(InboundStatus.QUARANTINED, f"Not an email: {exc.reason}.")
            )
        _record_parsed(locked, parsed)
        try:
            with transaction.atomic():
                outcome = _route(locked, parsed)
        except DomainError as exc:
            outcome = Outcome(
                InboundStatus.QUARANTINED, f"The ticket service refused it: {exc.detail}"
            )
        except Exception as exc:
            log.exception("processing inbound message %s failed", locked.pk)
            outcome = Outcome(
                InboundStatus.QUARANTINED, f"Processing failed: {type(exc).__name__}: {exc}"[:2000]
            )
        return finish(locked, outcome)


def _record_parsed(message: InboundMessage, parsed: ParsedMessage) -> None:
    message.from_address = parsed.from_address[:320]
    message.from_name = parsed.from_name[:200]
    message.subject = parsed.subject[:500]
    message.text_body = parsed.text_body
    message.html_body = parsed.html_body or ""
    message.is_automatic = parsed.is_auto_reply or parsed.is_bounce
    message.suppress_autoresponse = parsed.suppress_autoresponse


def finish(message: InboundMessage, outcome: Outcome) -> InboundMessage:
    message.status = outcome.status
    message.reason = outcome.reason
    message.ticket = outcome.ticket
    message.comment = outcome.comment
    message.sender = outcome.sender
    message.notes = outcome.notes
    message.processed_at = timezone.now()
    message.save(update_fields=PROCESSED_FIELDS)
    return message


def _route(message: InboundMessage, parsed: ParsedMessage) -> Outcome:
    sender_address = parsed.from_address
    own = own_addresses()
    if sender_address.lower() in own:
        return Outcome(InboundStatus.IGNORED, "Sent by Servio itself (a mail loop).")
    if parsed.is_bounce:
        return Outcome(InboundStatus.IGNORED, f"Bounce ({parsed.auto_reason}).")
    if parsed.is_auto_reply:
        return Outcome(InboundStatus.IGNORED, f"Automatic reply ({parsed.auto_reason}).")
    if "@" not in sender_address:
        return Outcome(InboundStatus.QUARANTINED, "The message has no usable sender address.")
    recent = (
        InboundMessage.objects.filter(
            from_address=sender_address, received_at__gte=timezone.now() - rate_window()
        )
        .exclude(pk=message.pk)
        .count()
    )
    if recent >= rate_limit():
        return Outcome(
            InboundStatus.QUARANTINED,
            f"Rate limit: {recent + 1} messages from {sender_address} within "
            f"{int(rate_window().total_seconds() // 60)} minutes (a mail loop?).",
        )
    twin = (
        InboundMessage.objects.filter(message_id=message.message_id, ticket__isnull=False)
        .exclude(pk=message.pk)
        .values_list("ticket_id", "mailbox__address")
        .first()
    )
    if twin is not None:
        return Outcome(
            InboundStatus.IGNORED,
            f"Already received through {twin[1]}.",
            ticket=Ticket.objects.filter(pk=twin[0]).first(),
        )
    user = User.objects.filter(email=sender_address).first()
    if user is not None and not user.is_active:
        return Outcome(
            InboundStatus.QUARANTINED, f"The account of {sender_address} is deactivated."
        )
    ticket = find_ticket(parsed)
    if ticket is not None:
        final = workflows.get(ticket.kind).is_final(ticket.status)
        agent = user is not None and ticket_policies.is_agent(user)
        if not final or agent:
            if user is None or not is_participant(ticket, user):
                return Outcome(
                    InboundStatus.HELD,
                    f"{sender_address} takes no part in {ticket.reference}; an agent must accept "
                    "the message before it becomes a reply.",
                    ticket=ticket,
                    sender=user,
                )
            return add_comment(message, parsed, ticket, user)
    if user is None:
        resolved = _unknown_sender(message, parsed)
        if isinstance(resolved, Outcome):
            return resolved
        user = resolved
    return _create_ticket(message, parsed, user, follows=ticket, own=own)


def own_addresses() -> set[str]:
    """Addresses Servio sends from: mail from them is a loop."""
    own = {addr.lower() for addr in Mailbox.objects.values_list("address", flat=True)}
    _, _, default = settings.DEFAULT_FROM_EMAIL.rpartition("<")
    own.add(default.rstrip(">").strip().lower())
    return own


def find_ticket(parsed: ParsedMessage) -> Ticket | None:
    """The ticket a reply belongs to: by the Message-IDs it answers, else by the subject tag."""
    answered = list(parsed.thread_message_ids)
    if answered:
        links = {
            link.message_id: link.ticket_id
            for link in ThreadMessage.objects.filter(message_id__in=answered[:50])
        }
        for message_id in answered:
            if message_id in links:
                return Ticket.objects.filter(pk=links[message_id]).first()
    if parsed.ticket_ref:
        number = parse_number(parsed.ticket_ref)
        if number is not None:
            return Ticket.objects.filter(kind=number[0], number=number[1]).first()
    return None


def is_participant(ticket: Ticket, user: User) -> bool:
    """Requester, watcher, assignee, or an agent of the team the ticket is with."""
    if user.pk in (ticket.requester_id, ticket.assignee_id):
        return True
    if Watcher.objects.filter(ticket=ticket, user=user).exists():
        return True
    return (
        ticket.team_id is not None
        and user.is_staff_member
        and user.teams.filter(pk=ticket.team_id).exists()
    )


def _unknown_sender(message: InboundMessage, parsed: ParsedMessage) -> User | Outcome:
    """A requester for an unknown address: by email domain, else by the mailbox's policy."""
    from servio.accounts.services import user_create

    address = parsed.from_address
    mailbox = message.mailbox
    organization = organization_for_domain(address.rpartition("@")[2])
    if organization is None:
        policy_ = mailbox.unknown_sender_policy
        if policy_ == Mailbox.SenderPolicy.REJECT:
            if not parsed.suppress_autoresponse:
                outbox.publish(REJECTED_TOPIC, {"inbound_id": message.pk})
            return Outcome(
                InboundStatus.REJECTED,
                f"Unknown sender {address}; the mailbox rejects unknown senders"
                + ("." if not parsed.suppress_autoresponse else " (no reply: automatic mail)."),
            )
        if policy_ == Mailbox.SenderPolicy.QUARANTINE:
            return Outcome(
                InboundStatus.QUARANTINED,
                f"Unknown sender {address}; the mailbox quarantines unknown senders.",
            )
        organization = mailbox.default_organization
        if organization is None:
            return Outcome(
                InboundStatus.QUARANTINED,
                f"Unknown sender {address} and no organisation to put them in: set the default "
                f"organisation of {mailbox.address}.",
            )
    try:
        with transaction.atomic():
            return user_create(
                actor=None,
                email=address,
                full_name=parsed.from_name[:200],
                role=Role.REQUESTER,
                organization=organization,
            )
    except (IntegrityError, ValidationFailed):
        # Another delivery from the same new sender created the account meanwhile (an MTA
        # delivers in parallel): use it.
        existing = User.objects.filter(email=address).first()
        if existing is None:
            raise
        return existing


def organization_for_domain(domain: str) -> Organization | None:
    """The active organisation listing this mail domain (admins keep them unique)."""
    domain = domain.strip().lower()
    if not domain:
        return None
    for org in Organization.objects.filter(is_active=True).order_by("pk"):
        if domain in {str(d).strip().lower().lstrip("@") for d in org.email_domains or ()}:
            return org
    return None


# --- acting -----------------------------------------------------------------------------------


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
    ThreadMessage.objects.bulk_create(
        [
            ThreadMessage(
                message_id=message.message_id,
                ticket=ticket,
                direction=ThreadMessage.Direction.IN,
            )
        ],
        ignore_conflicts=True,  # a retried message may already be linked
    )


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


def _create_ticket(
    message: InboundMessage,
    parsed: ParsedMessage,
    user: User,
    *,
    follows: Ticket | None,
    own: set[str],
) -> Outcome:
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
