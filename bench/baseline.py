"""The creation benchmark's baseline: a bare Django view that inserts one ticket-wide row.

`bench_baseline_ticket` is created `LIKE tickets_ticket INCLUDING ALL` plus the same foreign
keys, so the row has the ticket's width, defaults, indexes (the full-text index too) and
constraints. The view does what any JSON create endpoint must (parse the body, insert the row
in a transaction, answer 201 with JSON) and nothing of Servio's: no authentication, policy,
numbering, audit, outbox or SLA clocks. It is served by the same gunicorn settings and the same
Django middleware as Servio (see `baseline_wsgi.py`).
"""

from __future__ import annotations

import json
import secrets

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_baseline_ticket"
SOURCE = "tickets_ticket"
COLUMNS = (
    "kind", "number", "title", "description", "requester_id", "organization_id", "service_id",
    "impact", "urgency", "priority", "priority_overridden", "status", "hold_reason",
    "resolution_code", "resolution_notes", "source", "is_major", "created_at", "updated_at",
    "reassignment_count", "reopen_count", "version",
)  # fmt: skip
INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names
    f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) RETURNING id"
)


def ensure_table() -> None:
    """Create the baseline table (PostgreSQL) as a structural copy of the ticket table."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The creation baseline runs on PostgreSQL.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [TABLE])
        if cursor.fetchone()[0] is not None:
            return
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {SOURCE} INCLUDING ALL)")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [SOURCE],
        )
        for i, (_, definition) in enumerate(cursor.fetchall()):
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_fk{i} {definition}")


@csrf_exempt
def create(request: HttpRequest) -> JsonResponse:
    try:
        data = json.loads(request.body)
        title = str(data["title"])[:200]
        description = str(data.get("description", ""))
        impact, urgency = int(data.get("impact", 3)), int(data.get("urgency", 3))
        requester, organization = int(data["requester"]), int(data["organization"])
        service = data.get("service")
    except (ValueError, KeyError, TypeError) as exc:
        return JsonResponse({"detail": f"bad request: {exc}"}, status=422)
    now = timezone.now()
    values = [
        "incident", secrets.randbits(62), title, description, requester, organization, service,
        impact, urgency, min(5, impact + urgency - 1), False, "new", "", "", "", "api", False,
        now, now, 0, 0, 1,
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, values)
        pk = cursor.fetchone()[0]
    return JsonResponse(
        {"id": pk, "title": title, "status": "new", "created_at": now.isoformat()}, status=201
    )


urlpatterns = [path("baseline/tickets", create)]
