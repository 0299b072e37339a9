"""Benchmark: the SLA compliance report over 1,000,000 finished clocks, for every grouping.

    .venv/bin/python -m bench.sla_compliance [--clocks 1000000] [--runs 3]

Runs against its own PostgreSQL database, `SERVIO_SLA_BENCH_DATABASE_URL` (default
postgres://postgres@127.0.0.1:5432/servio_sla_bench, shared with bench.sla_scan; created and
migrated if missing). `--clocks` resolved tickets and one finished clock each (met or breached,
spread over two years, four policies, ten organisations and services, five teams and
priorities) are written by COPY once and reused. Each figure is the median time of the report
as the API computes it (`servio.sla.selectors.compliance`), in milliseconds: over everything and
over one quarter as an administrator, and as an agent whose team serves three organisations.
Prints one line per figure: `name value unit`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.sla_scan import (
    NUMBER_BASE,
    base_rows,
    figure,
    insert_rows,
    insert_tickets,
    note,
    setup_django,
)

FINISHED_BASE = NUMBER_BASE + 100_000_000
FIRST = datetime(2024, 12, 2, 9, 0, tzinfo=UTC)  # a Monday
SPAN_DAYS = 728
MINUTE = timedelta(minutes=1)


def _moments(i: int) -> tuple[datetime, datetime]:
    """When ticket `i` was logged and finished (deterministic, spread over two years)."""
    created = FIRST + timedelta(days=(i * 7919) % SPAN_DAYS, minutes=(i * 37) % 480)
    return created, created + MINUTE * (30 + (i * 131) % 5000)


def ensure_finished_clocks(base: dict, count: int) -> None:
    from servio.sla.models import SlaClock
    from servio.tickets.models import Ticket

    have = SlaClock.objects.filter(
        ticket__number__gte=FINISHED_BASE, state__in=["met", "breached"]
    ).count()
    if have == count:
        note(f"{count} finished bench clocks present")
        return
    if have or Ticket.objects.filter(number__gte=FINISHED_BASE).exists():
        raise SystemExit("The bench database holds a different number of finished clocks: drop it.")
    note(f"generating {count} resolved tickets and {count} finished clocks")
    started = time.monotonic()
    ids = insert_tickets(base, FINISHED_BASE, count, "resolved", _moments)
    policies, calendar = base["policies"], base["calendar"]
    orgs = [r.organization_id for r in base["requesters"]]
    services = [s.pk for s in base["services"]]
    teams = [t.pk for t in base["teams"]]
    rng = random.Random(42)

    def rows():
        for n, ticket_id in enumerate(ids):
            created, finished = _moments(n)
            metric = "first_response" if n % 2 else "resolution"
            priority = 1 + n % 5
            target = 7200 if metric == "first_response" else 8 * 3600 * priority
            elapsed = rng.uniform(0.2, 1.3) * target
            breached = elapsed > target
            yield (
                ticket_id,
                policies[n % len(policies)].pk,
                "sla",
                metric,
                teams[n % len(teams)],
                calendar.pk,
                priority,
                target,
                "breached" if breached else "met",
                breached,
                created,
                elapsed,
                created + timedelta(seconds=target),
                finished,
                orgs[n % len(orgs)],
                services[(n // 3) % len(services)],
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
            "breached",
            "started_at",
            "elapsed_seconds",
            "due_at",
            "stopped_at",
            "organization_id",
            "service_id",
        ],
        rows(),
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE " + connection.ops.quote_name(SlaClock._meta.db_table))
    figure("sla.compliance.generate", time.monotonic() - started, "s")


def _median_ms(runs: int, func) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, result


def readers(base: dict) -> tuple:
    """An administrator (every organisation) and an agent whose team serves three of the bench
    organisations: the report is read as each of them, permission and scope included."""
    from servio.accounts.models import Team, User
    from servio.accounts.roles import Role

    def person(email: str, role: str):
        user = User.objects.filter(email=email).first()
        return user or User.objects.create_user(
            email=email, password=None, full_name=email.split("@")[0], role=role
        )

    admin = person("admin@sla-bench.example", Role.ADMIN)
    agent = person("agent@sla-bench.example", Role.AGENT)
    team, _ = Team.objects.get_or_create(
        slug="sla-bench-readers", defaults={"name": "SLA bench readers"}
    )
    team.members.add(agent)
    team.serves.set(base["orgs"][:3])
    return admin, agent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("The compliance benchmark needs PostgreSQL.")
    from servio.sla.selectors import GROUPS, compliance

    base = base_rows()
    ensure_finished_clocks(base, args.clocks)
    admin, agent = readers(base)
    total = 0
    for group_by in GROUPS:
        ms, rows = _median_ms(
            args.runs, lambda g=group_by: compliance(user=admin, group_by=g, start=None, end=None)
        )
        total = sum(r["total"] for r in rows)
        figure(f"sla.compliance.{group_by}", ms, "ms")
    figure("sla.compliance.clocks", total, "clocks")

    quarter = {"start": datetime(2025, 4, 1, tzinfo=UTC), "end": datetime(2025, 7, 1, tzinfo=UTC)}
    ms, rows = _median_ms(
        args.runs, lambda: compliance(user=admin, group_by="organization", **quarter)
    )
    figure("sla.compliance.organization_one_quarter", ms, "ms")
    ms, rows = _median_ms(
        args.runs, lambda: compliance(user=agent, group_by="week", start=None, end=None)
    )
    figure("sla.compliance.week_three_organizations", ms, "ms")


if __name__ == "__main__":
    main()
