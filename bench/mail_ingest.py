"""Benchmark: inbound email intake on PostgreSQL, through the MTA pipe path and through IMAP.

    .venv/bin/python -m bench.mail_ingest [--messages 10000] [--command-sample 60] [--skip-imap]
        [--workers 2] [--database-url URL]

Uses its own database (`--database-url`, else `SERVIO_MAIL_BENCH_DATABASE_URL`, default
postgres://postgres@127.0.0.1:5432/servio_mail_bench), dropped and migrated afresh each run;
`test*` databases are refused. The stream is a realistic mix: 55% new requests from senders at
customer domains (the first mail of a new address creates the requester), 35% replies threaded by
In-Reply-To to a ticket created earlier in the stream, 5% with a small attachment, 5% automatic
replies. Each message goes through the full intake: raw stored, parsed, threaded, ticket or
comment written with its audit events, SLA clocks and outbox rows (delivery of the notifications
is not part of intake and not timed).

Figures, one line each (`name value unit`):
  mail.ingest.pipe        the ingest service called as `servio mail ingest` calls it, in-process
  mail.ingest.queries.*   database statements per message of each outcome (new ticket from a new
                          sender, from a known one, reply, automatic reply), counted afterwards
                          on 200 more messages of the same mix (BEGIN and COMMIT included)
  mail.ingest.pipe_2x     the same in --workers processes at once (parallel MTA deliveries)
  mail.ingest.command     `servio mail ingest` run once per message, as an MTA pipe does
                          (a sample of --command-sample messages; the cost is process start-up)
  mail.ingest.command_2x  the same, two deliveries at a time (an MTA delivers in parallel)
  mail.ingest.imap        one poll of a Dovecot mailbox holding --messages unseen messages
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/servio_mail_bench"
DOMAINS = [f"customer{n}.example" for n in range(20)]
DESK = "servicedesk@provider.example"
SUBJECTS = [
    "Printer on floor 3 jams",
    "Cannot log in to the VPN",
    "Laptop battery swells",
    "Need access to the finance share",
    "Outlook keeps asking for my password",
    "New starter next Monday: accounts please",
]
BODY = (
    "Hello,\n\nsince this morning {subject_lower}. I restarted twice and it did not help. "
    "Several colleagues have the same problem.\n\nThanks,\n{name}\n\n-- \n{name}\nCustomer Ltd\n"
)
REPLY = (
    "Thanks, that helped partly. It still happens after lunch.\n\n"
    "On Mon, Service Desk wrote:\n> Please restart the device and tell us.\n> Regards\n"
)


def figure(name: str, value: float, unit: str) -> None:
    print(f"{name} {value:.1f} {unit}", flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or name.startswith("test") or name != name.strip():
        raise SystemExit(f"Refusing to benchmark in the database '{name}': use a bench database.")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")
    os.environ.setdefault("SERVIO_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("SERVIO_LOG_LEVEL", "WARNING")
    os.environ["SERVIO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()


def desk(prefix: str):
    """The provider, customer organisations with mail domains, a team and its mailbox."""
    from servio.accounts.models import Organization, Team
    from servio.mail.models import Mailbox

    provider, _ = Organization.objects.get_or_create(
        slug="provider", defaults={"name": "Provider", "kind": Organization.Kind.PROVIDER}
    )
    for n, domain in enumerate(DOMAINS):
        Organization.objects.get_or_create(
            slug=f"{prefix}-customer-{n}",
            defaults={"name": f"{prefix} Customer {n}", "email_domains": [f"{prefix}.{domain}"]},
        )
    team, _ = Team.objects.get_or_create(slug="service-desk", defaults={"name": "Service Desk"})
    address = DESK if prefix == "pipe" else f"{prefix}-{DESK}"
    mailbox, _ = Mailbox.objects.get_or_create(
        address=address, defaults={"default_team": team, "name": "Service Desk"}
    )
    return mailbox, provider


def stream(count: int, prefix: str, seed: int, ids: str | None = None) -> list[tuple[int, bytes]]:
    """(conversation, message) in arrival order; replies answer messages earlier in the stream.
    `prefix` names the senders' domains and the mailbox, `ids` (default: the same) the
    Message-IDs."""
    from email.message import EmailMessage

    rng = random.Random(seed)
    senders = [
        (f"Person {n}", f"person{n}@{prefix}.{DOMAINS[n % len(DOMAINS)]}") for n in range(2500)
    ]
    originals: list[tuple[str, str, str, str, int]] = []  # id, subject, name, address, thread
    out = []
    for n in range(count):
        msg = EmailMessage()
        roll = rng.random()
        message_id = f"<{ids or prefix}-{n}@client.example>"
        if roll < 0.35 and originals:
            parent_id, subject, name, address, thread = rng.choice(originals)
            msg["Subject"] = f"Re: {subject}"
            msg["In-Reply-To"] = parent_id
            msg["References"] = parent_id
            body = REPLY
        else:
            name, address = rng.choice(senders)
            subject = f"{rng.choice(SUBJECTS)} ({n})"
            msg["Subject"] = subject
            body = BODY.format(subject_lower=subject.lower(), name=name)
            thread = n
            originals.append((message_id, subject, name, address, thread))
        msg["From"] = f"{name} <{address}>"
        msg["To"] = DESK if prefix == "pipe" else f"{prefix}-{DESK}"
        msg["Date"] = "Mon, 12 Jan 2026 09:30:00 +0100"
        msg["Message-ID"] = message_id
        if 0.90 <= roll < 0.95:
            msg["Auto-Submitted"] = "auto-replied"
            msg.replace_header("Subject", f"Automatic reply: {msg['Subject']}")
        msg.set_content(body)
        if roll >= 0.95:
            msg.add_attachment(
                bytes(rng.randrange(256) for _ in range(2048)),
                maintype="application",
                subtype="pdf",
                filename="screenshot.pdf",
            )
        out.append((thread, msg.as_bytes()))
    return out


def outcomes(mailbox) -> str:
    from django.db.models import Count

    from servio.mail.models import InboundMessage

    rows = InboundMessage.objects.filter(mailbox=mailbox).values("status").annotate(n=Count("id"))
    return ", ".join(f"{r['status']} {r['n']}" for r in rows.order_by("status"))


def ingest_all(messages: list[bytes]) -> float:
    """Ingest as `servio mail ingest` does, in this process; returns the seconds it took."""
    from servio.mail import services

    started = time.perf_counter()
    for raw in messages:
        box = services.mailbox_for_delivery(raw=raw)
        services.inbound_ingest(raw=raw, mailbox=box, via="pipe")
    return time.perf_counter() - started


def bench_pipe(messages: list[tuple[int, bytes]], mailbox) -> None:
    elapsed = ingest_all([raw for _, raw in messages])
    note(f"pipe: {len(messages)} messages in {elapsed:.1f} s ({outcomes(mailbox)})")
    figure("mail.ingest.pipe", len(messages) / elapsed, "msg/s")


def count_statements(count: int) -> None:
    """Statements per message by outcome, on `count` more messages of the pipe stream's mix and
    senders (new Message-IDs). BEGIN and COMMIT count as statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servio.accounts.models import User
    from servio.mail import services

    per: dict[str, list[int]] = {}
    known = set(User.objects.values_list("email", flat=True))
    for _, raw in stream(count, "pipe", seed=5, ids="count"):
        box = services.mailbox_for_delivery(raw=raw)
        with CaptureQueriesContext(connection) as ctx:
            done = services.inbound_ingest(raw=raw, mailbox=box, via="pipe")
        if done.status == "ticket_created":
            kind = "new_ticket" if done.from_address in known else "new_ticket_new_sender"
        else:
            kind = {"comment_added": "reply", "ignored": "automatic"}.get(done.status, done.status)
        known.add(done.from_address)
        per.setdefault(kind, []).append(len(ctx.captured_queries))
    for kind in ("new_ticket_new_sender", "new_ticket", "reply", "automatic"):
        if per.get(kind):
            figure(f"mail.ingest.queries.{kind}", sum(per[kind]) / len(per[kind]), "queries")


