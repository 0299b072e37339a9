"""The creation benchmark's baseline: a bare Django view that inserts one ticket-wide row.

`bench_baseline_ticket` is created `LIKE tickets_ticket INCLUDING ALL` plus the same foreign
keys, so the row has the ticket's width, defaults, indexes (the full-text index too) and
constraints; `BaselineTicket` mirrors Ticket's fields onto it. The view does what any JSON create
endpoint must (parse the body, save the row through the ORM in a transaction, answer 201 with
JSON) and nothing of Servio's: no authentication, policy, numbering, audit, outbox or SLA
clocks. It is served by the same gunicorn settings and the same
Django middleware as Servio (see `baseline_wsgi.py`).
"""

from __future__ import annotations

import json
import secrets

from django.db import connection, models, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_baseline_ticket"
SOURCE = "tickets_ticket"


def _mirror_model() -> type[models.Model]:
    """An unmanaged model with every concrete field of Ticket, stored in the baseline table."""
    from servio.tickets.models import Ticket

    attrs: dict = {"__module__": __name__}
    for field in Ticket._meta.concrete_fields:
        name, _, args, kwargs = field.deconstruct()
        if field.is_relation:
            kwargs["related_name"] = "+"
        attrs[name] = type(field)(*args, **kwargs)
    attrs["Meta"] = type("Meta", (), {"app_label": "bench", "db_table": TABLE, "managed": False})
    return type("BaselineTicket", (models.Model,), attrs)


BaselineTicket = _mirror_model()


def ensure_table() -> None:
    """Create the baseline table (PostgreSQL) afresh as a structural copy of the ticket table:
    every run's baseline starts empty, as Servio's from the same tickets (`bench.tickets`
    removes the tickets its creation rounds added), and with the indexes the ticket table has
    now (a copy kept from an earlier run kept the indexes a migration had since dropped)."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The creation baseline runs on PostgreSQL.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
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
    """Parse the JSON, save one ticket-wide row through the ORM in a transaction, answer 201."""
    try:
        data = json.loads(request.body)
        impact, urgency = int(data.get("impact", 3)), int(data.get("urgency", 3))
        row = BaselineTicket(
            kind="incident",
            number=secrets.randbits(62),
            title=str(data["title"])[:200],
            description=str(data.get("description", "")),
            requester_id=int(data["requester"]),
            organization_id=int(data["organization"]),
            service_id=data.get("service"),
            impact=impact,
            urgency=urgency,
            priority=min(5, impact + urgency - 1),
            source="api",
        )
    except (ValueError, KeyError, TypeError) as exc:
        return JsonResponse({"detail": f"bad request: {exc}"}, status=422)
    with transaction.atomic():
        row.save(force_insert=True)
    return JsonResponse(
        {"id": row.pk, "title": row.title, "status": row.status, "created_at": row.created_at},
        status=201,
    )


urlpatterns = [path("baseline/tickets", create)]
