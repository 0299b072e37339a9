"""Outbound email: render a template, record the message, send it through the outbox.

Sending happens in two outbox steps. A ticket event's handler decides who is told and queues one
`OutboundMessage` per recipient (unique per event, template and recipient, so a redelivered event
queues nothing twice) together with a `mail.outbound` event; that event's handler sends exactly
one message over SMTP, with no transaction open (an external handler, decision 24), and raises on
failure, so the outbox retries it with backoff and finally dead-letters it, where admins see it.
The message's delivery event id keys the delivery: the Message-ID is fixed before the first
attempt, so even the rare resend (SMTP accepted, then recording it failed) carries the same
Message-ID.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from servio.accounts.models import User
from servio.accounts.timezones import effective_zone_name, zone
from servio.core import network, outbox
from servio.core.text import render_markdown
from servio.mail.models import (
    InboundMessage,
    Mailbox,
    MailPreference,
    MailTemplate,
    OutboundMessage,
    OutboundStatus,
    TemplateKey,
    ThreadMessage,
)
from servio.tickets.models import Priority, Ticket

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "mail"
OUTBOUND_TOPIC = "mail.outbound"
MAX_SUBJECT = 250
MAX_REFERENCES = 10  # the thread root plus the most recent Message-IDs
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_TEXT_ENGINE = Engine(autoescape=False)
_HTML_ENGINE = Engine(autoescape=True)


@dataclass(frozen=True)
class TemplateSource:
    """The three Django-template strings of one kind of email."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# --- templates --------------------------------------------------------------------------------


@cache
def default_template(key: str) -> TemplateSource:
    """The template shipped on disk (servio/mail/templates/mail/<key>.{subject.txt,txt,html})."""
    TemplateKey(key)  # an unknown key is a programming error
    read = lambda suffix: (TEMPLATE_DIR / f"{key}.{suffix}").read_text(encoding="utf-8")  # noqa: E731
    return TemplateSource(read("subject.txt").strip(), read("txt"), read("html"))


def template_for(key: str) -> TemplateSource | None:
    """The admin's version of a template, else the default; None when the admin switched it off."""
    row = MailTemplate.objects.filter(key=key).first()
    if row is None:
        return default_template(key)
    if not row.is_active:
        return None
    return TemplateSource(row.subject, row.text, row.html)


def check_template(source: TemplateSource) -> dict[str, str]:
    """Syntax errors per part ({} when the template compiles), for the admin form."""
    errors = {}
    for name, engine, text in (
        ("subject", _TEXT_ENGINE, source.subject),
        ("text", _TEXT_ENGINE, source.text),
        ("html", _HTML_ENGINE, source.html),
    ):
        try:
            engine.from_string(text)
        except TemplateSyntaxError as exc:
            errors[name] = str(exc)
    return errors


def render(key: str, context: dict[str, Any]) -> Rendered | None:
    """Render a template (HTML autoescaped); a broken admin template falls back to the default."""
    source = template_for(key)
    if source is None:
        return None
    try:
        return _render(source, context)
    except Exception:
        log.exception("mail template %s does not render; using the default", key)
        return _render(default_template(key), context)


def _render(source: TemplateSource, context: dict[str, Any]) -> Rendered:
    subject = _render_part(_TEXT_ENGINE, source.subject, context)
    text = _render_part(_TEXT_ENGINE, source.text, context)
    html = _render_part(_HTML_ENGINE, source.html, context) if source.html else ""
    return Rendered(clean_subject(subject), text, html)


def _render_part(engine: Engine, source: str, context: dict[str, Any]) -> str:
    """Render with the engine's escaping: a `Context` escapes unless told otherwise (the
    engine's own `autoescape` only applies through a template backend), so plain text and
    subjects would show `&amp;` and `Can&#x27;t`."""
    return engine.from_string(source).render(Context(context, autoescape=engine.autoescape))


def clean_subject(subject: str) -> str:
    """One line, no control characters, bounded: nothing in it can start another header."""
    return " ".join(_CONTROL.sub(" ", subject).split())[:MAX_SUBJECT]


def clean_display_name(name: str) -> str:
    return " ".join(_CONTROL.sub(" ", name).split())[:100]


# --- context ----------------------------------------------------------------------------------


def site_name() -> str:
    name, _ = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or "Service Desk"


def ticket_url(ticket: Ticket, *, staff: bool = False) -> str:
    """The ticket's page: the agent workspace for staff, the self-service portal for requesters."""
    names = ("workspace:ticket", "portal:ticket") if staff else ("portal:ticket",)
    for name in names:
        try:
            return settings.SERVIO_BASE_URL + reverse(name, args=[ticket.reference])
        except NoReverseMatch:
            continue
    return f"{settings.SERVIO_BASE_URL}/"


def ticket_context(ticket: Ticket, *, staff: bool = False) -> dict[str, Any]:
    """What templates may use of a ticket: plain values, never the model itself."""
    return {
        "reference": ticket.reference,
        "title": ticket.title,
        "status": ticket.status,
        "status_label": ticket.status.replace("_", " ").capitalize(),
        "priority_label": Priority(ticket.priority).label,
        "team": str(ticket.team) if ticket.team_id else "",
        "assignee_name": ticket.assignee.get_full_name() if ticket.assignee is not None else "",
        "requester_name": ticket.requester.get_full_name(),
        "resolution_notes": ticket.resolution_notes,
        # Aware times: templates show them in the recipient's zone (`queue`).
        "created_at": ticket.created_at,
        "resolved_at": ticket.resolved_at,
        "url": ticket_url(ticket, staff=staff),
    }


def comment_context(body: str, author: User) -> dict[str, Any]:
    return {
        "body": body,
        "html": mark_safe(render_markdown(body)),  # noqa: S308 - sanitised by render_markdown
        "author_name": author.get_full_name(),
    }


