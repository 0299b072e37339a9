"""Reads of the security log (administrators only)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from servio.core.errors import PermissionDenied
from servio.security.models import SecurityEvent


def security_events(
    *,
    user,
    kind: str | None = None,
    user_id: int | None = None,
    client_ip: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[SecurityEvent]:
    """The log filtered by kind, the person refused, their address and a period [since, until)."""
    if not user.has_capability("security.read"):
        raise PermissionDenied("Only administrators may read the security log.")
    qs = SecurityEvent.objects.visible_to(user)
    if kind is not None:
        qs = qs.filter(kind=kind)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if client_ip is not None:
        qs = qs.filter(client_ip=client_ip)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs
