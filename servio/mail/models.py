"""The email channel's records: mailboxes, every inbound message (raw, before parsing), the
Message-IDs that thread a conversation to its ticket, the outbound log, templates and the
per-user choice of which events arrive by email."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servio.accounts.models import Organization, Team
from servio.core import sealed
from servio.tickets.models import Kind


class Mailbox(models.Model):
    """An address the desk receives mail at, polled over IMAP and/or fed by an MTA pipe.

    The IMAP password is stored encrypted (servio.core.sealed, under SERVIO_SECRET_KEY); read it
    with `imap_password()`. Still prefer an application password that can only read this mailbox.
    """

    class Security(models.TextChoices):
        SSL = "ssl", "IMAPS (TLS from the start, port 993)"
        STARTTLS = "starttls", "STARTTLS (port 143)"
        NONE = "none", "None (plain text; only for a server on this machine)"

    class SenderPolicy(models.TextChoices):
        CREATE = "create", "Create a requester in the default organisation"
        REJECT = "reject", "Reject with a reply"
        QUARANTINE = "quarantine", "Quarantine for an administrator"

    name = models.CharField(max_length=100, blank=True, help_text="Display name on outbound mail.")
    address = models.EmailField(unique=True)
    imap_host = models.CharField(
        max_length=255, blank=True, help_text="Leave empty when an MTA pipes mail in instead."
    )
    imap_port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    folder = models.CharField(max_length=200, default="INBOX")
    username = models.CharField(max_length=255, blank=True)
    password = models.CharField(
        max_length=500, blank=True, help_text="Stored encrypted; see imap_password()."
    )
    default_kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INCIDENT)
    default_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    default_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where unknown senders become requesters when no email domain matches.",
    )
    unknown_sender_policy = models.CharField(
        max_length=12, choices=SenderPolicy.choices, default=SenderPolicy.CREATE
    )
    trusted_authserv_ids = models.CharField(
        "trusted receiving hosts",
        max_length=1000,
        blank=True,
        help_text="The authserv-ids (usually host names) of the receiving mail servers whose "
        "Authentication-Results headers count for this mailbox, separated by commas or spaces, "
        "e.g. 'mx.provider.example'. Those servers must remove such headers that arrive with "
        "the message. Mail from a staff address acts as that person only when it is "
        "authenticated (see docs/email.md).",
    )
    is_active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_success_at = models.DateTimeField(
        "last successful poll", null=True, blank=True, editable=False
    )
    poll_failures = models.PositiveIntegerField("failed polls in a row", default=0, editable=False)
    next_poll_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="After a failure, polling waits until then (backoff with jitter).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.password = sealed.seal(self.password)  # however it was set: admin, API, shell
        super().save(*args, **kwargs)

    def imap_password(self) -> str:
        """The password to log in with (UnreadableSecret if the secret key has changed)."""
        return sealed.unseal(self.password, what=f"The IMAP password of {self.address}")

    @property
    def polls_imap(self) -> bool:
        return bool(self.imap_host)

    def trusted_hosts(self) -> set[str]:
        """The authserv-ids whose Authentication-Results headers this mailbox trusts."""
        from servio.mail.authentication import parse_authserv_ids

        return parse_authserv_ids(self.trusted_authserv_ids)

    def clean(self) -> None:
        from servio.mail.authentication import invalid_authserv_ids

        invalid = invalid_authserv_ids(self.trusted_authserv_ids)
        if invalid:
            raise ValidationError(
                {
                    "trusted_authserv_ids": f"Not a host name: {', '.join(invalid)}. Give the "
                    "authserv-ids as the receiving servers write them, separated by commas."
                }
            )


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Stored, not processed yet"
    TICKET_CREATED = "ticket_created", "Ticket created"
    COMMENT_ADDED = "comment_added", "Comment added"
    HELD = "held", "Held for an agent"
    QUARANTINED = "quarantined", "Quarantined"
    IGNORED = "ignored", "Ignored (automatic reply, bounce or loop)"
    REJECTED = "rejected", "Rejected (unknown sender)"
    DISCARDED = "discarded", "Discarded by an agent"


class Authentication(models.TextChoices):
    """Whether a message is really from its From domain (servio.mail.authentication)."""

    UNCHECKED = "", "Not checked"
    PASS = "pass", "Authenticated"
    FAIL = "fail", "Failed authentication"
    NONE = "none", "Unauthenticated"


# The verdicts agents see flagged: checked, and not authenticated.
UNAUTHENTICATED = (Authentication.FAIL, Authentication.NONE)


class InboundMessageQuerySet(models.QuerySet["InboundMessage"]):
    def visible_to(self, user) -> InboundMessageQuerySet:
        """Admins: all. Agents: messages of tickets they may see, and held mail not yet on a
        ticket that came in through a mailbox of their team. Others: none."""
        from servio.tickets.models import Ticket

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_capability("visibility.all"):
            return self
        if not user.has_capability("ticket.work"):
            return self.none()
        return self.filter(
            Q(ticket__in=Ticket.objects.visible_to(user))
            | Q(
                ticket__isnull=True,
                status=InboundStatus.HELD,
                mailbox__default_team__in=user.teams.all(),
            )
        )


class InboundMessage(models.Model):
    """One received email: the raw bytes are written first, the outcome once processed."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    message_id = models.CharField(max_length=998)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the content headers and body (servio.mail.identity): with the "
        "Message-ID, what makes a second delivery the same message.",
    )
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    via = models.CharField(max_length=10, default="pipe")  # pipe, imap, api
    imap_uid = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What parsing found (empty until processed): the full body stays here for agents to read.
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    is_automatic = models.BooleanField(default=False)
    suppress_autoresponse = models.BooleanField(default=False)
    authentication = models.CharField(
        max_length=4, choices=Authentication.choices, blank=True, default=""
    )
    authentication_detail = models.CharField(max_length=500, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    comment = models.OneToOneField(
        "tickets.Comment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_message",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # A reused Message-ID with other content is another message (stored, processed).
            models.UniqueConstraint(
                fields=["message_id", "mailbox", "content_hash"], name="inbound_once"
            ),
        ]
        indexes = [
            models.Index(fields=["from_address", "received_at"], name="inbound_sender_rate"),
            models.Index(
                fields=["status", "received_at"],
                name="inbound_attention",
                condition=Q(status__in=["received", "quarantined", "held"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"

    @property
    def unauthenticated(self) -> bool:
        """Checked and not authenticated: agents see it flagged."""
        return self.authentication in UNAUTHENTICATED


class ThreadMessage(models.Model):
    """A Message-ID we received or sent for a ticket: replies quoting it thread to the ticket."""

    class Direction(models.TextChoices):
        IN = "in", "Received"
        OUT = "out", "Sent"

    message_id = models.CharField(max_length=998, db_index=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="thread_messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id", "ticket"], name="thread_message_once"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} -> {self.ticket_id}"


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"


class OutboundMessage(models.Model):
    """One email to one recipient for one event; unique per (event, template, recipient), so a
    redelivered event sends nothing twice. Delivery attempts and errors are those of its outbox
    row (`delivery_event_id`)."""

    event_id = models.UUIDField()
    template = models.CharField(max_length=40)
    recipient = models.CharField(max_length=320)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    from_email = models.CharField(max_length=400)
    subject = models.CharField(max_length=255)
    text = models.TextField()
    html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(
        max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    delivery_event_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "template", "recipient"], name="outbound_once_per_event"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="outbound_status")]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"


class TemplateKey(models.TextChoices):
    TICKET_CREATED = "ticket_created", "Acknowledgement of a new ticket (requester)"
    AGENT_REPLY = "agent_reply", "Public reply from the desk (requester, watchers)"
    STATUS_ON_HOLD = "status_on_hold", "On hold, awaiting the requester (requester)"
    STATUS_RESOLVED = "status_resolved", "Resolved, with the survey link (requester)"
    STATUS_CLOSED = "status_closed", "Closed (requester)"
    RESOLVED_BY_MAJOR = "resolved_by_major", "Resolved with a major incident (requester)"
    TICKET_ASSIGNED = "ticket_assigned", "Assigned (agent or team)"
    REQUESTER_REPLY = "requester_reply", "Reply from the requester (agent)"
    SLA_WARNING = "sla_warning", "SLA warning (agent)"
    SLA_BREACHED = "sla_breached", "SLA breached (agent)"
    SENDER_REJECTED = "sender_rejected", "Refusal sent to an unknown sender"


class MailTemplate(models.Model):
    """The subject, plain text and HTML of one kind of email (Django template syntax); admins
    edit them, the defaults ship in servio/mail/templates/mail/."""

    key = models.CharField(max_length=40, choices=TemplateKey.choices, unique=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive: this kind of email is not sent at all."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.get_key_display()


class MailPreference(models.Model):
    """Whether one person receives one kind of notification by email (default: yes)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_preferences"
    )
    event = models.CharField(max_length=40, choices=TemplateKey.choices)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="mail_preference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event}: {'on' if self.email else 'off'}"
