"""Writing and verifying the audit trail. Services call `audit_record` inside their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from servio.audit.models import AuditEvent, AuditHead
from servio.core import context

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_repr",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "request_id",
    "client_ip",
    "prev_hash",
)


def json_safe(value: Any) -> Any:
    """Turn a field value into something JSON keeps exactly (for diffs and hashing)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Current values of `fields` (foreign keys by id), for a later `diff`."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = json_safe(getattr(instance, attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] for every field whose value changed."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def _utc_iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(values: dict[str, Any]) -> str:
    canonical = dict(values)
    canonical["at"] = _utc_iso(canonical["at"])
    body = json.dumps(
        {k: canonical[k] for k in HASHED_FIELDS}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _event_values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
        object_repr = object_repr or str(target)
    ctx = context.current()
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_repr=(getattr(actor, "email", "") or str(actor or "system"))[:254],
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=str(object_repr)[:200],
            changes=json_safe(changes or {}),
            request_id=ctx.request_id,
            client_ip=ctx.client_ip,
            prev_hash=head.hash,
        )
        event.hash = compute_hash(_event_values(event))
        event.save()
        AuditHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def audit_verify(progress: Iterator[int] | None = None) -> VerifyResult:
    """Walk the chain in order; report the first edited, missing or reordered row."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            where = expected_seq if event.seq > expected_seq else event.seq
            return VerifyResult(
                False,
                checked,
                where,
                f"expected event #{expected_seq} but found #{event.seq}: "
                "a row was deleted or the order was changed",
            )
        if event.prev_hash != prev:
            return VerifyResult(
                False,
                checked,
                event.seq,
                f"event #{event.seq} does not follow event #{event.seq - 1}: "
                "the previous row was removed, replaced or reordered",
            )
        if compute_hash(_event_values(event)) != event.hash:
            return VerifyResult(
                False, checked, event.seq, f"event #{event.seq} was edited after it was written"
            )
        prev = event.hash
        expected_seq += 1
        checked += 1
        if progress is not None:
            next(progress, None)
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(
            False,
            checked,
            checked + 1 if head.seq > checked else head.seq,
            f"the chain ends at event #{checked} but its recorded tip is #{head.seq}: "
            "the newest rows were deleted or the tip was altered",
        )
    return VerifyResult(True, checked)
