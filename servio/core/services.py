"""Writes people make to the background machinery: requeueing dead letters (audited)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from servio.audit.services import audit_atomic, audit_record
from servio.core import outbox
from servio.core.errors import PermissionDenied, ValidationFailed
from servio.core.models import DeadLetter

MAX_REQUEUE = 1000


def dead_letters_requeue(*, actor: Any, ids: list[int]) -> list[int]:
    """Give dead letters (of any handler) a fresh set of attempts, due now, once their cause is
    fixed; one audit event per row keeps its handler, attempts and last error. Returns the ids
    requeued (rows that are no longer dead are left alone)."""
    if not actor.has_capability("admin.configure"):
        raise PermissionDenied("Only administrators may requeue dead letters.")
    if len(ids) > MAX_REQUEUE:
        raise ValidationFailed.field(
            "ids", f"Requeue at most {MAX_REQUEUE} dead letters at a time; select fewer."
        )
    with audit_atomic():
        rows: QuerySet[DeadLetter] = DeadLetter.objects.select_for_update().filter(id__in=ids)
        dead = list(rows.order_by("id"))
        requeued = [row.id for row in dead]
        outbox.requeue_dead(ids=requeued)
        for row in dead:
            audit_record(
                actor=actor,
                action="outbox.dead_letter_requeued",
                object_type="core.outboxmessage",
                object_id=row.id,
                object_repr=f"{row.topic} -> {row.handler}"[:200],
                changes={
                    "status": [row.status, "pending"],
                    "attempts": [row.attempts, 0],
                    "last_error": [row.last_error[:500], ""],
                },
            )
    return requeued
