"""Benchmark: ticket search, `GET /api/v1/tickets?q=...`, on a million generated tickets.

    .venv/bin/python -m bench.search [--runs 30] [--tickets 1000000] [--database-url URL]

**Database.** PostgreSQL at `--database-url` (or `SERVIO_BENCH_DATABASE_URL`; default
postgres://postgres@127.0.0.1:5432/servio_bench, never a `test` database), migrated, topped up
with `servio generate` if it holds fewer than `--tickets` tickets (as `bench.tickets` does).
Before measuring, the bench runs `VACUUM ANALYZE` on the ticket table: the planner needs its
statistics, the index-only reads need its visibility map and the GIN index its pending list
merged, and nothing else does this where autovacuum is off.

**Requests.** In-process through the whole API (Django's test client: middleware, bearer-token
authentication, the list endpoint, `paginate`, JSON rendering; no network and no server), one
request at a time, the first page (`limit` 50, the default sort, newest first) of each search:

| case | q | what it is |
|---|---|---|
| `rare` | `outage` | a word in a few dozen tickets |
| `word_1pct` | `toner` | a word in about 1 % of the tickets |
| `word_2pct` | `rejected` | a word in about 2 % |
| `common` | `urgent` | a word in about a quarter |
| `two_words` | `printer jam` | two words, both must occur |
| `phrase` | `"paper jam"` | a quoted phrase |
| `word_2pct_page2` | `rejected` | the second page, through the first page's cursor |
| `no_search` | (empty) | the same list without a search: what any list request costs here |

The words come from the generator's vocabulary (`servio/demo/content.py`); a note on stderr
gives how many tickets each search matches. Each case runs as three users: `agent`
(`agent@example.com`, whose team serves every organisation), `requester` (Rita of Acme, whose
requesters see their organisation's tickets: almost half of all) and `requester_own` (a Globex
requester, who sees only their own). The cases take turns, round after round (`--runs`
rounds after two not counted), so a drift of the machine's speed weighs on all alike.

**Figures.** `search.<user>.<case>.p50` and `.p95` (nearest rank) in milliseconds, from sending
the request to its whole response. Target: every p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/servio_bench"
CASES = {
    "rare": "outage",
    "word_1pct": "toner",
    "word_2pct": "rejected",
    "common": "urgent",
    "two_words": "printer jam",
    "phrase": '"paper jam"',
    "no_search": "",  # for reference: the list without a search, on the same machine
}
SECOND_PAGE = "word_2pct"  # also measured on its second page


def figure(name: str, value: float, unit: str) -> None:
    """One result line: `name value unit`."""
    text = f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"
    print(f"{name} {text} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    rank = max(1, round(share * len(ordered) + 0.5))  # nearest rank
    return ordered[min(rank, len(ordered)) - 1]


def vacuum_analyze(url: str) -> None:
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tickets_ticket")
    note(f"VACUUM ANALYZE tickets_ticket: {time.monotonic() - started:.0f} s")


def users() -> dict:
    from servio import demo
    from servio.accounts.models import User

    requesters = User.objects.filter(role="requester", is_active=True).order_by("pk")
    globex = requesters.filter(organization__name__startswith="Globex").first()
    found = {
        "agent": User.objects.get(email=demo.AGENT_EMAIL),
        "requester": User.objects.get(email=demo.REQUESTER_EMAIL),
        "requester_own": globex,
    }
    if None in found.values():
        raise SystemExit("The database lacks the demo's agent or requesters: generate it first.")
    return found


def matches(people: dict) -> None:
    """How many tickets each search finds, in all and for each user (a note, not a figure)."""
    from servio.tickets import search
    from servio.tickets.models import Ticket

    total = Ticket.objects.count()
    for case, q in CASES.items():
        found = search.search(Ticket.objects.all(), q).count()
        seen = {
            name: search.search(Ticket.objects.visible_to(user), q).count()
            for name, user in people.items()
        }
        shares = ", ".join(f"{name} sees {n}" for name, n in seen.items())
        note(f"{case} q={q}: {found} of {total} tickets ({100 * found / total:.2f} %); {shares}")


def get(client, q: str, cursor: str | None = None) -> dict:
    """One page of a search through the API, as a client would ask for it."""
    params = {"q": q, "limit": 50, **({"cursor": cursor} if cursor else {})}
    response = client.get("/api/v1/tickets", params)
    if response.status_code != 200:
        raise SystemExit(f"q={q}: {response.status_code} {response.content[:300]!r}")
    return response.json()


def requests_for(people: dict) -> list[tuple[str, object, str, str | None]]:
    """(label, client, q, cursor) of every case for every user, each user with a token."""
    from django.test import Client

    from servio.accounts.services import token_create

    clients = {
        name: Client(
            HTTP_AUTHORIZATION=f"Bearer {token_create(actor=user, name='bench search').plaintext}"
        )
        for name, user in people.items()
    }
    cursors = {name: get(c, CASES[SECOND_PAGE])["next_cursor"] for name, c in clients.items()}
    return [
        (f"{name}.{case}", client, q, None)
        for name, client in clients.items()
        for case, q in CASES.items()
    ] + [
        (f"{name}.{SECOND_PAGE}_page2", client, CASES[SECOND_PAGE], cursors[name])
        for name, client in clients.items()
        if cursors[name]
    ]


def measure(requests: list, runs: int, warmup: int = 2) -> dict[str, list[float]]:
    """Milliseconds of each request over `runs` rounds, the cases taking turns in each round;
    the `warmup` rounds before (caches, prepared statements) are not counted."""
    times: dict[str, list[float]] = {label: [] for label, *_ in requests}
    for round_ in range(warmup + runs):
        for label, client, q, cursor in requests:
            started = time.perf_counter()
            get(client, q, cursor)
            if round_ >= warmup:
                times[label].append((time.perf_counter() - started) * 1000)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--runs", type=int, default=30, help="rounds measured")
    parser.add_argument("--tickets", type=int, default=int(env("SERVIO_BENCH_TICKETS", 1_000_000)))
    parser.add_argument("--database-url", default=env("SERVIO_BENCH_DATABASE_URL"))
    options = parser.parse_args(argv)
    url = options.database_url or DEFAULT_URL

    from bench.tickets import open_database

    open_database(url, options.tickets)
    vacuum_analyze(url)
    people = users()
    matches(people)
    times = measure(requests_for(people), options.runs)
    for label, measured in times.items():
        figure(f"search.{label}.p50", statistics.median(measured), "ms")
        figure(f"search.{label}.p95", percentile(measured, 0.95), "ms")


if __name__ == "__main__":
    main()
