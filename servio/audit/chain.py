"""The audit hash format: the one place that says what an event's hash covers (decision 31).

The writer (the sealer), the verifier and the bulk loader of the demo and generator all call
`link_hash`; nothing else hashes audit events. Each event carries the `format` it was written
in, so a later format (new fields) never breaks the verification of older events.

Format 2 (current) hashes in two steps:

- the event's *content digest*: SHA-256 of its canonical JSON, in which every personal value
  (who acted as text, the object's label, the client address, each changed field's values)
  stands as its own salted digest, not as the value itself. A later privacy erasure can
  therefore replace a personal value and keep its digest (`redacted`), and the chain still
  verifies; the salt (random per event) keeps a digest from being matched against a guessed
  value by anyone who has only the digest.
- the *link*: SHA-256 of the canonical JSON of the format, the sequence number, the previous
  link and the content digest. The sealer assigns `seq` and chains events after they commit.

Format 1 (until December 2026) is SHA-256 of the canonical JSON of the event's fields with
`seq` and `prev_hash` among them (decisions 5 and 14); it is kept to verify those events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

FORMAT = 2
GENESIS = "0" * 64
# Event fields whose values may name or identify a person; they enter the hash as digests.
PERSONAL_FIELDS = ("actor_repr", "object_repr", "client_ip")
# What replaces an erased value (the digest of the original is kept in `redacted`).
ERASED = "[erased]"

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys and ASCII escapes: the same text on every machine."""
    return _dumps(value)


def new_salt() -> str:
    """A fresh per-event salt for the personal digests."""
    return secrets.token_hex(16)


def utc_iso(value: dt.datetime) -> str:
    """An aware instant as UTC ISO 8601 with microseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def personal_digest(salt: str, value: Any) -> str:
    """The digest one personal value enters the hash as."""
    return hashlib.sha256((salt + canonical(value)).encode()).hexdigest()


def personal_values(event: Any) -> dict[str, Any]:
    """Name -> value of every personal value of an event: its personal fields, and each changed
    field's [old, new] as `changes.<field>`."""
    values = {name: getattr(event, name) for name in PERSONAL_FIELDS}
    for key, change in (event.changes or {}).items():
        values[f"changes.{key}"] = change
    return values


def personal_digests(event: Any) -> dict[str, str]:
    """Name -> digest of every personal value; an erased value answers with its kept digest."""
    redacted: Mapping[str, str] = event.redacted or {}
    return {
        name: redacted.get(name) or personal_digest(event.salt, value)
        for name, value in personal_values(event).items()
    }


def content_digest(event: Any) -> str:
    """Format 2: what the event says, with personal values as their digests."""
    body = {
        "action": event.action,
        "actor_id": event.actor_id,
        "at": utc_iso(event.at),
        "format": 2,
        "id": event.pk,
        "object_id": event.object_id,
        "object_type": event.object_type,
        "personal": personal_digests(event),
        "request_id": event.request_id,
        "salt": event.salt,
    }
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def link_hash(event: Any, *, seq: int, prev_hash: str) -> str:
    """The hash that seals `event` as number `seq` after `prev_hash`, in the event's format."""
    if event.format == 1:
        return _format1_hash(event, seq=seq, prev_hash=prev_hash)
    if event.format != 2:
        raise ValueError(f"Unknown audit hash format {event.format} of event {event.pk}.")
    link = {"content": content_digest(event), "format": 2, "prev": prev_hash, "seq": seq}
    return hashlib.sha256(canonical(link).encode()).hexdigest()


def _format1_hash(event: Any, *, seq: int, prev_hash: str) -> str:
    """Format 1: the canonical JSON of the event's fields including seq and prev_hash (the key
    order and separators of `json.dumps(sort_keys=True, separators=(",", ":"))`)."""
    body = {
        "action": event.action,
        "actor_id": event.actor_id,
        "actor_repr": event.actor_repr,
        "at": utc_iso(event.at),
        "changes": event.changes,
        "client_ip": event.client_ip,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "object_type": event.object_type,
        "prev_hash": prev_hash,
        "request_id": event.request_id,
        "seq": int(seq),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def redact(event: Any, names: list[str]) -> dict[str, Any]:
    """The field values that erase the named personal values of a format-2 event while keeping
    its hash: each erased value becomes `ERASED` and its digest is kept in `redacted`.

    Returns {field: new value} for the caller to write (an erasure runs under a database role
    that may update audit events; see docs/operations.md). Format-1 events cannot be redacted
    without breaking the chain: they hash their values directly.
    """
    if event.format != 2:
        raise ValueError("Only events of format 2 or later can be redacted.")
    known = personal_values(event)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"Not personal values of this event: {', '.join(unknown)}.")
    digests = personal_digests(event)
    redacted = dict(event.redacted or {})
    changes = dict(event.changes or {})
    update: dict[str, Any] = {}
    for name in names:
        redacted[name] = digests[name]
        if name.startswith("changes."):
            changes[name.removeprefix("changes.")] = ERASED
        else:
            update[name] = None if name == "client_ip" else ERASED
    update["changes"] = changes
    update["redacted"] = redacted
    return update
