"""`servio worker`: background work without the web server (Celery when a broker is set)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Run background work: with SERVIO_BROKER_URL, a Celery worker (--beat for the scheduler); "
        "otherwise the in-process runner in the foreground."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--beat", action="store_true", help="also run Celery beat (Celery)")
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--loglevel", default="info")
        parser.add_argument(
            "--lanes",
            default="",
            help="Celery: consume only these lanes' queues, comma-separated (e.g. `main` on "
            "one worker and `mail` on another); default every lane",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from servio.core import outbox

        # Before Celery forks its pool: every child then has the same handlers and jobs.
        outbox.load_extra_modules()
        if settings.SERVIO_BROKER_URL:
            self._celery(options)
            return
        from servio.core.runner import Runner

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        runner = Runner().start()
        self.stdout.write("Background runner started (no broker configured). Ctrl-C stops it.")
        stop.wait()
        runner.stop()

    def _celery(self, options: dict[str, Any]) -> None:
        from servio.celery import app, queue_for
        from servio.core import jobs

        lanes = [lane.strip() for lane in options["lanes"].split(",") if lane.strip()]
        # Where `delay()` and beat send our tasks: the default queue (drains, the main lane's
        # jobs) and one queue per other lane of jobs.
        queues = [queue_for(lane) for lane in (lanes or jobs.lanes())]
        argv = [
            "worker",
            f"--loglevel={options['loglevel']}",
            f"--concurrency={options['concurrency']}",
            "-Q",
            ",".join(queues),
        ]
        if options["beat"]:
            # Beat keeps its last-run times in a file: under var/, not the current directory.
            argv += ["--beat", f"--schedule={settings.VAR_DIR / 'celerybeat-schedule'}"]
        app.worker_main(argv)
