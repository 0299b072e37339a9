"""Ticket benchmarks: API creation vs a bare insert, the agent queue, ticket detail, queries.

    .venv/bin/python -m bench.tickets [--tickets 1000000] [--duration 20]

Against PostgreSQL (`SERVIO_BENCH_DATABASE_URL`, default
postgres://postgres@127.0.0.1:5432/servio_bench; the database is created if missing, never a
`test` database) holding `--tickets` generated tickets (generated only if the count is short).
Servio and the baseline are each served by gunicorn with 2 gthread workers (8 threads, as
`servio run --workers 2`, without the access log) on 127.0.0.1; the load comes from a separate
process (`bench/http_load.py`). Prints one line per figure: `name value unit`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/servio_bench"
PYTHON = sys.executable

DESCRIPTION = (
    "Since this morning the printer on the 3rd floor shows a paper jam, but there is no paper "
    "in it. I opened every tray and restarted it twice. Several colleagues cannot print their "
    "invoices, so this blocks the month-end close for the finance team. Thanks!"
)


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


# --- the database -----------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or name == "test" or name.startswith("test_"):
        raise SystemExit(f"Refusing to benchmark in the database '{name}': use a bench database.")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            note(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def settle(url: str) -> None:
    """Write out what earlier phases left dirty (CHECKPOINT) before the next phase, so that no
    phase pays for the previous one's writes: a checkpoint the creation load triggered was still
    flushing during the reads in some runs and doubled their latency."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            note("CHECKPOINT needs superuser or pg_checkpoint; phases may overlap a checkpoint")


def bench_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="servio.settings",
        SERVIO_VAR_DIR=str(ROOT / "var" / "bench"),
        SERVIO_API_RATE_LIMIT="1000000000",
        SERVIO_LOG_LEVEL="WARNING",
        SERVIO_DEBUG="0",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def ensure_tickets(env: dict[str, str], wanted: int) -> None:
    from servio.tickets.models import Ticket

    have = Ticket.objects.count()
    if have >= wanted:
        note(f"{have} tickets present")
        return
    missing = wanted - have
    note(f"{have} tickets present: generating {missing}")
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-m", "servio", "generate", "--tickets", str(missing), "--seed", str(have)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    figure("generate.seconds", time.monotonic() - started, "s")
    figure("generate.tickets", missing, "tickets")


