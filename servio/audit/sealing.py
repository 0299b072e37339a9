"""The sealer: gives committed audit events their place in the hash chain (decision 31).

Writers only insert events (and a row in `AuditPending`); one sealer at a time (it locks the
chain's `AuditHead` row) takes the pending events in id order, chains each after the tip with
`chain.link_hash`, inserts their seals, moves the tip and clears their pending rows, all in one
transaction. It runs as the periodic job `audit.seal` (every SERVIO_AUDIT_SEAL_SECONDS), so
the unsealed tail is normally a second or two old; `seal_lag` says how old it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from servio.audit import chain
from servio.audit.models import AuditEvent, AuditHead, AuditPending, AuditSeal

BATCH = 2000


def locked_head() -> AuditHead:
    """The tip, locked until the caller's transaction ends: one sealer at a time."""
    AuditHead.objects.get_or_create(pk=1)
    return AuditHead.objects.select_for_update().get(pk=1)


def audit_seal(*, batch: int = BATCH, progress: Callable[[int], object] | None = None) -> int:
    """Seal every event pending now, `batch` at a time, each batch in its own transaction;
    returns how many were sealed. Events that commit meanwhile wait for the next run."""
    sealed = 0
    while True:
        count = _seal_batch(batch)
        sealed += count
        if progress is not None and count:
            progress(count)
        if count < batch:
            return sealed


def _seal_batch(size: int) -> int:
    if not AuditPending.objects.exists():
        return 0  # nothing waits: no write transaction (on SQLite, no write lock) every second
    with transaction.atomic():
        head = locked_head()
        ids = list(
            AuditPending.objects.order_by("event_id").values_list("event_id", flat=True)[:size]
        )
        if not ids:
            return 0
        now = timezone.now()
        seq, prev = head.seq, head.hash
        seals = []
        for event in AuditEvent.objects.filter(pk__in=ids).order_by("pk"):
            seq += 1
            digest = chain.link_hash(event, seq=seq, prev_hash=prev)
            seals.append(
                AuditSeal(seq=seq, event=event, prev_hash=prev, hash=digest, sealed_at=now)
            )
            prev = digest
        AuditSeal.objects.bulk_create(seals)
        AuditPending.objects.filter(event_id__in=ids).delete()
        AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
        return len(ids)


@dataclass(frozen=True)
class SealLag:
    """How far sealing is behind: unsealed events, and the age of the oldest (0 when none)."""

    unsealed: int
    oldest_seconds: float
    tip_seq: int
    checkpoint_seq: int
    checkpoint_at: datetime | None


def seal_lag(now: datetime | None = None) -> SealLag:
    """The unsealed tail and the latest checkpoint, for /api/v1/health and `audit verify`."""
    now = now or timezone.now()
    found = AuditPending.objects.aggregate(n=Count("pk"), oldest=Min("at"))
    oldest = found["oldest"]
    head = AuditHead.objects.filter(pk=1).first() or AuditHead()
    return SealLag(
        unsealed=found["n"],
        oldest_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        tip_seq=head.seq,
        checkpoint_seq=head.checkpoint_seq,
        checkpoint_at=head.checkpoint_at,
    )
