"""API: /mail — the inbound log and quarantine (admins), held replies (agents), the outbound log
(admins), a ticket's email, and each person's email notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema

from servio.api.pagination import paginate
from servio.core.errors import ValidationFailed
from servio.mail import selectors, services
from servio.mail.models import InboundMessage, OutboundMessage
from servio.tickets import selectors as ticket_selectors
from servio.tickets.models import Comment

router = Router(tags=["mail"])
ORDER = ["-received_at", "-id"]


class InboundOut(Schema):
    id: int
    mailbox: str
    message_id: str
    via: str
    size: int
    received_at: datetime
    status: str
    reason: str
    notes: list[str]
    from_address: str
    from_name: str
    subject: str
    authentication: str  # pass, fail, none, or "" (not checked); see docs/email.md
    authentication_detail: str
    ticket: str | None
    comment_id: int | None
    processed_at: datetime | None


class InboundDetailOut(InboundOut):
    text_body: str
    html_body: str


class InboundPage(Schema):
    items: list[InboundOut]
    next_cursor: str | None


class InboundDetailPage(Schema):
    items: list[InboundDetailOut]
    next_cursor: str | None


class AcceptIn(Schema):
    internal: bool = False


class AcceptedOut(Schema):
    email: InboundOut
    comment_id: int | None  # None when accepting created a ticket (email.ticket names it)


class OutboundOut(Schema):
    id: int
    event_id: UUID
    template: str
    recipient: str
    ticket: str | None
    subject: str
    message_id: str
    status: str
    delivery: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class OutboundPage(Schema):
    items: list[OutboundOut]
    next_cursor: str | None


class PreferenceOut(Schema):
    event: str
    label: str
    email: bool


class PreferencesIn(Schema):
    preferences: dict[str, bool]


def inbound_out(message: InboundMessage, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message.pk,
        "mailbox": message.mailbox.address,
        "message_id": message.message_id,
        "via": message.via,
        "size": message.size,
        "received_at": message.received_at,
        "status": message.status,
        "reason": message.reason,
        "notes": list(message.notes or []),
        "from_address": message.from_address,
        "from_name": message.from_name,
        "subject": message.subject,
        "authentication": message.authentication,
        "authentication_detail": message.authentication_detail,
        "ticket": message.ticket.reference if message.ticket_id and message.ticket else None,
        "comment_id": message.comment_id,
        "processed_at": message.processed_at,
    }
    if detail:
        body["text_body"] = message.text_body
        body["html_body"] = message.html_body  # sanitised by the parser (nh3 allow-list)
    return body


def outbound_out(message: OutboundMessage) -> dict[str, Any]:
    state = getattr(message, "delivery_status", None)
    if message.status == "sent":
        delivery = "sent"
    elif state == "dead":
        delivery = "failed"
    elif getattr(message, "delivery_attempts", 0):
        delivery = "retrying"
    else:
        delivery = "pending"
    return {
        "id": message.pk,
        "event_id": message.event_id,
        "template": message.template,
        "recipient": message.recipient,
        "ticket": message.ticket.reference if message.ticket_id and message.ticket else None,
        "subject": message.subject,
        "message_id": message.message_id,
        "status": message.status,
        "delivery": delivery,
        "attempts": getattr(message, "delivery_attempts", None) or 0,
        "last_error": getattr(message, "delivery_error", None) or "",
        "created_at": message.created_at,
        "sent_at": message.sent_at,
    }


@router.get("/mail/inbound", response=InboundPage)
def list_inbound(
    request: HttpRequest,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Every stored message (admins); `status=quarantined` is the quarantine list."""
    page = paginate(
        selectors.inbound_list(user=request.auth, status=status),
        order=ORDER,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [inbound_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get("/mail/inbound/{message_id}", response=InboundDetailOut)
def get_inbound(request: HttpRequest, message_id: int):
    """One message with its full body (admins; agents for tickets they may see)."""
    return inbound_out(selectors.inbound_get(user=request.auth, message_id=message_id), detail=True)


@router.post("/mail/inbound/{message_id}/retry", response=InboundOut)
def retry_inbound(request: HttpRequest, message_id: int):
    """Process a quarantined message again (admins)."""
    message = selectors.inbound_get(user=request.auth, message_id=message_id)
    done = services.inbound_retry(actor=request.auth, message=message)
    return inbound_out(selectors.inbound_get(user=request.auth, message_id=done.pk))


@router.get("/mail/held", response=InboundDetailPage)
def list_held(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    """Held mail waiting for an agent to accept or discard: replies from people outside their
    ticket, and mail from staff addresses that was not authenticated (`authentication`)."""
    page = paginate(selectors.held_list(user=request.auth), order=ORDER, cursor=cursor, limit=limit)
    return {
        "items": [inbound_out(m, detail=True) for m in page.items],
        "next_cursor": page.next_cursor,
    }


@router.post("/mail/held/{message_id}/accept", response=AcceptedOut)
def accept_held(request: HttpRequest, message_id: int, payload: AcceptIn):
    """Add held email to its ticket: as the sender's public reply, or as an internal note; held
    email that names no ticket (unauthenticated mail from a staff address) becomes its ticket."""
    message = selectors.inbound_get(user=request.auth, message_id=message_id)
    done = services.held_accept(actor=request.auth, message=message, internal=payload.internal)
    email = selectors.inbound_get(user=request.auth, message_id=message_id)
    comment_id = done.pk if isinstance(done, Comment) else None
    return {"email": inbound_out(email), "comment_id": comment_id}


@router.post("/mail/held/{message_id}/discard", response=InboundOut)
def discard_held(request: HttpRequest, message_id: int):
    """Refuse the held reply; it stays stored, marked discarded."""
    message = selectors.inbound_get(user=request.auth, message_id=message_id)
    services.held_discard(actor=request.auth, message=message)
    return inbound_out(selectors.inbound_get(user=request.auth, message_id=message_id))


@router.get("/mail/tickets/{reference}/emails", response=InboundDetailPage)
def ticket_emails(
    request: HttpRequest, reference: str, cursor: str | None = None, limit: int | None = None
):
    """The email a ticket received, with full bodies (comments hold the stripped reply)."""
    ticket = ticket_selectors.ticket_get(user=request.auth, reference=reference)
    qs = selectors.ticket_emails(user=request.auth, ticket=ticket)
    page = paginate(qs, order=ORDER, cursor=cursor, limit=limit)
    return {
        "items": [inbound_out(m, detail=True) for m in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/mail/outbound", response=OutboundPage)
def list_outbound(
    request: HttpRequest,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """The outbound log (admins); `status=failed` lists email whose delivery gave up."""
    qs = selectors.outbound_list(user=request.auth, status=status)
    page = paginate(qs, order=["-created_at", "-id"], cursor=cursor, limit=limit)
    return {"items": [outbound_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/mail/outbound/{message_id}/retry", response=OutboundOut)
def retry_outbound(request: HttpRequest, message_id: int):
    """Try a failed or waiting email again now (admins)."""
    message = selectors.outbound_get(user=request.auth, message_id=message_id)
    services.outbound_retry(actor=request.auth, message=message)
    return outbound_out(selectors.outbound_get(user=request.auth, message_id=message_id))


@router.get("/mail/preferences", response=list[PreferenceOut])
def get_preferences(request: HttpRequest):
    """Which notifications reach you by email."""
    return selectors.preferences(user=request.auth)


@router.put("/mail/preferences", response=list[PreferenceOut])
def set_preferences(request: HttpRequest, payload: PreferencesIn):
    """Switch notifications by email on or off, e.g. {"preferences": {"agent_reply": false}}."""
    allowed = {p["event"] for p in selectors.preferences(user=request.auth)}
    unknown = sorted(set(payload.preferences) - allowed)
    if unknown:
        raise ValidationFailed(
            {f"preferences.{event}": "is not a notification you receive." for event in unknown}
        )
    with transaction.atomic():
        for event, email in payload.preferences.items():
            services.preference_set(actor=request.auth, event=event, email=email)
    return selectors.preferences(user=request.auth)
