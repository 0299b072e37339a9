"""Inbound email: store the raw bytes first, then decide what the message is and act on it.

`store` writes the raw message in its own transaction before anything is parsed, keyed by
mailbox, Message-ID and content hash (servio.mail.identity), so that a second delivery of the
same message changes nothing while another message reusing a Message-ID is kept. `process`
parses it and takes exactly one outcome, in this order:

1. not an email at all -> quarantined (the reason says why; an admin can retry it);
2. sent by Servio itself, a bounce or an automatic reply -> ignored (never a ticket, never a reply);
3. no sender, an invalid sender address (servio.mail.addresses), or more than
   SERVIO_MAIL_RATE_LIMIT messages from the sender within SERVIO_MAIL_RATE_WINDOW_MINUTES ->
   quarantined (this stops mail loops);
4. from a staff address but not authenticated (servio.mail.authentication) -> held for an agent,
   whatever it would have done: unauthenticated mail never acts as a member of the desk;
5. a reply to a ticket (In-Reply-To/References naming a message we sent or received for it, or
   ``[INC-000123]`` in the subject) -> a public comment when the sender takes part in the ticket
   (requester, watcher, assignee, member of its team), else held for an agent to accept;
6. anything else -> a new ticket (source email). Unknown senders become requesters of the
   organisation whose email domains match, else the mailbox's policy applies (create in its
   default organisation, reject with a reply, or quarantine).

Attachments go through the ticket attachment service with its limits; one that is too large is
dropped with a note in the comment, never the whole message. Any failure of a ticket service
quarantines the message with the reason instead of losing it. Acting on a message (the ticket or
comment, its attachments, threading, Cc watchers) is in `servio.mail.acting`.
"""

from __future__ import annotations

import copy
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from servio.accounts.models import Organization, Team, User
from servio.audit.services import audit_atomic
from servio.core import configcache, outbox
from servio.core.errors import DomainError
from servio.mail import authentication
from servio.mail.acting import (
    Outcome,
    add_comment,
    bounded,
    clean_title,
    create_ticket,
    remember,
)
from servio.mail.addresses import address_problem, printable
from servio.mail.identity import content_hash, peek_message_id
from servio.mail.models import (
    Authentication,
    InboundMessage,
    InboundStatus,
    Mailbox,
    ThreadMessage,
)
from servio.mail.parsing import (
    MessageParseError,
    ParsedMessage,
    parse_message,
)
from servio.tickets import policies as ticket_policies
from servio.tickets import workflows
from servio.tickets.models import Ticket, Watcher, parse_number

log = logging.getLogger(__name__)

REJECTED_TOPIC = "mail.sender_rejected"
PROCESSED_FIELDS = (
    "status", "reason", "ticket", "comment", "sender", "notes", "processed_at", "attempts",
    "from_address", "from_name", "subject", "text_body", "html_body", "is_automatic",
    "suppress_autoresponse", "authentication", "authentication_detail",
)  # fmt: skip
# Marks a message object `store` returned: every field is as stored (see `_lock`).
AS_STORED = "_intake_as_stored"


def rate_limit() -> int:
    return int(getattr(settings, "SERVIO_MAIL_RATE_LIMIT", 20))


def rate_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SERVIO_MAIL_RATE_WINDOW_MINUTES", 10)))


# --- storing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    message: InboundMessage
    created: bool

    @property
    def duplicate(self) -> bool:
        """This mailbox already had the message (same Message-ID and content)."""
        return not self.created


