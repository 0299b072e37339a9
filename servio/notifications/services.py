"""Creating and reading notifications."""

from __future__ import annotations

import uuid

from django.utils import timezone

from servio.notifications.models import Notification


def notify(
    *,
    recipient_id: int | None,
    event_id: uuid.UUID,
    kind: str,
    subject: str,
    body: str = "",
    ticket_id: int | None = None,
    skip_user_id: int | None = None,
) -> Notification | None:
    """Record one notification (once per recipient, event and kind); nobody notifies themselves,
    and nobody hears of a ticket of an organisation they may not see (decision 16)."""
    if recipient_id is None or recipient_id == skip_user_id:
        return None
    if ticket_id is not None and not _may_hear_of(recipient_id, ticket_id):
        return None
    notification, _ = Notification.objects.get_or_create(
        recipient_id=recipient_id,
        event_id=event_id,
        kind=kind,
        defaults={"subject": subject[:250], "body": body, "ticket_id": ticket_id},
    )
    return notification


def _may_hear_of(recipient_id: int, ticket_id: int) -> bool:
    from servio.accounts.models import User
    from servio.tickets.models import Ticket
    from servio.tickets.tenancy import allowed_recipients

    recipient = User.objects.filter(pk=recipient_id).first()
    organization_id = (
        Ticket.objects.filter(pk=ticket_id).values_list("organization_id", flat=True).first()
    )
    return organization_id is not None and bool(allowed_recipients([recipient], organization_id))


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
