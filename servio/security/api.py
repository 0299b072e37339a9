"""API: read the security log (administrators only). There is no write path."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import IPvAnyAddress

from servio.api.pagination import PageQuery, paginate
from servio.api.types import UtcDateTime
from servio.security import selectors
from servio.security.models import SecurityEvent
from servio.tickets.inputs import MAX_ID

router = Router(tags=["security"])


class SecurityEventOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    user_id: int | None
    user_repr: str
    client_ip: str | None
    method: str
    path: str
    status: int | None
    object_type: str
    object_id: str
    detail: dict[str, Any]
    request_id: str


class SecurityEventPage(Schema):
    items: list[SecurityEventOut]
    next_cursor: str | None


class SecurityEventQuery(PageQuery):
    """Filters (all optional, typed without "| None" like PageQuery) and the page."""

    kind: SecurityEvent.Kind = Field(None, description="What was refused or happened.")
    user: int = Field(None, ge=1, le=MAX_ID, description="The id of the person refused.")
    client_ip: IPvAnyAddress = Field(None, description="The client's address.")
    since: UtcDateTime = Field(None, description="Events at or after this time.")
    until: UtcDateTime = Field(None, description="Events before this time.")


@router.get("/security-events", response=SecurityEventPage)
def list_security_events(request: HttpRequest, query: Query[SecurityEventQuery]):
    """Newest first: refused lookups (404 for hidden or missing records), 403s, failed sign-ins,
    sign-in pauses and throttled password resets."""
    qs = selectors.security_events(
        user=request.auth,
        kind=query.kind,
        user_id=query.user,
        client_ip=str(query.client_ip) if query.client_ip is not None else None,
        since=query.since,
        until=query.until,
    )
    result = paginate(qs, order=["-at", "-id"], cursor=query.cursor, limit=query.limit)
    return {"items": result.items, "next_cursor": result.next_cursor}
