"""`servio run`: migrate, then serve with gunicorn and the in-process background runner."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Servio (gunicorn) with the in-process background runner of the embedded default."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=8, help="threads per worker")
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
        parser.add_argument(
            "--no-runner",
            action="store_true",
            help="do not run background work here (use `servio worker` or Celery instead)",
        )

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        # WhiteNoise serves compressed, long-cached files from what collectstatic gathered.
        call_command("collectstatic", interactive=False, verbosity=0)
        run_background = settings.SERVIO_RUNNER_ENABLED and not options["no_runner"]
        from gunicorn.app.base import BaseApplication

        from servio.wsgi import application

        class Server(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{options['host']}:{options['port']}")
                self.cfg.set("workers", options["workers"])
                self.cfg.set("threads", options["threads"])
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)
                if "control_socket_disable" in self.cfg.settings:
                    # gunicorn 27's control socket defaults to one path per user; several
                    # instances on one machine would share it.
                    self.cfg.set("control_socket_disable", True)
                if run_background:
                    self.cfg.set("post_worker_init", _start_runner)

            def load(self):
                return application

        where = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            f"Servio at {where} ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
            f"background work: {'in-process runner' if run_background else 'external'})"
        )
        Server().run()


def _start_runner(worker) -> None:
    from servio.core.runner import Runner

    Runner().start()
