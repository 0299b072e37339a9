"""Core housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from servio.core.jobs import periodic
from servio.core.models import OutboxMessage, ProcessedEvent

DELIVERED_RETENTION = timedelta(days=7)


@periodic("core.outbox_cleanup", every=timedelta(hours=1))
def outbox_cleanup() -> int:
    """Forget delivered rows after a week (dead letters stay until an admin acts)."""
    cutoff = timezone.now() - DELIVERED_RETENTION
    deleted, _ = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.DELIVERED, delivered_at__lt=cutoff
    ).delete()
    ProcessedEvent.objects.filter(processed_at__lt=cutoff - DELIVERED_RETENTION).delete()
    return deleted
