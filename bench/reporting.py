"""Benchmark: the service desk dashboard's figures, a week to a year, on a million tickets.

    .venv/bin/python -m bench.reporting [--runs 9] [--tickets 1000000] [--database URL]
        [--periods 7,30,91,366]

**Database.** `--database` (or `SERVIO_REPORTING_BENCH_DATABASE_URL`) if given. Otherwise the
shared `servio_bench` database when it already holds at least `--tickets` tickets: it is used
read-only (no migration, and the connection runs with `default_transaction_read_only=on`).
Otherwise the bench's own `servio_reporting_bench`, created and migrated if missing and topped
up with `servio generate`. In a database of its own (never in `servio_bench`) the bench also adds
what the generator does not write, once: SLA clocks (a requester SLA's first-response and
resolution clocks on every ticket, an OLA's resolution clock on a third of them, running clocks
on open tickets) and survey answers for a quarter of the resolved tickets, with SQL
`INSERT ... SELECT`, and watches three tickets of an organisation the team lead below does not
serve for them (single tickets in their scope). It then builds the report tables (decision 29:
`servio reports rebuild` the first time, `refresh` later) and `VACUUM ANALYZE`s what it wrote
(autovacuum may be off). In the read-only `servio_bench` nothing is built: the report is then
counted from the tickets, as before decision 29.

**Figures.** Each is the time of `servio.reporting.selectors.service_desk_metrics` as the API
calls it, over the `--periods` (days) that end at the newest ticket, after two warm-up calls:
`p50` and `p95` (nearest rank) of `--runs` calls (a third of them, at least 3, for periods over
92 days), in milliseconds. `<days>` is the length of the period, e.g. `7d`, `366d`.

| figure | scope |
|---|---|
| `reporting.service_desk.<days>` | an administrator: every ticket |
| `...<days>.lead` | a team lead whose teams leave an organisation out (plus watched tickets) |
| `reporting.service_desk.team` | an administrator, 30 days, `team=` the lead's team |
| `reporting.service_desk.csv` | an administrator, 30 days, rendered as the CSV download |
| `reporting.service_desk.queries` | queries of one call (administrator, 30 days) |
| `reporting.tables.build` | seconds to build the report tables from nothing (first run only) |
| `reporting.tables.refresh` | seconds of a refresh after 100 tickets of the last 30 days changed |

With `--live`, every period is also measured with `stored_figures=False` (all counted from the
tickets, what the report did before decision 29), as `reporting.service_desk.<days>.live...`:
slow over long periods (about a minute per figure for a year).

Target: under 1 s for every period up to a year (366 days). Prints `name value unit` lines;
notes go to stderr, prefixed `#`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SHARED_URL = "postgres://postgres@127.0.0.1:5432/servio_bench"
OWN_URL = "postgres://postgres@127.0.0.1:5432/servio_reporting_bench"
READ_ONLY = "options=-c%20default_transaction_read_only%3Don"
PERIODS = "7,30,91,366"
WATCHED = 3  # tickets of an organisation the lead does not serve, watched by the lead


def figure(name: str, value: float, unit: str) -> None:
    """One result line: `name value unit`."""
    text = f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"
    print(f"{name} {text} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def _count_tickets(url: str) -> int | None:
    """Tickets in the database at `url`; None if it or its ticket table does not exist."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT to_regclass('tickets_ticket')").fetchone()
            if not row or row[0] is None:
                return None
            found = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()
            return int(found[0]) if found else 0
    except psycopg.OperationalError:
        return None