def bench_pipe_parallel(count: int, url: str, workers: int, mailbox) -> None:
    """`workers` processes ingesting at once (an MTA delivers in parallel); each takes whole
    conversations, so a reply never overtakes the message it answers."""
    start_at = time.time() + 15  # after every worker has set Django up
    env = {**os.environ, "DATABASE_URL": url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.mail_ingest", "--worker", f"{part}/{workers}",
             "--messages", str(count), "--start-at", str(start_at)],
            stdout=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        for part in range(workers)
    ]  # fmt: skip
    spans = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise SystemExit("a pipe worker failed")
        spans.append([float(x) for x in out.split()])
    elapsed = max(end for _, end in spans) - min(begin for begin, _ in spans)
    note(f"pipe x{workers}: {count} messages in {elapsed:.1f} s ({outcomes(mailbox)})")
    figure(f"mail.ingest.pipe_{workers}x", count / elapsed, "msg/s")


def worker(spec: str, count: int, start_at: float) -> None:
    part, workers = (int(x) for x in spec.split("/"))
    setup_django(os.environ["DATABASE_URL"])
    mine = [raw for thread, raw in stream(count, "par", seed=4) if thread % workers == part]
    time.sleep(max(0.0, start_at - time.time()))
    begin = time.time()
    ingest_all(mine)
    print(begin, time.time())


