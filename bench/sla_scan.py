"""Benchmark: the periodic SLA scan over 200,000 open tickets, 1,000 of whose clocks are due.

    .venv/bin/python -m bench.sla_scan [--tickets 200000] [--due 1000] [--runs 5]

Runs against its own database, `SERVIO_SLA_BENCH_DATABASE_URL` (default
postgres://postgres@127.0.0.1:5432/servio_sla_bench; created and migrated if missing; `test*`
and `servio_bench` are refused). The open tickets and their clocks (a first response and a
resolution clock each, on a Berlin office calendar with German holidays) are written by COPY
once and reused. Each run makes exactly `--due` first-response clocks reach their 75% warning
(and no other level), runs the scan as the periodic job does, and puts the clocks back.
Prints one line per figure: `name value unit`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/servio_sla_bench"
# The scan's "now": Wednesday 25 November 2026, 13:00 in Berlin.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TITLE = "SLA bench"
NUMBER_BASE = 800_000_000  # far above any number the sequences hand out
HANDLER = "bench.sla.recorder"


def figure(name: str, value: float, unit: str) -> None:
    """One result line: `name value unit`."""
    if float(value).is_integer() or abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) < 1:
        text = f"{value:.3g}"
    else:
        text = f"{value:.1f}"
    print(f"{name} {text} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# --- database and Django ----------------------------------------------------------------------


def setup_django() -> str:
    """Point Django at the SLA bench database (created if missing) and migrate it."""
    if "django" in sys.modules and getattr(sys.modules["django"], "apps", None) is not None:
        from django.apps import apps

        if apps.ready:
            raise SystemExit("Run the SLA benchmarks as their own process: python -m bench.sla_…")
    url = os.environ.get("SERVIO_SLA_BENCH_DATABASE_URL", DEFAULT_URL)
    parsed = urlparse(url)
    if parsed.scheme.startswith("postgres"):
        _ensure_postgres_database(url)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="servio.settings",
        SERVIO_VAR_DIR=os.environ.get("SERVIO_SLA_BENCH_VAR_DIR", str(ROOT / "var" / "bench-sla")),
        SERVIO_LOG_LEVEL="WARNING",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return url


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or name == "test" or name.startswith("test_") or name == "servio_bench":
        raise SystemExit(f"Refusing to use the database '{name}': give the SLA bench its own.")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            note(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def insert_rows(model, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Bulk-write rows (COPY on PostgreSQL, executemany elsewhere); other columns get defaults."""
    from django.db import connection, transaction

    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    rest = [f for name, f in fields.items() if name not in columns]
    names = [fields[c].column for c in columns] + [f.column for f in rest]
    tail = tuple(_db_value(f, f.get_default()) for f in rest)
    table = model._meta.db_table
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            quoted = ", ".join(f'"{n}"' for n in names)
            sql = f'COPY "{table}" ({quoted}) FROM STDIN'
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(
                        (
                            *(_db_value(fields[c], v) for c, v in zip(columns, row, strict=True)),
                            *tail,
                        )
                    )
                    count += 1
        else:
            marks = ", ".join(["%s"] * len(names))
            sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({marks})'  # noqa: S608
            for chunk in _chunks(rows, 5000):
                cursor.executemany(
                    sql,
                    [
                        (
                            *(_db_value(fields[c], v) for c, v in zip(columns, row, strict=True)),
                            *tail,
                        )
                        for row in chunk
                    ],
                )
                count += len(chunk)
    return count


