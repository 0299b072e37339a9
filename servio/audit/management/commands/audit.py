"""`servio audit verify`: check the hash chain and name the first bad row."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from servio.audit.models import AuditEvent
from servio.audit.services import audit_verify


class Command(BaseCommand):
    help = "Audit trail tools. `verify` checks that no event was edited, removed or reordered."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        total = AuditEvent.objects.count()
        bar = tqdm(total=total, unit="event", disable=options["quiet"] or total < 10_000)

        def ticks():
            while True:
                bar.update(1)
                yield 0

        result = audit_verify(progress=ticks())
        bar.close()
        if not result.ok:
            raise CommandError(
                f"Audit trail is NOT intact after {result.checked} good events. First bad event: "
                f"#{result.first_bad_seq}: {result.reason}. Restore the audit table from a backup "
                "and investigate who had write access to the database."
            )
        self.stdout.write(f"Audit trail intact: {result.checked} events verified.")
