"""Appending many audit events at once, with the same hash chain `audit_record` writes.

`audit_record` appends one event per call under the tip-row lock. A bulk load appends thousands:
this takes the same lock once, computes each event's hash in Python in chain order, writes the
rows with the fast table writer and moves the tip, all in the caller's transaction. The result
is indistinguishable from calling `audit_record` once per event, so `servio audit verify` passes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import transaction

from servio.audit.models import AuditEvent, AuditHead
from servio.audit.services import HASHED_FIELDS, compute_hash
from servio.demo.tables import TableWriter

# (at, actor_id, actor_repr, action, object_type, object_id, object_repr, changes)
PendingEvent = tuple[datetime, int | None, str, str, str, str, str, dict]

COLUMNS = (
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
    "hash",
)
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
_text = json.encoder.encode_basestring_ascii  # what json.dumps does to each string
CHECK_EVERY = 50_000  # events between comparisons with the service's own hash function


def _body(seq, at_iso, actor_id, actor_repr, action, otype, oid, orepr, changes_json, prev):
    """The exact JSON `compute_hash` hashes (sorted keys, compact), built without a dict."""
    return (
        '{"action":' + _text(action)
        + ',"actor_id":' + ("null" if actor_id is None else str(int(actor_id)))
        + ',"actor_repr":' + _text(actor_repr)
        + ',"at":' + _text(at_iso)
        + ',"changes":' + changes_json
        + ',"client_ip":null,"object_id":' + _text(oid)
        + ',"object_repr":' + _text(orepr)
        + ',"object_type":' + _text(otype)
        + ',"prev_hash":' + _text(prev)
        + ',"request_id":"","seq":' + str(seq) + "}"
    )  # fmt: skip


def append_events(events: Iterable[PendingEvent]) -> tuple[int, int]:
    """Append the events in order to the chain; returns (first seq, last seq) written.

    Runs inside the caller's transaction (or its own); the tip row stays locked until that
    transaction ends, exactly as with `audit_record`.
    """
    writer = TableWriter(AuditEvent, COLUMNS)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        state = {"seq": head.seq, "prev": head.hash}
        first = head.seq + 1
        sha256 = hashlib.sha256

        def rows():
            seq, prev = state["seq"], state["prev"]
            for at, actor_id, actor_repr, action, otype, oid, orepr, changes in events:
                seq += 1
                actor_repr = actor_repr[:254]
                orepr = orepr[:200]
                if at.tzinfo is not UTC:
                    at = at.astimezone(UTC)
                changes_json = _dumps(changes)
                body = _body(
                    seq,
                    at.isoformat(timespec="microseconds"),
                    actor_id,
                    actor_repr,
                    action,
                    otype,
                    oid,
                    orepr,
                    changes_json,
                    prev,
                )
                digest = sha256(body.encode()).hexdigest()
                if (seq - first) % CHECK_EVERY == 0:
                    _check_same_as_service(
                        seq, at, actor_id, actor_repr, action, otype, oid, orepr, changes, prev,
                        digest,
                    )  # fmt: skip
                yield (
                    seq, at, actor_id, actor_repr, action, otype, oid, orepr, changes_json, "",
                    None, prev, digest,
                )  # fmt: skip
                prev = digest
            state["seq"], state["prev"] = seq, prev

        writer.write(rows())
        if state["seq"] != head.seq:
            AuditHead.objects.filter(pk=1).update(seq=state["seq"], hash=state["prev"])
    return first, state["seq"]


def _check_same_as_service(
    seq, at, actor_id, actor_repr, action, otype, oid, orepr, changes, prev, digest
) -> None:
    """Refuse to write a chain the verifier would reject (if the hashing ever changes)."""
    values = {
        "seq": seq,
        "at": at,
        "actor_id": actor_id,
        "actor_repr": actor_repr,
        "action": action,
        "object_type": otype,
        "object_id": oid,
        "object_repr": orepr,
        "changes": changes,
        "request_id": "",
        "client_ip": None,
        "prev_hash": prev,
    }
    if set(HASHED_FIELDS) != set(values) or compute_hash(values) != digest:
        raise RuntimeError(
            "servio.demo.audit_chain no longer hashes like servio.audit.services.compute_hash; "
            "update it before bulk-loading."
        )
