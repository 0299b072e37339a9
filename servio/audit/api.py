"""API: read the audit trail (admins only). There is no write path."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from servio.api.pagination import PageQuery, paginate
from servio.audit import selectors

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    seq: int | None  # the event's number in the hash chain; None until the sealer chains it
    at: dt.datetime
    actor_id: int | None
    actor_repr: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    request_id: str
    client_ip: str | None
    hash: str | None  # its link in the chain; None until sealed


class AuditPage(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None


class AuditQuery(PageQuery):
    """Filters (all optional, typed without "| None" like PageQuery) and the page."""

    object_type: str = Field(None, description="e.g. accounts.user")
    object_id: str = Field(None, description="The record's id.")
    action: str = Field(None, description="e.g. user.updated")


@router.get("/audit-events", response=AuditPage)
def list_audit_events(request: HttpRequest, query: Query[AuditQuery]):
    """Newest first; filter by object or action."""
    qs = selectors.audit_events(
        user=request.auth,
        object_type=query.object_type,
        object_id=query.object_id,
        action=query.action,
    )
    result = paginate(
        qs.select_related("seal"), order=["-id"], cursor=query.cursor, limit=query.limit
    )
    return {"items": [_out(e) for e in result.items], "next_cursor": result.next_cursor}


def _out(event) -> dict[str, Any]:
    seal = getattr(event, "seal", None)
    chained = {
        "id": event.pk,
        "seq": seal.seq if seal else None,
        "hash": seal.hash if seal else None,
    }
    own = {name: getattr(event, name) for name in AuditEventOut.model_fields if name not in chained}
    return {**own, **chained}
