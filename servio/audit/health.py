"""The audit trail's part of /api/v1/health: the sealer's lag and overdue checkpoints."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from servio.audit.models import AuditHead, AuditPending, AuditSeal
from servio.audit.sealing import seal_lag
from servio.core.health import check, figure


@figure("audit_seal_lag_seconds")
def audit_seal_lag_seconds() -> float:
    """Age of the oldest audit event not yet sealed into the chain (0 when none waits)."""
    return round(seal_lag().oldest_seconds, 3)


@check(
    "audit_unsealed_stale",
    problem="{count} audit event(s) wait for the sealer too long; is the background worker "
    "running (`servio worker` or the runner of `servio run`)?",
)
def audit_unsealed_stale() -> int:
    """Unsealed events older than SERVIO_AUDIT_SEAL_LAG_ALERT_SECONDS."""
    cutoff = timezone.now() - timedelta(seconds=settings.SERVIO_AUDIT_SEAL_LAG_ALERT_SECONDS)
    return AuditPending.objects.filter(at__lt=cutoff).count()


@check(
    "audit_checkpoint_overdue",
    problem="The audit chain's tip was not checkpointed outside the database for over twice "
    "SERVIO_AUDIT_CHECKPOINT_MINUTES; check that SERVIO_AUDIT_CHECKPOINTS is writable.",
)
def audit_checkpoint_overdue() -> int:
    """1 when the tip moved past the latest checkpoint more than twice its period ago."""
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or head.seq == head.checkpoint_seq:
        return 0
    limit = timezone.now() - timedelta(minutes=2 * settings.SERVIO_AUDIT_CHECKPOINT_MINUTES)
    if head.checkpoint_at is not None and head.checkpoint_at >= limit:
        return 0
    # The oldest seal the latest checkpoint does not cover: overdue if it is older than that.
    first_uncovered = AuditSeal.objects.filter(seq=head.checkpoint_seq + 1).first()
    return int(first_uncovered is not None and first_uncovered.sealed_at < limit)
