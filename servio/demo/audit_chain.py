"""Writing many audit events at once, sealed exactly as the services and the sealer would.

A bulk load (the demo, `servio generate`) records thousands of events. This writes them with
the fast table writer and seals them at once, in order after the chain's tip, with the chain's
own hash function (`servio.audit.chain.link_hash`) under the sealer's lock, all in the caller's
transaction. The result is what `audit_record` followed by the sealer writes, so `servio audit
verify` passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from servio.audit import chain
from servio.audit.models import AuditEvent, AuditHead, AuditSeal
from servio.audit.sealing import locked_head
from servio.demo.tables import TableWriter, reserve_ids

# (at, actor_id, actor_repr, action, object_type, object_id, object_repr, changes)
PendingEvent = tuple[datetime, int | None, str, str, str, str, str, dict]

EVENT_COLUMNS = (
    "id", "at", "actor_id", "actor_repr", "action", "object_type", "object_id", "object_repr",
    "changes", "request_id", "client_ip", "format", "salt", "redacted",
)  # fmt: skip
SEAL_COLUMNS = ("seq", "event_id", "prev_hash", "hash", "sealed_at")


def append_events(events: Iterable[PendingEvent]) -> tuple[int, int]:
    """Write and seal the events in order; returns (first seq, last seq) of their seals."""
    pending = list(events)
    with transaction.atomic():
        head = locked_head()
        first = seq = head.seq
        prev = head.hash
        ids = reserve_ids(AuditEvent, len(pending))
        now = timezone.now()
        event_rows, seal_rows = [], []
        for pk, (at, actor_id, actor_repr, action, otype, oid, orepr, changes) in zip(
            ids, pending, strict=True
        ):
            event = AuditEvent(
                id=pk,
                at=at if at.tzinfo is UTC else at.astimezone(UTC),
                actor_id=actor_id,
                actor_repr=actor_repr[:254],
                action=action,
                object_type=otype,
                object_id=oid,
                object_repr=orepr[:200],
                changes=changes,
            )
            seq += 1
            digest = chain.link_hash(event, seq=seq, prev_hash=prev)
            event_rows.append(
                (
                    pk, event.at, actor_id, event.actor_repr, action, otype, oid,
                    event.object_repr, chain.canonical(changes), "", None, event.format,
                    event.salt, "{}",
                )
            )  # fmt: skip
            seal_rows.append((seq, pk, prev, digest, now))
            prev = digest
        TableWriter(AuditEvent, EVENT_COLUMNS).write(event_rows)
        TableWriter(AuditSeal, SEAL_COLUMNS).write(seal_rows)
        if seq != head.seq:
            AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return first + 1, seq