def open_database(url: str, tickets: int) -> dict[str, str]:
    """Create (if missing), configure Django for, migrate and fill the bench database; returns
    the environment the servers and `servio generate` run with."""
    ensure_database(url)
    env = bench_env(url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    ensure_tickets(env, tickets)
    return env


# --- fixtures ---------------------------------------------------------------------------------


def prepare() -> dict:
    """Tokens, ids and ticket numbers the load needs (and the baseline table)."""
    from django.db import connection

    from bench.baseline import ensure_table
    from servio import demo
    from servio.accounts.models import Team, User
    from servio.accounts.roles import Role
    from servio.accounts.services import token_create
    from servio.tickets.models import Service, Ticket, format_number

    ensure_table()
    agent = User.objects.get(email=demo.AGENT_EMAIL)
    requesters = list(
        User.objects.filter(
            role=Role.REQUESTER, is_active=True, organization__isnull=False
        ).order_by("pk")[:16]
    )
    services = list(Service.objects.filter(is_active=True).values_list("pk", flat=True))
    teams = list(Team.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, number FROM {Ticket._meta.db_table} TABLESAMPLE SYSTEM (1) LIMIT 4000"  # noqa: S608
        )
        rows = cursor.fetchall()
        if len(rows) < 500:  # a small database: sampling pages finds too few
            cursor.execute(
                f"SELECT kind, number FROM {Ticket._meta.db_table} ORDER BY random() LIMIT 2000"  # noqa: S608
            )
            rows = cursor.fetchall()
        refs = [format_number(kind, number) for kind, number in rows]
    random.Random(7).shuffle(refs)
    from servio.core.models import OutboxMessage

    return {
        "last_ticket": Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "last_outbox": OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        or 0,
        "agent_token": token_create(actor=agent, name="bench", scope="write").plaintext,
        "requesters": [
            {
                "token": token_create(actor=u, name="bench", scope="write").plaintext,
                "id": u.pk,
                "organization": u.organization_id,
            }
            for u in requesters
        ],
        "services": services,
        "teams": teams,
        "refs": refs[:2000],
    }


# --- servers and load -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(app: str, env: dict[str, str], probe: str, *, workers: int = 2, threads: int = 8):
    port = free_port()
    command = [
        PYTHON, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads), "--timeout", "60",
        "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{app} exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(f"GET {probe} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
                    if s.recv(12).startswith(b"HTTP/"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{app} did not answer within 60 s")
            time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(plan: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(plan, handle)
        path = handle.name
    try:
        done = subprocess.run(
            [PYTHON, "-m", "bench.http_load", path],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(path)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["errors"] or result["failures"]:
        note(f"unexpected answers: {result['statuses']} {result['failures'][:3]}")
    return result


def combined(results: list[dict]) -> dict:
    """Rounds of one measurement: their mean throughput and mean percentiles."""

    def mean(key: str) -> float:
        return sum(r[key] for r in results) / len(results)

    return {
        "throughput": mean("throughput"),
        "p50_ms": mean("p50_ms"),
        "p95_ms": mean("p95_ms"),
        "errors": sum(r["errors"] for r in results),
    }


def report(name: str, result: dict, unit: str) -> None:
    figure(f"{name}.throughput", result["throughput"], unit)
    figure(f"{name}.p50", result["p50_ms"], "ms")
    figure(f"{name}.p95", result["p95_ms"], "ms")
    if result["errors"]:
        figure(f"{name}.errors", result["errors"], "requests")


def creation_plans(fx: dict, port: int, *, baseline: bool, options) -> dict:
    requests = []
    for i, person in enumerate(fx["requesters"]):
        body = {
            "title": f"Printer on the 3rd floor jams ({'b' if baseline else 't'}{{n}})",
            "description": DESCRIPTION,
            "impact": 3,
            "urgency": 2,
            "service": fx["services"][i % len(fx["services"])],
        }
        if baseline:
            body.update(requester=person["id"], organization=person["organization"])
        requests.append(
            {
                "method": "POST",
                "path": "/baseline/tickets" if baseline else "/api/v1/tickets",
                "headers": {"Authorization": f"Bearer {person['token']}"},
                "body": json.dumps(body),
            }
        )
    return {
        "host": "127.0.0.1",
        "port": port,
        "concurrency": 16,
        "duration": options.duration,
        "warmup": options.warmup,
        "requests": requests,
        "expect": [201],
    }


def read_plan(fx: dict, port: int, paths: list[str], options) -> dict:
    auth = {"Authorization": f"Bearer {fx['agent_token']}"}
    return {
        "host": "127.0.0.1",
        "port": port,
        "concurrency": options.read_clients,
        "duration": options.duration,
        "warmup": options.warmup,
        "requests": [{"method": "GET", "path": p, "headers": auth, "body": None} for p in paths],
        "expect": [200],
    }


def queue_path(team: int, limit: int = 50) -> str:
    return f"/api/v1/tickets?team={team}&open=true&sort=priority&limit={limit}"


def busiest_team() -> int:
    """The team with the most open tickets (its queue fills a page of 50)."""
    from django.db.models import Count

    from servio.tickets.models import Ticket

    row = (
        Ticket.objects.open()
        .exclude(team=None)
        .values("team")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if row is None:
        raise SystemExit("No open ticket has a team: generate tickets first.")
    return row["team"]


def count_queries(token: str, team: int) -> dict[int, int]:
    """Queries one queue request makes, in-process (Django's CaptureQueriesContext)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(queue_path(team, 10))  # warm: token touch, caches
    counts = {}
    for limit in (10, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(queue_path(team, limit))
        if response.status_code != 200 or len(response.json()["items"]) != limit:
            raise SystemExit(
                f"list request failed: {response.status_code} {response.content[:300]}"
            )
        counts[limit] = len(ctx.captured_queries)
    return counts


def remove_created(fx: dict, url: str) -> None:
    """Delete the tickets the creation rounds added (with their outbox rows) and refresh the
    planner's statistics: each run adds tens of thousands of open, unassigned tickets, and
    without this the database drifted away from the generated million run after run (the UI's
    unassigned queue held 357,545 of them after a day of runs)."""
    import psycopg

    from servio.audit.models import AuditHead
    from servio.core.models import OutboxMessage
    from servio.tickets.models import Ticket

    started = time.monotonic()
    created = Ticket.objects.filter(pk__gt=fx["last_ticket"]).order_by("-pk")
    count = 0
    # In batches: a statement takes at most 65,535 parameters (the ORM's cascade lists ids).
    while ids := list(created.values_list("pk", flat=True)[:5000]):
        Ticket.objects.filter(pk__in=ids).delete()
        count += len(ids)
    OutboxMessage.objects.filter(pk__gt=fx["last_outbox"]).delete()
    with psycopg.connect(url, autocommit=True) as conn:
        # The audit head is one row rewritten by every creation: tens of thousands of dead
        # versions a run, which nothing else clears where autovacuum is off.
        for model in (Ticket, OutboxMessage, AuditHead):
            conn.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    note(f"removed the {count} tickets of the creation rounds ({time.monotonic() - started:.0f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--tickets", type=int, default=int(env("SERVIO_BENCH_TICKETS", 1_000_000)))
    parser.add_argument(
        "--duration",
        type=float,
        default=float(env("SERVIO_BENCH_DURATION", 20)),
        help="seconds per measurement",
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured")
    parser.add_argument("--read-clients", type=int, default=4, help="clients for the reads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--database-url", default=os.environ.get("SERVIO_BENCH_DATABASE_URL"))
    options = parser.parse_args(argv)
    url = options.database_url or DEFAULT_URL
    env = open_database(url, options.tickets)
    fx = prepare()
    from django.db import connection

    connection.close()  # the servers get the database to themselves

    shape = {"workers": options.workers, "threads": options.threads}
    with (
        server("servio.wsgi:application", env, "/api/v1/openapi.json", **shape) as port,
        server("bench.baseline_wsgi:application", env, "/baseline/tickets", **shape) as other,
    ):
        # Servio, baseline, baseline, Servio: a drift of the machine's speed during the run
        # (seen here: 15 % within minutes) weighs on both sides alike. Idle, a server costs
        # nothing.
        rounds: dict[bool, list[dict]] = {False: [], True: []}
        for baseline in (False, True, True, False):
            settle(url)
            plan = creation_plans(
                fx, other if baseline else port, baseline=baseline, options=options
            )
            rounds[baseline].append(load(plan))
            side = "baseline" if baseline else "servio"
            note(f"creation round: {side} {rounds[baseline][-1]['throughput']:.0f}/s")
        settle(url)
        queue = load(read_plan(fx, port, [queue_path(t) for t in fx["teams"]], options))
        detail = load(read_plan(fx, port, [f"/api/v1/tickets/{r}" for r in fx["refs"]], options))
    created, baseline = combined(rounds[False]), combined(rounds[True])
    queries = count_queries(fx["agent_token"], busiest_team())
    remove_created(fx, url)

    report("tickets.create", created, "tickets/s")
    report("baseline.insert", baseline, "rows/s")
    ratio = created["throughput"] / baseline["throughput"] if baseline["throughput"] else 0.0
    figure("tickets.create.vs_baseline", ratio, "ratio")
    figure("tickets.queue.p50", queue["p50_ms"], "ms")
    figure("tickets.queue.p95", queue["p95_ms"], "ms")
    figure("tickets.detail.p50", detail["p50_ms"], "ms")
    figure("tickets.detail.p95", detail["p95_ms"], "ms")
    figure("tickets.list.queries.limit10", queries[10], "queries")
    figure("tickets.list.queries.limit50", queries[50], "queries")


if __name__ == "__main__":
    main()
