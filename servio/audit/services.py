"""Writing and verifying the audit trail. Services call `audit_record` inside their transaction.

Appending locks the chain's tip row (`AuditHead`) until the transaction ends, which serialises
every audited writer. So a service opens its transaction with `audit_atomic()`: the events it
records are collected and appended together when the block ends, with the tip locked once and as
late as possible (from there to commit). Outside such a block `audit_record` appends at once.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from servio.audit.models import AuditEvent, AuditHead
from servio.core import context, deferred
from servio.core.rows import columns as rows_columns
from servio.core.rows import preparers, values_sql

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
    """SHA-256 of the event's canonical JSON: its HASHED_FIELDS with sorted keys, compact."""
    head, middle = hash_pieces(values)
    body = f"{head}{values['prev_hash']}{middle}{int(values['seq'])}}}"
    return hashlib.sha256(body.encode()).hexdigest()


# The last three keys of the canonical JSON in sorted order: what only the chain knows.
_CHAINED = ("prev_hash", "request_id", "seq")


def hash_pieces(values: dict[str, Any]) -> tuple[str, str]:
    """The canonical JSON around the two values only the chain's tip decides, so that
    `head + prev_hash + middle + str(seq) + "}"` is the hashed body (PostgreSQL chains with
    these pieces inside the appending statement, see `_append_chained_in_sql`)."""
    canonical = {k: values[k] for k in HASHED_FIELDS if k not in _CHAINED}
    canonical["at"] = _utc_iso(canonical["at"])
    start = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    head = start[:-1] + ',"prev_hash":"'
    middle = '","request_id":' + json.dumps(values["request_id"]) + ',"seq":'
    return head, middle


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
    """Append one event to the chain, inside the caller's transaction.

    Within `audit_atomic()` the event is appended when that block ends (it has no `seq` until
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
        pending = _Pending(event)
        # Django forgets on-commit callbacks of a savepoint that rolls back: the marker tells
        # the end of the block whether the event's change still stands.
        transaction.on_commit(pending)
        batch.append(pending)
        return event
    _append([event])
    return event


class _Pending:
    """An event waiting for the end of its `audit_atomic` block (a no-op after commit)."""

    __slots__ = ("event",)

    def __init__(self, event: AuditEvent) -> None:
        self.event = event

    def __call__(self) -> None:
        return None


def _batch() -> list[_Pending] | None:
    conn = transaction.get_connection()
    batch = getattr(conn, "servio_audit_batch", None)
    return batch if batch is not None and conn.in_atomic_block else None


@contextmanager
def audit_atomic(*, savepoint: bool = True) -> Iterator[None]:
    """`transaction.atomic()` whose audit events are appended together as the block ends.

    Nested blocks join the outermost one, which appends for all; a failing block (or a
    rolled-back savepoint inside it) takes its events with it. When the block is the whole
    transaction, on PostgreSQL the append and the COMMIT travel together (decision 14).
    """
    conn = transaction.get_connection()
    whole_transaction = not conn.in_atomic_block
    with transaction.atomic(savepoint=savepoint):
        if _batch() is not None:
            yield
            return
        batch: list[_Pending] = []
        conn.servio_audit_batch = batch
        try:
            with deferred.collecting() as rows:
                yield
            standing = {id(func) for _, func, _ in conn.run_on_commit}
            events = [p.event for p in batch if id(p) in standing]
            later = [item for item in rows if id(item) in standing]
        finally:
            conn.servio_audit_batch = None
        if events:
            _append(events, commit=whole_transaction, later=later)
        elif later:
            deferred.insert_now(later)


# The columns an appended event fills, in this order (every column but the id).
EVENT_FIELDS = (
    "seq", "at", "actor_id", "actor_repr", "action", "object_type", "object_id", "object_repr",
    "changes", "request_id", "client_ip", "prev_hash", "hash",
)  # fmt: skip
# What the event itself decides; the chain adds seq, prev_hash and hash.
OWN_FIELDS = EVENT_FIELDS[1:-2]


def _append(
    events: list[AuditEvent], *, commit: bool = False, later: list[deferred.Deferred] | None = None
) -> None:
    """Chain the events after the tip in order, insert them, move the tip.

    `commit`: the caller's block is the whole transaction and ends right after this; on
    PostgreSQL the COMMIT is then sent with the appending statement, so the tip is locked for
    the server's time only, never while this thread waits for Python's interpreter lock.
    `later`: rows the block deferred (`core.deferred`), inserted with the events.
    """
    at = timezone.now()
    for event in events:
        event.at = at
    if connection.vendor == "postgresql":
        ids = _append_chained_in_sql(events, commit=commit, later=later or [])
    else:
        deferred.insert_now(later or [])
        ids = _append_chained_in_python(events)
    for event in events:
        event.pk = ids[event.seq]
        event._state.adding, event._state.db = False, connection.alias


def _append_chained_in_python(events: list[AuditEvent]) -> dict[int, int]:
    """Lock the tip, hash here, insert, move the tip: three statements (SQLite, whose write
    transactions are serial anyway)."""
    head_table = connection.ops.quote_name(AuditHead._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        seq, prev = _lock_tip(cursor, head_table)
        rows = []
        for event in events:
            seq += 1
            event.seq, event.prev_hash = seq, prev
            event.hash = prev = compute_hash(_event_values(event))
            rows.append([getattr(event, f) for f in EVENT_FIELDS])
        insert, params = values_sql(AuditEvent, EVENT_FIELDS, rows)
        cursor.execute(insert + " RETURNING id, seq", params)
        ids = dict(_seq_ids(cursor.fetchall()))
        move_tip = f"UPDATE {head_table} SET seq = %s, hash = %s WHERE id = 1"  # noqa: S608
        cursor.execute(move_tip, [seq, prev])
    return ids


def _append_chained_in_sql(
    events: list[AuditEvent], *, commit: bool, later: list[deferred.Deferred]
) -> dict[int, int]:
    """One statement: `servio_audit_chain` (migration audit 0003) locks the tip, hashes each
    event from the pieces of its canonical JSON and moves the tip; the INSERT takes its seq and
    hashes; deferred rows come along as CTEs. With `commit`, the COMMIT goes in the same round
    trip (psycopg's pipeline)."""
    pieces = [hash_pieces(_event_values(event)) for event in events]
    conn = transaction.get_connection()
    prepares = preparers(AuditEvent, OWN_FIELDS)
    own = [
        prepare(getattr(event, name), conn)
        for event in events
        for name, prepare in zip(OWN_FIELDS, prepares, strict=True)
    ]
    ctes, cte_params = deferred.as_ctes(later)
    sql = ctes + _chained_insert_sql(len(events))
    # The pieces as scalars, not two arrays: psycopg dumps array elements in Python.
    params = [*cte_params, *(h for h, _ in pieces), *(m for _, m in pieces), *own]
    raw = conn.connection
    with conn.cursor() as cursor, conn.wrap_database_errors:
        if commit:
            with raw.pipeline():
                cursor.execute(sql, params)
                raw.commit()
        else:
            cursor.execute(sql, params)
        rows = cursor.fetchall()
    chain = {int(seq): (int(pk), prev, digest) for pk, seq, prev, digest in rows}
    for event, seq in zip(events, sorted(chain), strict=True):
        _, event.prev_hash, event.hash = chain[seq]
        event.seq = seq
    return {seq: pk for seq, (pk, _, _) in chain.items()}


@functools.cache
def _own_fields() -> tuple[Any, ...]:
    return tuple(AuditEvent._meta.get_field(name) for name in OWN_FIELDS)


@functools.cache
def _chained_insert_sql(count: int) -> str:
    quote = connection.ops.quote_name
    fields = _own_fields()
    casts = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    names = [f"v{i}" for i in range(len(fields))]
    rows = ", ".join(f"({i}, {casts})" for i in range(1, count + 1))
    texts = ", ".join(["%s"] * count)
    columns = rows_columns(AuditEvent, EVENT_FIELDS)
    return (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT c.out_seq, {', '.join(f'v.{n}' for n in names)}, c.out_prev, c.out_hash "
        f"FROM servio_audit_chain(ARRAY[{texts}]::text[], ARRAY[{texts}]::text[]) AS c "
        f"JOIN (VALUES {rows}) AS v (ord, {', '.join(names)}) ON v.ord = c.ord "
        "ORDER BY c.ord RETURNING id, seq, prev_hash, hash"
    )


def _seq_ids(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, int]]:
    for pk, seq in rows:
        yield int(seq), int(pk)


def _lock_tip(cursor, head_table: str) -> tuple[int, str]:
    """The tip's sequence number and hash, locked to this transaction's end."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(f"SELECT seq, hash FROM {head_table} WHERE id = 1{lock}")  # noqa: S608
    row = cursor.fetchone()
    if row is None:  # the very first event
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        return head.seq, head.hash
    return int(row[0]), str(row[1])


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
