"""Health endpoint: is the database reachable, how far behind is background work."""

from __future__ import annotations

from django.conf import settings
from django.db import Error, connection
from django.http import HttpRequest
from ninja import Router, Schema

from servio.api.problems import problem_response
from servio.api.schemas import Problem
from servio.core import outages, outbox

router = Router(tags=["system"])


class HealthOut(Schema):
    status: str
    database: str
    outbox_pending: int
    outbox_dead: int
    outbox_lag_seconds: float


class HealthProblem(Problem):
    """503: every API error is a problem document; this one also says what is down, and why."""

    database: str
    reason: str


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthProblem})
def health(request: HttpRequest):
    """200 when the database answers; outbox figures show whether background work keeps up."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        stats = outbox.outbox_stats()
    except Error as exc:
        why = outages.reason(exc) or f"the database failed ({type(exc).__name__})"
        return problem_response(
            request,
            503,
            f"The database cannot serve requests: {why}.",
            code="unavailable",
            headers={"Retry-After": str(settings.SERVIO_UNAVAILABLE_RETRY_AFTER_SECONDS)},
            database="unreachable",
            reason=why,
        )
    return {
        "status": "ok",
        "database": connection.vendor,
        "outbox_pending": stats.pending,
        "outbox_dead": stats.dead,
        "outbox_lag_seconds": stats.lag_seconds,
    }
