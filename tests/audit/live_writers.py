"""Processes for the concurrent audit test: audited writers and sealers on one live database.

Run as `python -m tests.audit.live_writers write|seal ...` with DATABASE_URL pointing at it.
Each waits for the `--go` file, so every process starts writing at the same moment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import django


def main(argv: list[str]) -> object:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")
    django.setup()
    from servio.accounts.services import organization_create
    from servio.audit.checkpoints import audit_checkpoint
    from servio.audit.sealing import audit_seal

    parser = argparse.ArgumentParser(prog="tests.audit.live_writers")
    parser.add_argument("command", choices=["write", "seal"])
    parser.add_argument("--name", required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--go", required=True)
    parser.add_argument("--stop", default="", help="a sealer stops once this file exists")
    args = parser.parse_args(argv)
    Path(args.ready).touch()
    while not Path(args.go).exists():
        time.sleep(0.005)
    if args.command == "write":
        for n in range(args.count):  # each an audited service write in its own transaction
            organization_create(actor=None, name=f"{args.name} {n}")
        return {"written": args.count}
    sealed = checkpoints = 0
    while not Path(args.stop).exists():
        sealed += audit_seal(batch=25)
        checkpoints += audit_checkpoint(force=True) is not None
        time.sleep(0.01)
    return {"sealed": sealed, "checkpoints": checkpoints}


if __name__ == "__main__":
    json.dump(main(sys.argv[1:]), sys.stdout)
