"""API housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from servio.api.models import IdempotencyRecord
from servio.core.jobs import periodic


@periodic("api.idempotency_cleanup", every=timedelta(hours=1))
def idempotency_cleanup() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.SERVIO_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
