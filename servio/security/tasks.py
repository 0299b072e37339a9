"""Pruning the security log: rows older than SERVIO_SECURITY_LOG_DAYS go, oldest first."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from servio.core.jobs import periodic
from servio.security.models import SecurityEvent

BATCH = 5000


@periodic("security.prune", every=timedelta(hours=6))
def security_log_prune() -> int:
    """Delete the expired rows in batches (short transactions); returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.SERVIO_SECURITY_LOG_DAYS)
    removed = 0
    while True:
        ids = list(
            SecurityEvent.objects.filter(at__lt=cutoff)
            .order_by("at")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return removed
        removed += SecurityEvent.objects.filter(pk__in=ids).delete()[0]
