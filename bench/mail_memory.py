"""Benchmark: peak memory while ingesting one large message (a 40 MB email, mostly attachment).

    .venv/bin/python -m bench.mail_memory [--megabytes 40] [--database-url URL]

Uses its own PostgreSQL database (`--database-url`, else `SERVIO_MAIL_MEMORY_BENCH_DATABASE_URL`,
default postgres://postgres@127.0.0.1:5432/servio_mail_memory_bench), dropped and migrated
afresh; `test*` databases are refused. The message is a new request from a customer with one
random binary attachment, base64-encoded as mail clients send it.

Figures, one line each (`name value unit`):
  mail.memory.size          the message's size
  mail.memory.python_peak   Python's allocations during the ingest service call (tracemalloc),
                            on top of the message the caller holds, per byte of the message
  mail.memory.rss_peak      the whole `servio mail ingest` process reading the message from
                            standard input: its peak resident memory less that of the same
                            command ingesting a small message (start-up, libraries), per byte
                            of the message; the message itself, what the database driver holds
                            and everything else the process allocates is in here
The issue's bound is about 3x the message size: rss_peak below 3, python_peak below 2 (the
caller's copy of the message is the third). Figures of 7 December 2026: 1.0 and 2.0 (before
servio.mail.blobs, Python's allocations alone were 7.7x on top of the message).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tracemalloc
from email.message import EmailMessage

from bench.mail_ingest import ROOT, figure, note, recreate_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/servio_mail_memory_bench"
DESK = "servicedesk@provider.example"


def message(megabytes: float, *, seed: int = 1) -> bytes:
    """A new request with one attachment, `megabytes` in all once encoded."""
    msg = EmailMessage()
    msg["From"] = "Pat Customer <pat@customer.example>"
    msg["To"] = DESK
    msg["Subject"] = f"Disk image ({seed})"
    msg["Message-ID"] = f"<memory-{seed}-{random.random()}@client.example>"
    msg.set_content("The image of the failing disk is attached.")
    content = random.Random(seed).randbytes(int(megabytes * 1_000_000 * 3 / 4))
    msg.add_attachment(content, maintype="application", subtype="octet-stream", filename="disk.img")
    return msg.as_bytes()


def prepare() -> None:
    from django.conf import settings

    from servio.accounts.models import Organization, Team
    from servio.mail.models import Mailbox

    settings.SERVIO_ATTACHMENT_MAX_BYTES = settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES = 1 << 30
    Organization.objects.get_or_create(
        slug="customer", defaults={"name": "Customer", "email_domains": ["customer.example"]}
    )
    team, _ = Team.objects.get_or_create(slug="service-desk", defaults={"name": "Service Desk"})
    Mailbox.objects.get_or_create(address=DESK, defaults={"default_team": team})


def python_peak(raw: bytes) -> float:
    from servio.mail import services
    from servio.mail.models import Mailbox

    mailbox = Mailbox.objects.get(address=DESK)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    done = services.inbound_ingest(raw=raw, mailbox=mailbox)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    note(f"in-process ingest: {done.status} {done.reason}".strip())
    return peak / len(raw)


def command_rss(raw: bytes, url: str) -> int:
    """Peak resident memory (bytes) of `servio mail ingest` reading `raw` from stdin."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SERVIO_ATTACHMENT_MAX_MB": "1024",
        "SERVIO_TICKET_ATTACHMENTS_MAX_MB": "1024",
        "SERVIO_MAIL_MAX_MESSAGE_MB": "1024",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "servio.cli", "mail", "ingest", "--mailbox", DESK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    out, _ = process.communicate(raw)
    if process.returncode:
        raise SystemExit(f"servio mail ingest failed ({process.returncode}): {out!r}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the largest child so far
    note(out.decode(errors="replace").strip())
    return usage.ru_maxrss * 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=40)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SERVIO_MAIL_MEMORY_BENCH_DATABASE_URL", DEFAULT_URL),
    )
    args = parser.parse_args()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    prepare()
    raw = message(args.megabytes)
    figure("mail.memory.size", len(raw) / 1_000_000, "MB")
    figure("mail.memory.python_peak", python_peak(raw), "x")
    # RUSAGE_CHILDREN keeps the largest child so far: the small message first, then the large.
    small = command_rss(message(0.01, seed=2), args.database_url)
    large = command_rss(message(args.megabytes, seed=3), args.database_url)
    figure("mail.memory.rss_peak", max(large - small, 0) / len(raw), "x")


if __name__ == "__main__":
    main()