def base_context(recipient_name: str, recipient_email: str, time_zone: str = "") -> dict[str, Any]:
    return {
        "site_name": site_name(),
        "recipient": {
            "name": recipient_name or recipient_email,
            "email": recipient_email,
            "time_zone": time_zone or effective_zone_name(None),
        },
    }


# --- who sends, and threading -----------------------------------------------------------------


def mailbox_for(ticket: Ticket | None) -> Mailbox | None:
    """The mailbox a ticket's mail goes out from: the one it came in through, else the first."""
    if ticket is not None:
        first = (
            InboundMessage.objects.filter(ticket=ticket)
            .order_by("id")
            .select_related("mailbox")
            .first()
        )
        if first is not None and first.mailbox.is_active:
            return first.mailbox
    return Mailbox.objects.filter(is_active=True).order_by("id").first()


def from_address(mailbox: Mailbox | None) -> str:
    if mailbox is None:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((clean_display_name(mailbox.name or site_name()), mailbox.address))


def _domain(address: str) -> str:
    _, addr = parseaddr(address)
    domain = addr.rpartition("@")[2].strip().lower()
    return re.sub(r"[^a-z0-9.-]", "", domain) or "servio.invalid"


def thread_headers(ticket: Ticket | None) -> tuple[str, list[str]]:
    """In-Reply-To (the latest message of the conversation) and References (root + recent)."""
    if ticket is None:
        return "", []
    ids = list(
        ThreadMessage.objects.filter(ticket=ticket)
        .order_by("-id")
        .values_list("message_id", flat=True)[:MAX_REFERENCES]
    )
    if not ids:
        return "", []
    root = (
        ThreadMessage.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("message_id", flat=True)
        .first()
    )
    chain = list(reversed(ids))
    if root and root not in chain:
        chain = [root, *chain[1:]]
    return f"<{ids[0]}>", [f"<{mid}>" for mid in chain]


def wants_email(user: User, key: str) -> bool:
    """Active people with an address who did not switch this kind of email off."""
    if not user.is_active or not user.email:
        return False
    return not MailPreference.objects.filter(user=user, event=key, email=False).exists()


# --- queue and deliver ------------------------------------------------------------------------


def queue(
    *,
    event_id: uuid.UUID,
    key: str,
    recipient_email: str,
    recipient: User | None,
    ticket: Ticket | None,
    context: dict[str, Any],
    in_reply_to: str = "",
    references: list[str] | None = None,
    mailbox: Mailbox | None = None,
) -> OutboundMessage | None:
    """Render and record one email and publish its delivery; at most once per event/recipient."""
    existing = OutboundMessage.objects.filter(
        event_id=event_id, template=key, recipient=recipient_email
    ).first()
    if existing is not None:
        return existing
    zone_name = effective_zone_name(recipient)
    full_context = base_context(
        recipient.get_full_name() if recipient else "", recipient_email, zone_name
    )
    full_context.update(context)
    # Times read in the recipient's zone, never in the zone of whoever caused the email (an
    # outbox handler may run inside the actor's request, with the actor's zone active).
    with timezone.override(zone(zone_name)):
        rendered = render(key, full_context)
    if rendered is None:
        return None
    subject = rendered.subject
    if ticket is not None and ticket.reference not in subject:
        subject = clean_subject(f"[{ticket.reference}] {subject}")
    mailbox = mailbox or mailbox_for(ticket)
    sender = from_address(mailbox)
    message_id = make_msgid(idstring="servio", domain=_domain(sender))
    if not in_reply_to and references is None:
        in_reply_to, references = thread_headers(ticket)
    delivery_id = uuid.uuid4()
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                event_id=event_id,
                template=key,
                recipient=recipient_email,
                recipient_user=recipient,
                ticket=ticket,
                from_email=sender,
                subject=subject,
                text=rendered.text,
                html=rendered.html,
                message_id=message_id,
                in_reply_to=in_reply_to,
                references=" ".join(references or []),
                delivery_event_id=delivery_id,
            )
            if ticket is not None:
                ThreadMessage.objects.create(
                    message_id=message_id.strip("<>"),
                    ticket=ticket,
                    direction=ThreadMessage.Direction.OUT,
                )
            outbox.publish(OUTBOUND_TOPIC, {"outbound_id": message.pk}, event_id=delivery_id)
    except IntegrityError:  # queued meanwhile by a concurrent delivery of the same event
        return OutboundMessage.objects.filter(
            event_id=event_id, template=key, recipient=recipient_email
        ).first()
    return message


def deliver(*, outbound_id: int) -> OutboundMessage | None:
    """Send one queued message over SMTP; raise on failure so the outbox retries it.

    Runs with no transaction open (the outbox's external handler, decision 24), so a slow mail
    server holds no database lock. A message already sent is not sent again; one whose sending
    was not recorded (the process died right after the server accepted it) goes out again with
    the same Message-ID, which receiving clients treat as the same message.
    """
    network.require_no_transaction("Sending mail")
    message = OutboundMessage.objects.select_related("ticket").filter(pk=outbound_id).first()
    if message is None or message.status == OutboundStatus.SENT:
        return message
    headers = {
        "Message-ID": message.message_id,
        # RFC 3834: our mail is automatic; well-behaved responders must not answer it.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.ticket is not None:
        headers["X-Servio-Ticket"] = message.ticket.reference
    email = EmailMultiAlternatives(
        subject=clean_subject(message.subject),
        body=message.text,
        from_email=message.from_email,
        to=[message.recipient],
        headers=headers,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)
    message.status = OutboundStatus.SENT
    message.sent_at = timezone.now()
    message.save(update_fields=["status", "sent_at"])
    return message
