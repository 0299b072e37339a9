"""Health endpoint: is the database reachable, how far behind is background work."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema

from servio.api.problems import problem_response
from servio.api.schemas import Problem
from servio.core import outbox

router = Router(tags=["system"])


class HealthOut(Schema):
    status: str
    database: str
    outbox_pending: int
    outbox_dead: int
    outbox_lag_seconds: float


class HealthProblem(Problem):
    """503: every API error is a problem document; this one also says what is down."""

    database: str


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthProblem})
def health(request: HttpRequest):
    """200 when the database answers; outbox figures show whether background work keeps up."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        stats = outbox.outbox_stats()
    except DatabaseError:
        return problem_response(
            request,
            503,
            "The database does not answer.",
            code="unavailable",
            database="unreachable",
        )
    return {
        "status": "ok",
        "database": connection.vendor,
        "outbox_pending": stats.pending,
        "outbox_dead": stats.dead,
        "outbox_lag_seconds": stats.lag_seconds,
    }
