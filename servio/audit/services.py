"""Writing the audit trail. Services call `audit_record` inside their transaction.

An event is written unchained, through the ORM, in the service's own transaction; it waits in
`AuditPending` until the sealer (`audit.sealing`) gives it its place in the hash chain, seconds
after it commits. No audited writer waits for another (decision 31). A service opens its
transaction with `audit_atomic()`, so the events it records are written together, in one
statement, when the block ends; outside such a block `audit_record` writes at once.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models, transaction

from servio.audit.models import AuditEvent, AuditPending
from servio.core import context


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
    """Record one event inside the caller's transaction (the sealer chains it after commit).

    Within `audit_atomic()` the event is written when that block ends (it has no id until
    then); an event recorded inside a savepoint that rolls back is dropped with it.
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
        object_repr = object_repr or str(target)
    ctx = context.current()
    event = AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=(getattr(actor, "email", "") or str(actor or "system"))[:254],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=str(object_repr)[:200],
        changes=json_safe(changes or {}),
        request_id=ctx.request_id,
        client_ip=ctx.client_ip,
    )
    batch = _batch()
    if batch is not None:
        kept = _Kept(event)
        # Django forgets on-commit callbacks of a savepoint that rolls back: the marker tells
        # the end of the block whether the event's change still stands.
        transaction.on_commit(kept)
        batch.append(kept)
        return event
    _append([event])
    return event


class _Kept:
    """An event waiting for the end of its `audit_atomic` block (a no-op after commit)."""

    __slots__ = ("event",)

    def __init__(self, event: AuditEvent) -> None:
        self.event = event

    def __call__(self) -> None:
        return None


def _batch() -> list[_Kept] | None:
    conn = transaction.get_connection()
    batch = getattr(conn, "servio_audit_batch", None)
    return batch if batch is not None and conn.in_atomic_block else None


@contextmanager
def audit_atomic(*, savepoint: bool = True) -> Iterator[None]:
    """`transaction.atomic()` whose audit events are written together as the block ends.

    Nested blocks join the outermost one, which writes for all; a failing block (or a
    rolled-back savepoint inside it) takes its events with it.
    """
    conn = transaction.get_connection()
    with transaction.atomic(savepoint=savepoint):
        if _batch() is not None:
            yield
            return
        batch: list[_Kept] = []
        conn.servio_audit_batch = batch
        try:
            yield
            standing = {id(func) for _, func, _ in conn.run_on_commit}
            events = [kept.event for kept in batch if id(kept) in standing]
        finally:
            conn.servio_audit_batch = None
        if events:
            _append(events)


def _append(events: list[AuditEvent]) -> None:
    """Write the events and their places in the sealer's queue: two statements for any number
    of events. The sealer chains them after commit; nothing here waits for another writer."""
    events = AuditEvent.objects.bulk_create(events)
    AuditPending.objects.bulk_create([AuditPending(event=event, at=event.at) for event in events])
