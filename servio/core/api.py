"""Health endpoint: is the database reachable, how far behind is background work, and what the
apps' checks find wrong (`core.health`; counts only, no names: it needs no credentials)."""

from __future__ import annotations

from django.conf import settings
from django.db import Error, connection
from django.http import HttpRequest
from ninja import Router, Schema

from servio.api.problems import problem_response
from servio.api.schemas import Problem
from servio.core import health as checks
from servio.core import outages, outbox

router = Router(tags=["system"])


class HealthOut(Schema):
    status: str  # "ok", or "degraded" when `problems` lists something
    database: str
    outbox_pending: int
    outbox_dead: int
    outbox_lag_seconds: float
    checks: dict[str, int]
    figures: dict[str, float]  # e.g. audit_seal_lag_seconds
    problems: list[str]


class HealthProblem(Problem):
    """503: every API error is a problem document; this one also says what is down, and why."""

    database: str
    reason: str


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthProblem})
def health(request: HttpRequest):
    """200 when the database answers, "degraded" when something needs an administrator (dead
    letters, a failing mailbox); outbox figures show whether background work keeps up."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        stats = outbox.outbox_stats()
        counts, problems = checks.run_checks()
        figures = checks.run_figures()
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
    if stats.dead:
        problems.insert(
            0, f"{stats.dead} outbox dead letter(s); requeue or delete them in the admin."
        )
    return {
        "status": "degraded" if problems else "ok",
        "database": connection.vendor,
        "outbox_pending": stats.pending,
        "outbox_dead": stats.dead,
        "outbox_lag_seconds": stats.lag_seconds,
        "checks": counts,
        "figures": figures,
        "problems": problems,
    }