def _run_command(raw: bytes, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "servio.cli", "mail", "--verbosity", "0", "ingest"],
        input=raw,
        capture_output=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"servio mail ingest failed: {done.stderr.decode()[-2000:]}")


def bench_command(stream_: list[tuple[int, bytes]], url: str) -> None:
    messages = [raw for _, raw in stream_]
    env = {**os.environ, "DATABASE_URL": url}
    half = len(messages) // 2
    started = time.perf_counter()
    for raw in messages[:half]:
        _run_command(raw, env)
    elapsed = time.perf_counter() - started
    figure("mail.ingest.command", half / elapsed, "msg/s")
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda raw: _run_command(raw, env), messages[half:]))
    elapsed = time.perf_counter() - started
    figure("mail.ingest.command_2x", (len(messages) - half) / elapsed, "msg/s")


def bench_imap(stream_: list[tuple[int, bytes]], mailbox) -> None:
    messages = [raw for _, raw in stream_]
    from servio.mail import services
    from tests.mail.servers import DOVECOT, dovecot_running

    if not DOVECOT.exists():
        note("Dovecot is not installed (apt-get install dovecot-imapd): IMAP figure skipped")
        return
    with dovecot_running() as server:
        account = server.account()
        started = time.perf_counter()
        account.append(*messages)
        note(f"imap: appended {len(messages)} messages in {time.perf_counter() - started:.1f} s")
        mailbox.imap_host, mailbox.imap_port = "127.0.0.1", server.port
        mailbox.security, mailbox.username = "none", account.username
        mailbox.password = account.password
        mailbox.save()
        started = time.perf_counter()
        result = services.mailbox_poll(mailbox=mailbox)
        elapsed = time.perf_counter() - started
        assert result.stored == len(messages), result
        assert account.unseen() == 0
    note(f"imap: {len(messages)} messages in {elapsed:.1f} s ({outcomes(mailbox)})")
    figure("mail.ingest.imap", len(messages) / elapsed, "msg/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--command-sample", type=int, default=60)
    parser.add_argument("--skip-imap", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="parallel pipe deliveries")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SERVIO_MAIL_BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL database to drop, create and use (never a test database)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.messages, args.start_at)
        return
    url = args.database_url
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    note(f"database {urlparse(url).path.lstrip('/')} migrated")

    pipe_box, _ = desk("pipe")
    bench_pipe(stream(args.messages, "pipe", seed=1), pipe_box)
    count_statements(200)
    if args.workers > 1:
        par_box, _ = desk("par")
        bench_pipe_parallel(args.messages, url, args.workers, par_box)
    if args.command_sample:
        desk("cmd")
        bench_command(stream(args.command_sample, "cmd", seed=2), url)
    if not args.skip_imap:
        imap_box, _ = desk("imap")
        bench_imap(stream(args.messages, "imap", seed=3), imap_box)


if __name__ == "__main__":
    main()
