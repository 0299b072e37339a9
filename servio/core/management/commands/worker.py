"""`servio worker`: background work without the web server (Celery when a broker is set)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run background work: with SERVIO_BROKER_URL, a Celery worker (--beat for the scheduler); "
        "otherwise the in-process runner in the foreground."
    )

    def add_arguments(self, parser):
        parser.add_argument("--beat", action="store_true", help="also run Celery beat (Celery)")
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--loglevel", default="info")

    def handle(self, *args, **options):
        if settings.SERVIO_BROKER_URL:
            from servio.celery import app

            argv = [
                "worker",
                f"--loglevel={options['loglevel']}",
                f"--concurrency={options['concurrency']}",
                "-Q",
                "servio",
            ]
            if options["beat"]:
                argv.append("--beat")
            app.worker_main(argv)
            return
        from servio.core.runner import Runner

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        runner = Runner().start()
        self.stdout.write("Background runner started (no broker configured). Ctrl-C stops it.")
        stop.wait()
        runner.stop()
