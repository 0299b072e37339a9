"""Ticket creation on the embedded default: SQLite, served as `servio run` serves it.

    .venv/bin/python -m bench.sqlite_create [--duration 20] [--clients 8] [--keep]

A fresh SQLite file database in a temporary directory, migrated, with the demo service desk
loaded (`servio demo`: organisations, people, two years of incidents, the demo's SLA policies,
so every creation starts its clocks). `servio run` serves it: one gunicorn worker with 8
threads and the in-process runner, which delivers the outbox, including the acknowledgement
mail of every creation, to a local SMTP sink (aiosmtpd, in this process) while the load runs.
`--clients` requesters, each with their own write token, `POST /api/v1/tickets` for
`--duration` seconds after a 3 s warm-up (`bench/http_load.py`, a separate process).

Figures (`name value unit`): `sqlite.create.p50`, `.p95` (target p95 < 300 ms) and
`.throughput`; `sqlite.create.errors` if any request failed; `sqlite.mail.sent`, the messages
the sink received by the end of the load, to show the runner was at work meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.tickets import DESCRIPTION, PYTHON, ROOT, figure, free_port, load, note, stop

SETUP = """
import json
from servio.accounts.models import User
from servio.accounts.roles import Role
from servio.accounts.services import token_create
from servio.tickets.models import Service
people = User.objects.filter(role=Role.REQUESTER, is_active=True, organization__isnull=False)
print(json.dumps({
    "tokens": [token_create(actor=u, name="bench", scope="write").plaintext
               for u in people.order_by("pk")[:%(clients)d]],
    "services": list(Service.objects.filter(is_active=True).values_list("pk", flat=True)),
}))
"""


def servio(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "servio", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"servio {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


class Sink:
    """An SMTP server that accepts and counts every message."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received += 1
        return "250 OK"


def wait_for_health(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"servio run exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"servio run did not answer within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--no-runner",
        action="store_true",
        help="serve without the in-process runner (to see what its work costs the creations)",
    )
    options = parser.parse_args(argv)
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:  # a development dependency (pyproject's dev extra)
        raise SystemExit("bench.sqlite_create needs aiosmtpd (pip install -e '.[dev]')") from exc

    where = Path(tempfile.mkdtemp(prefix="servio-sqlite-bench-"))
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = dict(os.environ)
    for name in ("DATABASE_URL", "SERVIO_BROKER_URL", "SERVIO_EMAIL_BACKEND"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="servio.settings",
        SERVIO_VAR_DIR=str(where),
        SERVIO_API_RATE_LIMIT="1000000000",
        SERVIO_LOG_LEVEL="WARNING",
        SERVIO_DEBUG="0",
        SERVIO_EMAIL_HOST="127.0.0.1",
        SERVIO_EMAIL_PORT=str(smtp_port),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    process = None
    try:
        started = time.monotonic()
        servio(env, "migrate", "--verbosity=0")
        servio(env, "demo")
        fx = json.loads(
            servio(env, "shell", stdin=SETUP % {"clients": options.clients}).splitlines()[-1]
        )
        note(f"fresh SQLite database with the demo loaded ({time.monotonic() - started:.0f} s)")
        port = free_port()
        command = [PYTHON, "-m", "servio", "run", "--host", "127.0.0.1", "--port", str(port),
                   "--no-migrate", *(["--no-runner"] if options.no_runner else [])]  # fmt: skip
        log = where / "run.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=output
            )
        wait_for_health(port, process)
        requests = [
            {
                "method": "POST",
                "path": "/api/v1/tickets",
                "headers": {"Authorization": f"Bearer {token}"},
                "body": json.dumps(
                    {
                        "title": "Printer on the 3rd floor jams ({n})",
                        "description": DESCRIPTION,
                        "impact": 3,
                        "urgency": 2,
                        "service": fx["services"][i % len(fx["services"])],
                    }
                ),
            }
            for i, token in enumerate(fx["tokens"])
        ]
        result = load(
            {
                "host": "127.0.0.1",
                "port": port,
                "concurrency": options.clients,
                "duration": options.duration,
                "warmup": options.warmup,
                "requests": requests,
                "expect": [201],
            }
        )
        sent = sink.received
    finally:
        if process is not None:
            stop(process)
            said = (where / "run.log").read_text(errors="replace").strip()
            if said:
                note("servio run said: " + said[-2000:])
        controller.stop()
        if options.keep:
            note(f"kept {where}")
        else:
            shutil.rmtree(where, ignore_errors=True)
    figure("sqlite.create.p50", result["p50_ms"], "ms")
    figure("sqlite.create.p95", result["p95_ms"], "ms")
    figure("sqlite.create.throughput", result["throughput"], "tickets/s")
    if result["errors"]:
        figure("sqlite.create.errors", result["errors"], "requests")
    figure("sqlite.mail.sent", sent, "messages")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
