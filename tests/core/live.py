"""Command line used by the subprocess tests: publish events, race to claim rows, or create
the personas of a desk (for drills through the API).

Run as `python -m tests.core.live <command>` with DATABASE_URL pointing at a live database;
prints JSON on stdout. (The test reads results straight from the database: see conftest.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import django


def main(argv: list[str]) -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")
    django.setup()
    from django.db import connection, transaction

    from servio.core import outbox
    from tests.core import live_handlers

    parser = argparse.ArgumentParser(prog="tests.core.live")
    sub = parser.add_subparsers(dest="command", required=True)
    publish = sub.add_parser("publish", help="publish N events in one transaction")
    publish.add_argument("count", type=int)
    publish.add_argument("--gate", default="", help="a file event --gate-index waits on")
    publish.add_argument("--gate-index", type=int, default=-1)
    claim = sub.add_parser("claim", help="claim one row at a time until none is left")
    claim.add_argument("--worker", required=True)
    claim.add_argument("--ready", required=True, help="file to create once started")
    claim.add_argument("--go", required=True, help="file whose existence starts the race")
    sub.add_parser("desk", help="create the personas; print a requester's write token")
    args = parser.parse_args(argv)

    if args.command == "desk":
        from servio.accounts.services import token_create
        from tests.factories import make_personas

        personas = make_personas()
        issued = token_create(actor=personas.requester_acme, name="drill", scope="write")
        return {"token": issued.plaintext, "requester": personas.requester_acme.email}

    if args.command == "publish":
        with connection.cursor() as cursor:  # the handler's effect table, before any delivery
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {live_handlers.effect_table()} "
                "(event_id varchar(36) NOT NULL, pid integer NOT NULL)"
            )
        with transaction.atomic():
            ids = [
                outbox.publish(
                    live_handlers.TOPIC, {"gate": args.gate if n == args.gate_index else ""}
                )
                for n in range(args.count)
            ]
        return [str(event_id) for event_id in ids]
    Path(args.ready).touch()
    while not Path(args.go).exists():
        time.sleep(0.005)
    claimed: list[int] = []
    while batch := outbox.claim_batch(limit=1, worker=args.worker):
        claimed.extend(message.id for message in batch)
        time.sleep(0.01)  # let the other claimer in: the test wants a real race
    return claimed


if __name__ == "__main__":
    json.dump(main(sys.argv[1:]), sys.stdout)