def store(*, raw: bytes, mailbox: Mailbox, via: str, imap_uid: str = "") -> Stored:
    """Write the raw message (its own transaction); the same message again (Message-ID and
    content hash) returns the first copy. A different message that reuses a Message-ID is
    stored as a message of its own."""
    raw = bytes(raw)
    message_id = peek_message_id(raw)[:998]
    digest = content_hash(raw)
    message = InboundMessage(
        mailbox=mailbox,
        message_id=message_id,
        content_hash=digest,
        raw=raw,
        size=len(raw),
        via=via,
        imap_uid=imap_uid,
    )
    # One statement (outside a transaction, committed at once); a second delivery of the same
    # message to this mailbox is refused by the unique constraint and gets the first copy.
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            message.save(force_insert=True)
    except IntegrityError:
        existing = (
            InboundMessage.objects.select_related("mailbox")
            .filter(mailbox=mailbox, message_id=message_id, content_hash=digest)
            .first()
        )
        if existing is None:
            raise  # another constraint refused it
        setattr(existing, AS_STORED, True)
        return Stored(existing, False)
    setattr(message, AS_STORED, True)
    return Stored(message, True)


# --- processing -------------------------------------------------------------------------------


class _Refused(Exception):
    """Acting on a message failed: its transaction rolled back; quarantine it (or try again)."""

    def __init__(self, outcome: Outcome, parsed: ParsedMessage, *, again: bool) -> None:
        super().__init__(outcome.reason)
        self.outcome, self.parsed, self.again = outcome, parsed, again


def process(message: InboundMessage, *, retry: bool = False) -> InboundMessage:
    """Parse a stored message and act on it once (a retry re-runs a quarantined one).

    Everything the message causes is one transaction (no savepoints on the way). If a ticket
    service refuses it or anything fails, that transaction rolls back and a second one records
    the quarantine with the reason; a conflicting parallel write (two deliveries from the same
    new sender) is simply run again, and then finds the other's account.
    """
    for attempt in (1, 2):
        try:
            return _process_once(message, retry=retry)
        except _Refused as refused:
            if refused.again and attempt == 1:
                continue
            failed = refused
            break
    with transaction.atomic():
        locked = _lock(message, async_commit=False)
        if locked.status not in _runnable(retry):
            return locked
        locked.attempts += 1
        _record_parsed(locked, failed.parsed)
        return finish(locked, failed.outcome)


def _runnable(retry: bool) -> set[str]:
    return {InboundStatus.RECEIVED} | ({InboundStatus.QUARANTINED} if retry else set())


def _lock(message: InboundMessage, *, async_commit: bool) -> InboundMessage:
    """The stored message, locked (it is processed once), with its mailbox and default team.

    A message just returned by `store` has every field as stored: only its status and attempts
    can have changed since (processing changes the rest only together with the status), so
    only those are read again, under the lock. On PostgreSQL when asked, the transaction first
    turns off the wait for its own WAL flush (`SET LOCAL synchronous_commit`): the raw message
    is already committed durably (store), and what processing writes can be redone from it
    (mail.process_stored picks up messages still "received"); see docs/email.md.
    """
    if async_commit and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    query = InboundMessage.objects.select_for_update().filter(pk=message.pk)
    if getattr(message, AS_STORED, False):
        locked = message
        locked.status, locked.attempts = query.values_list("status", "attempts").get()
    else:
        locked = query.get()
    mailbox = _mailbox(locked.mailbox_id)
    if mailbox is not None:
        locked.mailbox = mailbox
    return locked


def _process_once(message: InboundMessage, *, retry: bool) -> InboundMessage:
    top_level = not transaction.get_connection().in_atomic_block
    # The audit events of whatever the message causes are appended as the transaction ends;
    # the configuration (mailboxes, domains, priorities, SLA policies) is checked once.
    with configcache.pinned(), audit_atomic():
        locked = _lock(message, async_commit=top_level)
        if locked.status not in _runnable(retry):
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
            outcome = _route(locked, parsed)
        except IntegrityError as exc:
            raise _Refused(_failure(locked, exc), parsed, again=True) from exc
        except DomainError as exc:
            refused = Outcome(
                InboundStatus.QUARANTINED, f"The ticket service refused it: {exc.detail}"
            )
            raise _Refused(refused, parsed, again=False) from exc
        except Exception as exc:
            raise _Refused(_failure(locked, exc), parsed, again=False) from exc
        return finish(locked, outcome)