def _db_value(field, value: Any) -> Any:
    if field.get_internal_type() == "JSONField":
        return json.dumps(value)
    return value


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def base_rows() -> dict[str, Any]:
    """Organisations, requesters, teams, services, the calendar and policies (made once)."""
    from servio.accounts.models import Organization, Team, User
    from servio.accounts.roles import Role
    from servio.sla.models import Calendar, SlaPolicy, SlaTarget
    from servio.tickets.models import Service

    orgs, requesters = [], []
    for i in range(10):
        org, _ = Organization.objects.get_or_create(
            slug=f"sla-bench-{i}", defaults={"name": f"SLA bench customer {i}"}
        )
        user = User.objects.filter(email=f"requester{i}@sla-bench.example").first()
        if user is None:
            user = User.objects.create_user(
                email=f"requester{i}@sla-bench.example",
                password=None,
                full_name=f"Requester {i}",
                role=Role.REQUESTER,
                organization=org,
            )
        orgs.append(org)
        requesters.append(user)
    teams = [
        Team.objects.get_or_create(slug=f"sla-bench-{i}", defaults={"name": f"SLA bench team {i}"})[
            0
        ]
        for i in range(5)
    ]
    services = [Service.objects.get_or_create(name=f"SLA bench service {i}")[0] for i in range(10)]
    calendar, _ = Calendar.objects.get_or_create(
        name="SLA bench Berlin",
        defaults={
            "time_zone": "Europe/Berlin",
            "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "holiday_country": "DE",
            "holiday_subdivision": "BE",
        },
    )
    policies = []
    for i, name in enumerate(("Bench gold", "Bench silver", "Bench bronze", "Bench standard")):
        policy, created = SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "order": 10 * (i + 1),
                "warning_thresholds": [75, 90],
                "pause_on": ["on_hold:awaiting_requester"],
            },
        )
        if created:
            for priority in range(1, 6):
                SlaTarget.objects.create(
                    policy=policy,
                    metric="first_response",
                    priority=priority,
                    minutes=120,
                    calendar=calendar,
                )
                SlaTarget.objects.create(
                    policy=policy,
                    metric="resolution",
                    priority=priority,
                    minutes=60 * 8 * priority,
                    calendar=calendar,
                )
        policies.append(policy)
    return {
        "orgs": orgs,
        "requesters": requesters,
        "teams": teams,
        "services": services,
        "calendar": calendar,
        "policies": policies,
    }


def insert_tickets(base: dict[str, Any], first_number: int, count: int, status: str, when) -> range:
    """COPY `count` minimal tickets numbered from `first_number`; returns their ids."""
    from django.db.models import Max

    from servio.tickets.models import Ticket

    requesters, teams, services = base["requesters"], base["teams"], base["services"]

    def rows():
        for i in range(count):
            requester = requesters[i % len(requesters)]
            created, finished = when(i)
            yield (
                "incident",
                first_number + i,
                TITLE,
                requester.pk,
                requester.organization_id,
                services[i % len(services)].pk,
                teams[i % len(teams)].pk,
                1 + i % 5,
                status,
                created,
                finished or created,
                finished,
                finished,
            )

    before = Ticket.objects.aggregate(m=Max("id"))["m"] or 0
    insert_rows(
        Ticket,
        [
            "kind",
            "number",
            "title",
            "requester_id",
            "organization_id",
            "service_id",
            "team_id",
            "priority",
            "status",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
        ],
        rows(),
    )
    ids = list(
        Ticket.objects.filter(
            id__gt=before,
            kind="incident",
            number__gte=first_number,
            number__lt=first_number + count,
        )
        .order_by("number")
        .values_list("id", flat=True)
    )
    assert len(ids) == count and ids == list(range(ids[0], ids[0] + count))
    return range(ids[0], ids[0] + count)


# --- the scan benchmark -----------------------------------------------------------------------