def _create_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if not name or name == "test" or name.startswith("test_") or name == "servio_bench":
        raise SystemExit(f"Refusing to create or fill '{name}': give the bench its own database.")
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            note(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def choose_database(given: str | None, wanted: int) -> tuple[str, bool]:
    """(url, owned): the database to measure, and whether the bench may write to it."""
    if given:
        if urlparse(given).path.lstrip("/") != "servio_bench":
            return given, True
        return f"{given}{'&' if '?' in given else '?'}{READ_ONLY}", False
    shared = _count_tickets(SHARED_URL)
    if shared is not None and shared >= wanted:
        note(f"servio_bench holds {shared} tickets: using it read-only")
        return f"{SHARED_URL}?{READ_ONLY}", False
    return OWN_URL, True


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "servio.settings",
        "SERVIO_VAR_DIR": os.environ.get(
            "SERVIO_REPORTING_BENCH_VAR_DIR", str(ROOT / "var" / "bench-reporting")
        ),
        "SERVIO_LOG_LEVEL": "WARNING",
    }


def prepare_own_database(url: str, wanted: int) -> None:
    """Create, migrate and fill the bench's own database up to `wanted` tickets."""
    _create_database(url)
    python = sys.executable
    subprocess.run([python, "-m", "servio", "migrate", "-v", "0"], env=_env(url), check=True)
    have = _count_tickets(url) or 0
    if have < wanted:
        note(f"generating {wanted - have} tickets (a few minutes)")
        started = time.monotonic()
        command = [python, "-m", "servio", "generate", "--tickets", str(wanted - have)]
        subprocess.run([*command, "--seed", str(have)], env=_env(url), check=True, cwd=ROOT)
        figure("reporting.generate.seconds", time.monotonic() - started, "s")


def setup_django(url: str) -> None:
    os.environ.update(_env(url))
    import django

    django.setup()


def add_clocks_and_surveys() -> None:
    """What the generator does not write: SLA clocks and survey answers (once)."""
    from django.db import connection, transaction

    from servio.sla.models import Calendar, SlaClock, SlaPolicy
    from servio.surveys.models import SurveyResponse

    if SlaClock.objects.exists() or SurveyResponse.objects.exists():
        return
    note("adding SLA clocks and survey answers")
    started = time.monotonic()
    with transaction.atomic():
        calendar, _ = Calendar.objects.get_or_create(
            name="Bench 24x7", defaults={"twenty_four_seven": True}
        )
        sla, _ = SlaPolicy.objects.get_or_create(name="Bench SLA", defaults={"type": "sla"})
        ola, _ = SlaPolicy.objects.get_or_create(name="Bench OLA", defaults={"type": "ola"})
        columns = (
            "ticket_id, policy_id, policy_type, metric, team_id, calendar_id, priority, "
            "target_seconds, state, breached, started_at, running_since, elapsed_seconds, "
            "due_at, stopped_at, next_threshold_at, fired, pauses, cycle, organization_id, "
            "service_id"
        )

        def finished(policy, metric: str, target: int, end: str, where: str = "TRUE"):
            """A finished clock per ticket whose `end` column is set: breached if late."""
            late = f"({end} - created_at) > make_interval(secs => %(target)s)"
            # The names are this module's constants; the values are parameters.
            sql = (
                f"INSERT INTO sla_slaclock ({columns}) SELECT id, %(policy)s, %(type)s, "  # noqa: S608
                f"%(metric)s, team_id, %(calendar)s, priority, %(target)s, CASE WHEN {late} "
                f"THEN 'breached' ELSE 'met' END, {late}, created_at, NULL, EXTRACT(EPOCH FROM "
                f"{end} - created_at), created_at + make_interval(secs => %(target)s), {end}, "
                f"NULL, '[]', '[]', 1, organization_id, service_id FROM tickets_ticket "
                f"WHERE {end} IS NOT NULL AND {where}"
            )
            values = {"policy": policy.pk, "type": policy.type, "metric": metric}
            return sql, {**values, "target": target, "calendar": calendar.pk}

        running = (
            f"INSERT INTO sla_slaclock ({columns}) SELECT id, %(policy)s, 'sla', 'resolution', "  # noqa: S608
            "team_id, %(calendar)s, priority, 259200, 'running', FALSE, created_at, created_at, "
            "0, created_at + interval '3 days', NULL, NULL, '[]', '[]', 1, organization_id, "
            "service_id FROM tickets_ticket WHERE status IN ('new', 'in_progress', 'on_hold')"
        )
        statements = [
            finished(sla, "first_response", 4 * 3600, "first_response_at"),
            finished(sla, "resolution", 3 * 86400, "resolved_at"),
            finished(ola, "resolution", 2 * 86400, "resolved_at", "id %% 3 = 0"),
            # Running resolution clocks on open tickets: not finished, so never counted.
            (running, {"policy": sla.pk, "calendar": calendar.pk}),
            (
                "INSERT INTO surveys_surveyinvitation (ticket_id, requester_id, team_id, "
                "agent_id, event_id, created_at, expires_at, used_at) SELECT id, requester_id, "
                "team_id, assignee_id, gen_random_uuid(), resolved_at, resolved_at + interval "
                "'14 days', resolved_at + interval '1 hour' FROM tickets_ticket "
                "WHERE resolved_at IS NOT NULL AND id %% 4 = 0",
                {},
            ),
            (
                "INSERT INTO surveys_surveyresponse (invitation_id, ticket_id, team_id, "
                "agent_id, rating, comment, created_at) SELECT id, ticket_id, team_id, "
                "agent_id, 1 + (ticket_id * 7) %% 5, '', used_at FROM surveys_surveyinvitation",
                {},
            ),
        ]
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
    vacuum_analyze("sla_slaclock", "surveys_surveyinvitation", "surveys_surveyresponse")
    figure("reporting.extras.seconds", time.monotonic() - started, "s")


