"""Every write of the email channel: ingest a message, retry a quarantined one, accept or discard
a held one, poll a mailbox, save a template, set a notification preference, retry a failed email.

The intake pipeline itself lives in `intake.py`, IMAP in `imap.py`, sending in `outbound.py`;
these functions are the entry points the command, the jobs, the API and the admin call.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from servio.accounts.models import User
from servio.accounts.roles import Role
from servio.audit.services import audit_record
from servio.core import backoff, outbox
from servio.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from servio.core.models import OutboxMessage
from servio.mail import headers as hdr
from servio.mail import imap, intake, outbound
from servio.mail.addresses import address_problem
from servio.mail.models import (
    InboundMessage,
    InboundStatus,
    Mailbox,
    MailPreference,
    MailTemplate,
    OutboundMessage,
    OutboundStatus,
    TemplateKey,
)
from servio.mail.parsing import parse_message
from servio.tickets import policies as ticket_policies
from servio.tickets.models import Comment, Ticket

log = logging.getLogger(__name__)

_RECIPIENT_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "to", "cc")


def _require_admin(actor: User | None, what: str) -> None:
    if actor is not None and not actor.has_capability("admin.configure"):
        raise PermissionDenied(f"Only administrators may {what}.")


# --- inbound ----------------------------------------------------------------------------------


def mailbox_for_delivery(*, raw: bytes, address: str | None = None) -> Mailbox:
    """The mailbox a piped message is for: the one named, else one its recipients name, else
    the first active mailbox."""
    mailboxes = intake.mailboxes(active_only=True)
    if address:
        wanted = address.strip().lower()
        mailbox = next((m for m in mailboxes if m.address.lower() == wanted), None)
        if mailbox is None:
            raise NotFound(f"No active mailbox has the address {address}.")
        return mailbox
    if not mailboxes:
        raise NotFound("No active mailbox is configured: add one in the admin (Email channel).")
    if len(mailboxes) == 1:
        return mailboxes[0]  # whatever the recipients say
    by_address = {m.address.lower(): m for m in mailboxes}
    try:
        # Only to pick a mailbox among known addresses: the lenient parser of raw values does
        # (the policy's header objects cost more than the rest of the routing).
        head = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        for name in _RECIPIENT_HEADERS:
            for _, addr in getaddresses(hdr.raw_values(head, name)):
                if addr.strip().lower() in by_address:
                    return by_address[addr.strip().lower()]
    except Exception:  # unreadable headers: the default mailbox still stores the message
        log.debug("could not read the recipients of a piped message", exc_info=True)
    return mailboxes[0]


def inbound_deliver(
    *, raw: bytes, mailbox: Mailbox, via: str = "pipe", imap_uid: str = ""
) -> intake.Stored:
    """Store the raw message (committed before parsing), then process it once; the answer says
    whether it was a duplicate.

    The same message again (same Message-ID and content hash) changes nothing and answers the
    first copy, `duplicate` (processed now only if the first delivery never was). A different
    message reusing a Message-ID is stored and processed as a message of its own.
    """
    if not raw or not bytes(raw).strip():
        raise ValidationFailed.field("message", "The message is empty.")
    stored = intake.store(raw=raw, mailbox=mailbox, via=via, imap_uid=imap_uid)
    if stored.message.status != InboundStatus.RECEIVED:
        return stored
    return intake.Stored(intake.process(stored.message), stored.created)


def inbound_ingest(
    *, raw: bytes, mailbox: Mailbox, via: str = "pipe", imap_uid: str = ""
) -> InboundMessage:
    """`inbound_deliver`, answering the stored message (the first copy for a duplicate)."""
    return inbound_deliver(raw=raw, mailbox=mailbox, via=via, imap_uid=imap_uid).message


def inbound_process_pending(
    *, older_than: timedelta = timedelta(minutes=2), limit: int = 500
) -> int:
    """Process messages stored but never processed (a process died between the two steps)."""
    cutoff = timezone.now() - older_than
    ids = list(
        InboundMessage.objects.filter(status=InboundStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        intake.process(InboundMessage(pk=pk))
    return len(ids)


def inbound_retry(*, actor: User | None, message: InboundMessage) -> InboundMessage:
    """Process a quarantined message again (after the cause was fixed: a mailbox setting, a
    user account, a limit)."""
    _require_admin(actor, "retry quarantined email")
    if message.status != InboundStatus.QUARANTINED:
        raise Conflict(
            f"Only quarantined messages can be retried; this one is {message.status}.",
            current_status=message.status,
        )
    done = intake.process(message, retry=True)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="mail.inbound_retried",
            target=done,
            object_repr=done.message_id[:200],
            changes={"status": [InboundStatus.QUARANTINED, done.status]},
        )
    return done


def _held(actor: User, message: InboundMessage) -> InboundMessage:
    ticket_policies.require_agent(actor, "decide on held email")
    if not InboundMessage.objects.visible_to(actor).filter(pk=message.pk).exists():
        raise NotFound("No such email is visible to you.")
    locked = InboundMessage.objects.select_for_update(of=("self",)).get(pk=message.pk)
    if locked.status != InboundStatus.HELD:
        raise Conflict(
            f"This email is {locked.status}; only held email can be accepted or discarded.",
            current_status=locked.status,
        )
    return locked


def held_accept(
    *, actor: User, message: InboundMessage, internal: bool = False
) -> Comment | Ticket:
    """Accept held mail: a reply from someone outside the ticket, or mail from a staff address
    that was not authenticated. Publicly, it becomes the sender's reply (they become a watcher
    where their organisation allows), or the new ticket it asked for when it named none; as an
    internal note it quotes them. Answers the comment, or the new ticket."""
    from servio.accounts.services import user_create
    from servio.tickets.services import comment_add, watcher_add

    with transaction.atomic():
        locked = _held(actor, message)
        if locked.ticket_id is None:
            return _held_accept_as_ticket(actor, locked, internal=internal)
        ticket = Ticket.objects.get(pk=locked.ticket_id)
        parsed = parse_message(bytes(locked.raw))
        if internal:
            quoted = parsed.reply_text.strip() or parsed.text_body.strip() or "(empty)"
            comment = comment_add(
                actor=actor,
                ticket=ticket,
                body=intake.bounded(f"Email from {parsed.from_address}:\n\n{quoted}"),
                internal=True,
                source=Ticket.Source.EMAIL,
            )
            intake.remember(locked, ticket)
            outcome = intake.Outcome(InboundStatus.COMMENT_ADDED, ticket=ticket, comment=comment)
        else:
            problem = address_problem(parsed.from_address)
            if problem is not None:
                raise ValidationFailed.field("sender", f"{problem} Discard the email.")
            author = User.objects.filter(email=parsed.from_address).first()
            if author is None:
                organization = (
                    intake.organization_for_domain(parsed.from_address.rpartition("@")[2])
                    or ticket.organization
                )
                author = user_create(
                    actor=None,
                    email=parsed.from_address,
                    full_name=parsed.from_name[:200],
                    role=Role.REQUESTER,
                    organization=organization,
                )
            if not author.is_active:
                raise ValidationFailed.field(
                    "sender", f"The account of {author.email} is deactivated."
                )
            if not author.is_staff_member and author.organization_id == ticket.organization_id:
                watcher_add(actor=actor, ticket=ticket, user=author)
            outcome = intake.add_comment(locked, parsed, ticket, author)
        outcome.sender = locked.sender
        intake.finish(locked, outcome)
        _decided(actor, locked, ticket, internal=internal)
        assert outcome.comment is not None  # noqa: S101 - both branches add a comment
        return outcome.comment


def _held_accept_as_ticket(actor: User, locked: InboundMessage, *, internal: bool) -> Ticket:
    """Held mail that named no ticket (a new request from a staff address that was not
    authenticated): accepting it creates the ticket it asked for, as its sender's."""
    if internal:
        raise ValidationFailed.field(
            "internal",
            "This email is not on a ticket, so it cannot become an internal note: accept it "
            "as the new ticket it asks for, or discard it.",
        )
    parsed = parse_message(bytes(locked.raw))
    author = locked.sender or User.objects.filter(email=parsed.from_address).first()
    if author is None or not author.is_active:
        raise ValidationFailed.field(
            "sender", f"{parsed.from_address} has no active account; discard the email."
        )
    outcome = intake.create_ticket(locked, parsed, author, own=intake.own_addresses())
    outcome.sender = locked.sender
    intake.finish(locked, outcome)
    assert outcome.ticket is not None  # noqa: S101 - a ticket was created
    _decided(actor, locked, outcome.ticket, internal=False)
    return outcome.ticket