def ensure_open_clocks(base: dict[str, Any], tickets: int) -> range:
    """`tickets` open tickets, each with a running first-response and resolution clock."""
    from servio.sla.models import SlaClock
    from servio.tickets.models import Ticket

    existing = Ticket.objects.filter(
        title=TITLE, status="in_progress", number__gte=NUMBER_BASE
    ).order_by("id")
    if existing.count() == tickets:
        first = existing.values_list("id", flat=True).first()
        note(f"{tickets} open bench tickets present")
        return range(first, first + tickets)
    if existing.exists():
        raise SystemExit("The bench database holds a different number of open tickets: drop it.")
    note(f"generating {tickets} open tickets and {2 * tickets} running clocks")
    started = time.monotonic()
    policy, calendar = base["policies"][-1], base["calendar"]
    # Every ticket was logged between 08:30 and 11:30 today (Berlin).
    ids = insert_tickets(
        base,
        NUMBER_BASE,
        tickets,
        "in_progress",
        lambda i: (NOW - timedelta(hours=1, minutes=30 + i % 180), None),
    )
    engine = calendar.engine()
    from servio.sla.calendar import add_business_seconds

    def rows():
        for n, ticket_id in enumerate(ids):
            started_at = NOW - timedelta(hours=1, minutes=30 + n % 180)
            priority = 1 + n % 5
            org = base["requesters"][n % 10].organization_id
            service = base["services"][n % 10].pk
            team = base["teams"][n % 5].pk
            # 8h to respond, 8h x (priority + 1) to resolve: at 13:00 none is near its 75%.
            for metric, target in (
                ("first_response", 8 * 3600),
                ("resolution", 8 * 3600 * (priority + 1)),
            ):
                due = add_business_seconds(calendar=engine, start=started_at, seconds=target)
                warn = add_business_seconds(
                    calendar=engine, start=started_at, seconds=target * 0.75
                )
                yield (
                    ticket_id,
                    policy.pk,
                    "sla",
                    metric,
                    team,
                    calendar.pk,
                    priority,
                    target,
                    "running",
                    started_at,
                    started_at,
                    0.0,
                    due,
                    warn,
                    org,
                    service,
                )

    insert_rows(
        SlaClock,
        [
            "ticket_id",
            "policy_id",
            "policy_type",
            "metric",
            "team_id",
            "calendar_id",
            "priority",
            "target_seconds",
            "state",
            "started_at",
            "running_since",
            "elapsed_seconds",
            "due_at",
            "next_threshold_at",
            "organization_id",
            "service_id",
        ],
        rows(),
    )
    _analyze()
    figure("sla.scan.generate", time.monotonic() - started, "s")
    return ids


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def make_due(ticket_ids: range, due: int) -> list[tuple[int, Any, Any, Any]]:
    """Give `due` first-response clocks 1h40 of a 2h target: past 75% (12:50), not 90% (13:08).

    Returns what to put back afterwards (id, target, due_at, next_threshold_at).
    """
    from servio.sla import clocks
    from servio.sla.models import SlaClock

    step = max(1, len(ticket_ids) // due)
    chosen = list(
        SlaClock.objects.filter(
            ticket_id__in=[ticket_ids[i] for i in range(0, step * due, step)],
            metric="first_response",
        ).select_related("policy", "calendar")
    )
    assert len(chosen) == due
    saved = [(c.pk, c.target_seconds, c.due_at, c.next_threshold_at) for c in chosen]
    for clock in chosen:
        clock.target_seconds = 7200
        clock.running_since = NOW - timedelta(hours=1, minutes=40)
        clock.elapsed_seconds = 0.0
        clock.fired = []
        clock.due_at = None
        clocks.schedule(clock)
        assert clock.next_threshold_at < NOW < clocks.instant_of(clock, 90)
    SlaClock.objects.bulk_update(
        chosen,
        [
            "target_seconds",
            "running_since",
            "elapsed_seconds",
            "fired",
            "due_at",
            "next_threshold_at",
        ],
    )
    return saved


def restore(saved: list[tuple[int, Any, Any, Any]]) -> None:
    from servio.core.models import OutboxMessage
    from servio.sla.models import SlaClock

    by_id = {pk: rest for pk, *rest in saved}
    rows = list(SlaClock.objects.filter(pk__in=by_id))
    for clock in rows:
        clock.target_seconds, clock.due_at, clock.next_threshold_at = by_id[clock.pk]
        clock.fired = []
        clock.running_since = clock.started_at
    SlaClock.objects.bulk_update(
        rows, ["target_seconds", "due_at", "next_threshold_at", "fired", "running_since"]
    )
    OutboxMessage.objects.filter(handler=HANDLER).delete()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    url = setup_django()
    note(f"database {urlparse(url).path.lstrip('/')}")

    from django.db import connection, reset_queries

    from servio.core import outbox
    from servio.sla.models import SlaClock
    from servio.sla.scan import sla_scan

    # The scan publishes through the outbox; a handler makes it write rows as in production.
    outbox.handler("sla.warning", "sla.breached", "sla.escalation", name=HANDLER)(lambda e: None)
    base = base_rows()
    ids = ensure_open_clocks(base, args.tickets)
    live = SlaClock.objects.filter(stopped_at__isnull=True, state__in=["running", "breached"])
    figure("sla.scan.live_clocks", live.count(), "clocks")

    idle = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = sla_scan(now=NOW - timedelta(minutes=30))
        idle.append(time.perf_counter() - t0)
        assert result.clocks_read == 0
    figure("sla.scan.idle_time", statistics.median(idle) * 1e3, "ms")

    times, read, announced, queries = [], [], [], []
    connection.force_debug_cursor = True
    for _ in range(args.runs):
        saved = make_due(ids, args.due)
        reset_queries()
        t0 = time.perf_counter()
        result = sla_scan(now=NOW)
        times.append(time.perf_counter() - t0)
        queries.append(len(connection.queries))
        read.append(result.clocks_read)
        announced.append(result.announced)
        restore(saved)
    connection.force_debug_cursor = False
    figure("sla.scan.time", statistics.median(times) * 1e3, "ms")
    figure("sla.scan.time_max", max(times) * 1e3, "ms")
    figure("sla.scan.clocks_read", statistics.median(read), "clocks")
    figure("sla.scan.announced", statistics.median(announced), "events")
    figure("sla.scan.queries", statistics.median(queries), "queries")


if __name__ == "__main__":
    main()
