"""Turning a request's noted refusals into security log rows, and writing them safely."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from servio.core import refusals
from servio.core.errors import NotFound, PermissionDenied
from servio.core.middleware import client_ip
from servio.security.models import SecurityEvent

log = logging.getLogger(__name__)
Kind = SecurityEvent.Kind
# One request writes at most this many rows (a bulk action refused for every row, say); the
# last says how many more there were.
MAX_PER_REQUEST = 20


@dataclass(frozen=True)
class Entry:
    """A refusal noted by name (sign-in trouble, throttles) rather than by a raised error."""

    kind: str
    object_type: str = ""
    object_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def note(kind: str, **fields: Any) -> None:
    """Keep an entry for the current request's security log (a no-op outside a request)."""
    refusals.note(Entry(kind=kind, **fields))


def events_for(request: HttpRequest, status: int, noted: list[Any]) -> list[SecurityEvent]:
    """The rows for what was noted while `request` ran; `status` is what the caller was told."""
    entries = [entry for entry in map(_entry, noted) if entry is not None]
    if not entries and status == 403:
        # Refused by the framework rather than by a policy: CSRF, Django's own PermissionDenied.
        entries = [Entry(kind=Kind.FORBIDDEN, detail={"by": "framework"})]
    if not entries:
        return []
    more = len(entries) - MAX_PER_REQUEST
    if more > 0:
        last = entries[MAX_PER_REQUEST - 1]
        entries = entries[: MAX_PER_REQUEST - 1]
        entries.append(replace(last, detail={**last.detail, "more": more}))
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        user = None
    common = {
        "client_ip": client_ip(request),
        "method": request.method or "",
        "path": request.path[:500],
        "status": status,
        "request_id": getattr(request, "request_id", "") or "",
    }
    return [
        SecurityEvent(
            kind=entry.kind,
            user=user,
            user_repr=user.email[:254] if user is not None else "",
            object_type=entry.object_type[:100],
            object_id=entry.object_id[:64],
            detail=entry.detail,
            **common,
        )
        for entry in entries
    ]


def _entry(item: Any) -> Entry | None:
    if isinstance(item, Entry):
        return item
    if isinstance(item, NotFound) and item.hidden is not None:
        kind = Kind.NOT_FOUND_HIDDEN if item.hidden else Kind.NOT_FOUND_MISSING
        return Entry(kind=kind, object_type=item.object_type, object_id=item.object_id)
    if isinstance(item, PermissionDenied):
        return Entry(kind=Kind.FORBIDDEN, detail={"reason": item.detail[:300]})
    return None


def record(request: HttpRequest, status: int, noted: list[Any]) -> None:
    """Write the rows for what `request` noted; a failure is logged, never raised (the answer
    is already decided).

    Called after the view's transactions have ended, so a failed request's rollback cannot take
    the rows along; inside a caller's transaction (tests) the savepoint keeps that usable.
    """
    try:
        events = events_for(request, status, noted)
        if events:
            with transaction.atomic():
                SecurityEvent.objects.bulk_create(events)
    except Exception:
        log.exception("Could not write the security log entries of %s", request.path)