def _decided(actor: User, locked: InboundMessage, ticket: Ticket, *, internal: bool) -> None:
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.reason = f"Accepted by {actor.email}" + (" as an internal note." if internal else ".")
    locked.save(update_fields=["decided_by", "decided_at", "reason"])
    audit_record(
        actor=actor,
        action="mail.held_accepted",
        target=ticket,
        object_repr=ticket.reference,
        changes={"email": [None, locked.pk], "internal": [None, internal]},
    )


def held_discard(*, actor: User, message: InboundMessage) -> InboundMessage:
    """Refuse a held reply: it stays stored, marked discarded, and never reaches the ticket."""
    with transaction.atomic():
        locked = _held(actor, message)
        locked.status = InboundStatus.DISCARDED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.reason = f"Discarded by {actor.email}."
        locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit_record(
            actor=actor,
            action="mail.held_discarded",
            object_type="tickets.ticket",
            object_id=locked.ticket_id or "",
            object_repr=locked.message_id[:200],
            changes={"email": [None, locked.pk]},
        )
    return locked


# --- mailboxes --------------------------------------------------------------------------------


def mailbox_poll(*, mailbox: Mailbox, limit: int | None = None) -> imap.PollResult:
    """Poll one mailbox now; the outcome is kept on the mailbox for admins and /health.

    A failure counts one more failed poll in a row and puts the next scheduled poll off by an
    exponential backoff with jitter (the poll period, doubling, at most SERVIO_MAIL_POLL_MAX_
    BACKOFF_SECONDS); a success clears both.
    """
    try:
        result = imap.poll(mailbox, limit=limit, timeout=settings.SERVIO_MAIL_IMAP_TIMEOUT)
    except Exception as exc:
        now = timezone.now()
        failures = mailbox.poll_failures + 1
        wait = backoff.full_jitter(
            failures + 1,
            base=settings.SERVIO_MAIL_POLL_SECONDS,
            cap=settings.SERVIO_MAIL_POLL_MAX_BACKOFF_SECONDS,
        )
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=now,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            poll_failures=F("poll_failures") + 1,
            next_poll_at=now + wait,
        )
        raise
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now, last_success_at=now, last_error="", poll_failures=0, next_poll_at=None
    )
    return result


