"""Server time and size of the UI's main pages on the bench database (read-only).

`python -m bench.ui_pages [--rounds N]` renders the agent queue pages and ticket pages
in-process through Django's test client, as agent@example.com, against
SERVIO_BENCH_DATABASE_URL (default: the `servio_bench` PostgreSQL database that `bench.tickets`
fills with a million tickets). Everything runs inside one READ ONLY transaction that is rolled
back, and sessions are signed cookies, so the database is not written to.

Figures: `ui.queue.p50/.p95` (ms, over my work, my teams, unassigned, breaching soon,
recently updated, all tickets and a word search), `ui.ticket.p50/.p95` (ms, random tickets the
agent may see), the CPU time of this process per request (`.cpu.p95`, less sensitive to a
busy machine than wall time; the database's own time is in the wall time only), the largest
HTML of each (KB), their query counts, and the static assets of a first page load and of the
dashboard, gzip-compressed (KB) as WhiteNoise serves them.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/servio_bench"
QUEUES = [
    "/desk/?queue=mine",
    "/desk/?queue=teams",
    "/desk/?queue=unassigned",
    "/desk/?queue=breaching",
    "/desk/?queue=recent",
    "/desk/?queue=all",
    "/desk/?queue=all&q=printer",
]
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"')


def figure(name: str, value: float, unit: str) -> None:
    print(f"{name} {value:.1f} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def setup(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="servio.settings",
        SERVIO_VAR_DIR=str(ROOT / "var" / "bench-ui"),
        SERVIO_LOG_LEVEL="WARNING",
        SERVIO_DEBUG="0",
    )
    import django

    django.setup()
    from django.conf import settings

    from servio.web.static_dirs import static_dirs

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    settings.STATICFILES_DIRS = static_dirs(settings.NODE_MODULES)


def signed_in_client(user):
    """A test client with a signed-cookie session: signing in writes nothing."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.test import Client

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    return client


CPU: list[float] = []


def timed(client, url: str) -> tuple[float, int, str]:
    """Wall time of one request (ms); its CPU time in this process goes to CPU."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    CPU.append((time.process_time() - cpu) * 1000)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed, len(response.content), response.content.decode()


def queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx.captured_queries)


def gzipped_assets(html: str) -> tuple[int, list[str]]:
    """Bytes of the page's CSS and JS once gzip-compressed (what WhiteNoise serves)."""
    from django.contrib.staticfiles import finders

    total, names = 0, []
    for url in dict.fromkeys(ASSET.findall(html)):
        path = finders.find(url.removeprefix("/static/"))
        if path is None:
            raise SystemExit(f"static file not found: {url}")
        total += len(gzip.compress(Path(path).read_bytes(), compresslevel=9))
        names.append(url)
    return total, names


def sample_tickets(agent, count: int) -> list[str]:
    from django.db.models import Max

    from servio.tickets.models import Ticket

    top = Ticket.objects.aggregate(top=Max("pk"))["top"] or 0
    rng = random.Random(7)
    visible = Ticket.objects.visible_to(agent)
    found: list[str] = []
    while len(found) < count and top:
        ids = [rng.randint(1, top) for _ in range(count * 3)]
        found += [t.reference for t in visible.filter(pk__in=ids).only("kind", "number")]
    return found[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="requests per queue page")
    parser.add_argument("--tickets", type=int, default=200, help="ticket pages to render")
    args = parser.parse_args()
    setup(os.environ.get("SERVIO_BENCH_DATABASE_URL", DEFAULT_URL))

    from django.db import connection, transaction

    from servio.accounts.models import User
    from servio.tickets.models import Ticket

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        note(f"{Ticket.objects.count():,} tickets in the database; load {os.getloadavg()[0]:.1f}")
        agent = User.objects.get(email="agent@example.com")
        lead = User.objects.filter(role="team_lead", is_active=True).first()
        client = signed_in_client(agent)
        for url in QUEUES:  # warm up: imports, template loading, database caches
            timed(client, url)
        queue_ms, queue_sizes = [], []
        CPU.clear()
        for _ in range(args.rounds):
            for url in QUEUES:
                ms, size, _html = timed(client, url)
                queue_ms.append(ms)
                queue_sizes.append(size)
        per_queue = {url: [] for url in QUEUES}
        for i, ms in enumerate(queue_ms):
            per_queue[QUEUES[i % len(QUEUES)]].append(ms)
        queue_cpu = list(CPU)
        references = sample_tickets(agent, args.tickets)
        for reference in references[:10]:
            timed(client, f"/desk/t/{reference}/")
        ticket_ms, ticket_sizes = [], []
        CPU.clear()
        for reference in references:
            ms, size, _html = timed(client, f"/desk/t/{reference}/")
            ticket_ms.append(ms)
            ticket_sizes.append(size)
        figure("ui.queue.p50", statistics.median(queue_ms), "ms")
        figure("ui.queue.p95", percentile(queue_ms, 0.95), "ms")
        for url, values in per_queue.items():
            name = url.split("queue=")[1].replace("&q=", ".search.")
            figure(f"ui.queue.{name}.p95", percentile(values, 0.95), "ms")
        figure("ui.queue.cpu.p95", percentile(queue_cpu, 0.95), "ms")
        figure("ui.ticket.p50", statistics.median(ticket_ms), "ms")
        figure("ui.ticket.p95", percentile(ticket_ms, 0.95), "ms")
        figure("ui.ticket.cpu.p95", percentile(CPU, 0.95), "ms")
        figure("ui.queue.html.max", max(queue_sizes) / 1024, "KB")
        figure("ui.ticket.html.max", max(ticket_sizes) / 1024, "KB")
        figure("ui.queue.queries", queries(client, QUEUES[1]), "queries")
        figure("ui.ticket.queries", queries(client, f"/desk/t/{references[0]}/"), "queries")
        _ms, _size, html = timed(client, QUEUES[0])
        first, names = gzipped_assets(html)
        note("first load: " + ", ".join(names))
        figure("ui.static.first_load.gzip", first / 1024, "KB")
        if lead is not None:
            _ms, _size, html = timed(signed_in_client(lead), "/desk/dashboard/")
            dashboard, names = gzipped_assets(html)
            note("dashboard: " + ", ".join(names))
            figure("ui.static.dashboard.gzip", dashboard / 1024, "KB")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