def vacuum_analyze(*tables: str) -> None:
    """VACUUM ANALYZE what the bench wrote: statistics for the planner, and a visibility map
    (autovacuum may be off, as on the project's machines). Outside any transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


REPORT_TABLES = (
    "reporting_reportday",
    "reporting_reportmonth",
    "reporting_reportdurations",
    "reporting_reportzone",
    "reporting_countedresolution",
)


def build_report_tables() -> None:
    """Build the report tables if they are not (timed), else time a refresh after 100 tickets
    of the last 30 days changed (their `updated_at` moved, as a write moves it): about what a
    busy desk changes between two runs of the job, a minute apart."""
    from django.db.models import Max
    from django.utils import timezone

    from servio.reporting.models import ReportZone
    from servio.reporting.services import report_rebuild, report_refresh
    from servio.tickets.models import Ticket

    if not ReportZone.objects.filter(complete_before__isnull=False).exists():
        note("building the report tables (a few minutes)")
        started = time.monotonic()
        report_rebuild()
        figure("reporting.tables.build", time.monotonic() - started, "s")
    else:
        report_refresh()  # the days that ended since the last run
        newest = Ticket.objects.aggregate(newest=Max("created_at"))["newest"]
        recent = Ticket.objects.filter(created_at__gte=newest - dt.timedelta(days=30))
        picked = list(recent.order_by("?").values_list("pk", flat=True)[:100])
        Ticket.objects.filter(pk__in=picked).update(updated_at=timezone.now())
        started = time.monotonic()
        report_refresh()
        figure("reporting.tables.refresh", time.monotonic() - started, "s")
    vacuum_analyze(*REPORT_TABLES)


def pick_lead():
    """A team lead whose teams do not serve every organisation, so the scope is a part."""
    from servio.accounts import scope
    from servio.accounts.models import Organization, User

    every = set(Organization.objects.values_list("pk", flat=True))
    leads = User.objects.filter(role="team_lead", is_active=True, teams__isnull=False)
    for lead in leads.distinct().order_by("pk"):
        if set(scope.staff_scope(lead)[1]) != every:
            return lead
    return leads.order_by("pk").first()


def watch_unseen_tickets(lead) -> None:
    """Have the lead watch a few service-desk tickets of an organisation they do not see by
    who they are (once): single tickets in their scope, as agents have."""
    from servio.accounts import scope
    from servio.tickets.models import Ticket, Watcher

    if Watcher.objects.filter(user=lead).exists():
        return
    teams, organizations = scope.staff_scope(lead)
    others = Ticket.objects.filter(kind__in=("incident", "request")).exclude(
        organization_id__in=organizations
    )
    picked = others.exclude(team_id__in=teams).order_by("-created_at")[:WATCHED]
    Watcher.objects.bulk_create(Watcher(ticket=ticket, user=lead) for ticket in picked)
    vacuum_analyze("tickets_watcher")


def timed(call: Callable[[], object], runs: int) -> list[float]:
    for _ in range(2):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def report(name: str, times: list[float]) -> None:
    figure(f"{name}.p50", statistics.median(times), "ms")
    rank = max(1, round(0.95 * len(times) + 0.5))  # nearest rank
    figure(f"{name}.p95", times[min(rank, len(times)) - 1], "ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default=os.environ.get("SERVIO_REPORTING_BENCH_DATABASE_URL"))
    parser.add_argument(
        "--periods", default=PERIODS, help="lengths of the periods in days, comma-separated"
    )
    parser.add_argument(
        "--live", action="store_true", help="also measure the report counted from the tickets"
    )
    args = parser.parse_args(argv)
    periods = [int(days) for days in args.periods.split(",")]

    url, owned = choose_database(args.database, args.tickets)
    if owned:
        prepare_own_database(url, args.tickets)
    setup_django(url)
    if owned:
        add_clocks_and_surveys()

    from django.db import connection
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext

    from servio.accounts.models import User
    from servio.reporting import exports
    from servio.reporting.selectors import service_desk_metrics
    from servio.sla.models import SlaClock
    from servio.surveys.models import SurveyResponse
    from servio.tickets.models import Ticket

    admin = User.objects.filter(role="admin", is_active=True).order_by("pk").first()
    lead = pick_lead()
    if admin is None or lead is None:
        raise SystemExit("The database has no administrator or team lead: generate it first.")
    if owned:
        watch_unseen_tickets(lead)
        build_report_tables()
    team = lead.teams.order_by("pk").first()
    newest = Ticket.objects.aggregate(newest=Max("created_at"))["newest"]
    end = newest + dt.timedelta(seconds=1)
    start = end - dt.timedelta(days=30)

    def call(user=admin, since=start, **filters):
        return lambda: service_desk_metrics(user=user, start=since, end=end, **filters)

    def live(user, since):
        return lambda: service_desk_metrics(user=user, start=since, end=end, stored_figures=False)

    sample = call()()
    note(
        f"lead {lead.email}: teams {list(lead.teams.values_list('name', flat=True))}, "
        f"{Ticket.objects.visible_to(lead).count()} tickets visible"
    )
    note(
        f"period {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC: "
        f"{Ticket.objects.count()} tickets, {sample['mtta']['count']} answered and "
        f"{sample['mttr']['count']} resolved in the period, "
        f"{sum(r['count'] for r in sample['backlog'])} open; "
        f"{SlaClock.objects.count()} SLA clocks "
        f"({sample['sla_compliance']['met'] + sample['sla_compliance']['breached']} finished "
        f"in the period), {SurveyResponse.objects.count()} survey answers "
        f"({sample['csat']['responses']} in the period)"
    )
    with CaptureQueriesContext(connection) as queries:
        call()()
    for days in periods:
        since = end - dt.timedelta(days=days)
        runs = args.runs if days <= 92 else max(3, args.runs // 3)
        report(f"reporting.service_desk.{days}d", timed(call(since=since), runs))
        report(f"reporting.service_desk.{days}d.lead", timed(call(lead, since), runs))
        if args.live:
            runs = args.runs if days <= 92 else 3
            report(f"reporting.service_desk.{days}d.live", timed(live(admin, since), runs))
            report(f"reporting.service_desk.{days}d.live.lead", timed(live(lead, since), runs))
    report("reporting.service_desk.team", timed(call(team_id=team.pk), args.runs))
    report(
        "reporting.service_desk.csv",
        timed(lambda: exports.service_desk_csv(call()()), args.runs),
    )
    figure("reporting.service_desk.queries", len(queries), "queries")


if __name__ == "__main__":
    main()
