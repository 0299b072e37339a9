"""Health endpoint: is the database reachable, how far behind is background work."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema

from servio.core import outbox

router = Router(tags=["system"])


class HealthOut(Schema):
    status: str
    database: str
    outbox_pending: int
    outbox_dead: int
    outbox_lag_seconds: float


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthOut})
def health(request: HttpRequest):
    """200 when the database answers; outbox figures show whether background work keeps up."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        stats = outbox.outbox_stats()
    except DatabaseError:
        body = {
            "status": "unavailable",
            "database": "unreachable",
            "outbox_pending": 0,
            "outbox_dead": 0,
            "outbox_lag_seconds": 0.0,
        }
        return JsonResponse(body, status=503)
    return {
        "status": "ok",
        "database": connection.vendor,
        "outbox_pending": stats.pending,
        "outbox_dead": stats.dead,
        "outbox_lag_seconds": stats.lag_seconds,
    }