def _failure(message: InboundMessage, exc: Exception) -> Outcome:
    log.exception("processing inbound message %s failed", message.pk)
    return Outcome(
        InboundStatus.QUARANTINED, f"Processing failed: {type(exc).__name__}: {exc}"[:2000]
    )


def _record_parsed(message: InboundMessage, parsed: ParsedMessage) -> None:
    message.from_address = printable(parsed.from_address)[:320]
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
    if not sender_address:
        return Outcome(InboundStatus.QUARANTINED, "The message has no usable sender address.")
    problem = address_problem(sender_address)
    if problem is not None:  # before any look-up: the same answer on every database
        return Outcome(InboundStatus.QUARANTINED, f"{problem} No account is created for it.")
    recent, twin, reused = _recent_twin_reuse(message, sender_address)
    if recent >= rate_limit():
        return Outcome(
            InboundStatus.QUARANTINED,
            f"Rate limit: {recent + 1} messages from {sender_address} within "
            f"{int(rate_window().total_seconds() // 60)} minutes (a mail loop?).",
        )
    if twin is not None:
        return Outcome(
            InboundStatus.IGNORED,
            f"Already received through {twin[1]}.",
            ticket=Ticket.objects.filter(pk=twin[0]).first(),
        )
    outcome = _act(message, parsed, sender_address, own)
    if reused is not None:
        # Replies naming this Message-ID keep threading to where it was first seen (find_ticket).
        outcome.reason = (
            f"The Message-ID <{message.message_id}> was already used by message #{reused} "
            f"with other content; this message was processed as a different one. " + outcome.reason
        ).strip()
    return outcome


def _act(
    message: InboundMessage, parsed: ParsedMessage, sender_address: str, own: set[str]
) -> Outcome:
    user = User.objects.filter(email=sender_address).first()
    if user is not None and not user.is_active:
        return Outcome(
            InboundStatus.QUARANTINED, f"The account of {sender_address} is deactivated."
        )
    staff = user is not None and user.is_staff_member
    _authenticate(message, parsed, staff=staff)
    ticket = find_ticket(parsed)
    if staff and message.authentication != Authentication.PASS:
        # Whatever it would do (a reply, on an open or a closed ticket, a new request with
        # colleagues in Cc), unauthenticated mail never acts as a member of the desk.
        assert user is not None  # noqa: S101 - staff implies a user
        on = f" on {ticket.reference}" if ticket is not None else ""
        return Outcome(
            InboundStatus.HELD,
            f"{sender_address} is a staff address, but the message is not authenticated "
            f"({message.authentication_detail}); it was not posted as {user.get_full_name()}"
            f"{on}. Accept it only if you know it is genuine.",
            ticket=ticket,
            sender=user,
        )
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
    return create_ticket(message, parsed, user, follows=ticket, own=own)


def _authenticate(message: InboundMessage, parsed: ParsedMessage, *, staff: bool) -> None:
    """Record whether the message is really from its From domain: from the mailbox's trusted
    receiving hosts' Authentication-Results (cheap, whenever some are configured), and DKIM
    verified here for staff addresses only, where the answer decides what the mail may do."""
    trusted = message.mailbox.trusted_hosts()
    if not trusted and not staff:
        message.authentication, message.authentication_detail = Authentication.UNCHECKED, ""
        return
    verdict = authentication.authenticate(
        bytes(message.raw), parsed.from_address, trusted=trusted, check_dkim=staff
    )
    message.authentication = verdict.result
    message.authentication_detail = verdict.detail[:500]