def mailboxes_poll(*, waiting_too: bool = False) -> dict[str, str]:
    """Poll every active IMAP mailbox that is not backing off after failures (`waiting_too`:
    those as well, as `servio mail poll` does); one failing mailbox does not stop the others."""
    report = {}
    mailboxes = Mailbox.objects.filter(is_active=True).exclude(imap_host="").order_by("pk")
    if not waiting_too:
        now = timezone.now()
        mailboxes = mailboxes.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
    for mailbox in mailboxes:
        try:
            result = mailbox_poll(mailbox=mailbox)
            report[mailbox.address] = f"{result.stored} new, {result.duplicates} duplicate"
        except Exception as exc:
            log.warning("polling %s failed: %s", mailbox.address, exc)
            report[mailbox.address] = f"failed: {exc}"
    return report


# --- templates and preferences ----------------------------------------------------------------


def template_save(
    *, actor: User | None, key: str, subject: str, text: str, html: str = "", is_active: bool = True
) -> MailTemplate:
    """Save an admin's version of an email template after checking that it compiles."""
    _require_admin(actor, "edit email templates")
    if key not in TemplateKey.values:
        raise ValidationFailed.field("key", f"must be one of: {', '.join(TemplateKey.values)}.")
    if not subject.strip() or not text.strip():
        raise ValidationFailed({"subject" if not subject.strip() else "text": "is required."})
    errors = outbound.check_template(outbound.TemplateSource(subject, text, html))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        template, _ = MailTemplate.objects.update_or_create(
            key=key,
            defaults={"subject": subject, "text": text, "html": html, "is_active": is_active},
        )
        audit_record(actor=actor, action="mail.template_saved", target=template)
    return template


def preference_set(*, actor: User, event: str, email: bool) -> MailPreference:
    """Choose whether one kind of notification reaches you by email."""
    if event not in TemplateKey.values or event == TemplateKey.SENDER_REJECTED:
        raise ValidationFailed.field("event", "is not a notification you can choose.")
    preference, _ = MailPreference.objects.update_or_create(
        user=actor, event=event, defaults={"email": bool(email)}
    )
    return preference


# --- outbound ---------------------------------------------------------------------------------


def outbound_retry(*, actor: User | None, message: OutboundMessage) -> OutboundMessage:
    """Send a failed (dead-lettered) or waiting email again now."""
    _require_admin(actor, "retry outbound email")
    if message.status == OutboundStatus.SENT:
        raise Conflict("This email was already sent.", current_status=message.status)
    if message.delivery_event_id is None:
        raise Conflict("This email has no delivery to retry.")
    rows = OutboxMessage.objects.filter(event_id=message.delivery_event_id)
    with transaction.atomic():
        outbox.requeue_dead(ids=list(rows.values_list("pk", flat=True)))
        rows.filter(status=OutboxMessage.Status.PENDING).update(available_at=timezone.now())
        audit_record(actor=actor, action="mail.outbound_retried", target=message)
    return message
