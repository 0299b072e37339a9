"""`servio generate --tickets N`: bulk-load realistic tickets for benchmarks and load tests."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from servio import demo
from servio.demo.generator import generate


class Command(BaseCommand):
    help = (
        "Bulk-load N realistic tickets (all kinds, every status, two years of history, with "
        "comments and audit history). Creates the demo organisations, teams and people first "
        "if they are missing. Fast: PostgreSQL COPY, SQLite executemany."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, required=True, help="how many tickets")
        parser.add_argument("--batch", type=int, default=10_000, help="tickets per transaction")
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed (same seed, same data)"
        )
        parser.add_argument("--days", type=int, default=730, help="spread over this many days")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        tickets, batch = options["tickets"], options["batch"]
        if tickets < 1:
            raise CommandError("--tickets must be at least 1.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        with tqdm(
            total=tickets, unit="ticket", unit_scale=True, disable=options["no_progress"]
        ) as bar:
            summary = generate(
                tickets=tickets,
                batch=batch,
                seed=options["seed"],
                days=options["days"],
                password=demo.DEMO_PASSWORD,
                tick=bar.update,
            )
        rate = summary.tickets / summary.seconds if summary.seconds else 0
        self.stdout.write(
            f"Generated {summary.tickets} tickets, {summary.comments} comments and "
            f"{summary.events} audit events in {summary.seconds:.1f} s ({rate:,.0f} tickets/s)."
        )
        if apps.is_installed("servio.sla"):
            from servio.sla.models import SlaPolicy

            if SlaPolicy.objects.filter(is_active=True).exists():
                self.stderr.write(
                    "Active SLA policies exist: generated tickets have no SLA clocks (history "
                    "is loaded in bulk, not through the services that start them)."
                )