def _recent_twin_reuse(
    message: InboundMessage, sender_address: str
) -> tuple[int, tuple[int, str] | None, int | None]:
    """How many other messages the sender sent within the rate window; the ticket and mailbox
    of the newest copy of this message (same Message-ID and content) that another mailbox
    already turned into a ticket (if any); and the first other message that used this
    Message-ID with other content (if any): three lookups as subqueries of one statement."""
    mid, digest = message.message_id, message.content_hash
    others = InboundMessage.objects.exclude(pk=message.pk).order_by()
    recent = (
        others.filter(from_address=sender_address, received_at__gte=timezone.now() - rate_window())
        .values("from_address")
        .annotate(n=Count("pk"))
        .values("n")
    )
    twins = others.filter(message_id=mid, content_hash=digest, ticket__isnull=False).order_by(
        "-received_at", "-id"
    )
    reuses = (
        InboundMessage.objects.filter(message_id=mid).exclude(content_hash=digest).order_by("id")
    )
    recent_count, ticket_id, address, reused = (
        InboundMessage.objects.filter(pk=message.pk)
        .values_list(
            Coalesce(Subquery(recent), 0),
            Subquery(twins.values("ticket_id")[:1]),
            Subquery(twins.values("mailbox__address")[:1]),
            Subquery(reuses.values("id")[:1]),
        )
        .get()
    )
    twin = (ticket_id, address) if ticket_id is not None else None
    return int(recent_count), twin, reused


_MAILBOXES = configcache.Cached(
    "mailboxes",
    lambda: list(
        Mailbox.objects.select_related("default_team", "default_organization").order_by("pk")
    ),
    watched=(Mailbox, Team, Organization),
)


def mailboxes(*, active_only: bool = False) -> list[Mailbox]:
    """Every mailbox (or the active ones) by id, with default team and organisation; copies of
    the cached ones, so that a caller may change them."""
    return [copy.copy(m) for m in _MAILBOXES.get() if m.is_active or not active_only]


def _mailbox(pk: int) -> Mailbox | None:
    found = next((m for m in _MAILBOXES.get() if m.pk == pk), None)
    return copy.copy(found) if found is not None else None


def own_addresses() -> set[str]:
    """Addresses Servio sends from: mail from them is a loop."""
    own = {m.address.lower() for m in _MAILBOXES.get()}
    _, _, default = settings.DEFAULT_FROM_EMAIL.rpartition("<")
    own.add(default.rstrip(">").strip().lower())
    return own


def find_ticket(parsed: ParsedMessage) -> Ticket | None:
    """The ticket a reply belongs to: by the Message-IDs it answers, else by the subject tag."""
    answered = list(parsed.thread_message_ids)
    if answered:
        # A Message-ID belongs to the ticket it was first linked to: a later message reusing
        # it (servio.mail.identity) cannot pull the conversation's replies to its own ticket.
        links: dict[str, Ticket] = {}
        for link in (
            ThreadMessage.objects.filter(message_id__in=answered[:50])
            .select_related("ticket")
            .order_by("-id")
        ):
            links[link.message_id] = link.ticket
        for message_id in answered:
            if message_id in links:
                return links[message_id]
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
    from servio.accounts.services import requester_create

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
    # The caller found no account with this address. Should a parallel delivery from the same
    # new sender create it meanwhile, the insert fails and `process` runs the message again,
    # which then finds that account.
    return requester_create(
        email=address, full_name=parsed.from_name[:200], organization=organization
    )


def _load_domains() -> dict[str, Organization]:
    """Mail domain -> the first active organisation (by id) listing it."""
    found: dict[str, Organization] = {}
    for org in Organization.objects.filter(is_active=True).order_by("pk"):
        for domain in org.email_domains or ():
            found.setdefault(str(domain).strip().lower().lstrip("@"), org)
    return found


_DOMAINS = configcache.Cached("organisation mail domains", _load_domains, watched=(Organization,))


def organization_for_domain(domain: str) -> Organization | None:
    """The active organisation listing this mail domain (admins keep them unique)."""
    domain = domain.strip().lower()
    if not domain:
        return None
    org = _DOMAINS.get().get(domain)
    return copy.copy(org) if org is not None else None  # the cached one stays untouched


# Acting lives in servio.mail.acting; these names stay reachable as intake.<name>.
__all__ = [
    "Outcome",
    "Stored",
    "add_comment",
    "bounded",
    "clean_title",
    "create_ticket",
    "find_ticket",
    "finish",
    "is_participant",
    "mailboxes",
    "organization_for_domain",
    "own_addresses",
    "process",
    "remember",
    "store",
]  # fmt: skip
