"""`servio audit verify|seal|checkpoint`: check the chain, seal now, checkpoint the tip now."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from servio.audit.checkpoints import audit_checkpoint
from servio.audit.models import AuditPending, AuditSeal
from servio.audit.sealing import audit_seal
from servio.audit.verification import audit_verify


class Command(BaseCommand):
    help = (
        "Audit trail tools. `verify` checks that no event was edited, removed or reordered, "
        "against the checkpoints kept outside the database too; `seal` chains waiting events "
        "now; `checkpoint` writes the tip to SERVIO_AUDIT_CHECKPOINTS now."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "seal", "checkpoint"])
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--checkpoints",
            action="append",
            type=Path,
            metavar="FILE",
            help="verify against this checkpoint file (repeatable; e.g. lines collected from "
            "syslog); default: the file sinks of SERVIO_AUDIT_CHECKPOINTS",
        )
        parser.add_argument(
            "--restored",
            action="store_true",
            help="this database is a restored backup: checkpoints newer than its tip are "
            "expected, and it is verified against the one current when the backup was taken",
        )

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _bar(self, total: int, options) -> tqdm:
        return tqdm(total=total, unit="event", disable=options["quiet"] or total < 10_000)

    def _seal(self, options) -> None:
        with self._bar(AuditPending.objects.count(), options) as bar:
            sealed = audit_seal(progress=bar.update)
        self.stdout.write(f"Sealed {sealed} audit event(s).")

    def _checkpoint(self, options) -> None:
        written = audit_checkpoint(force=True)
        if written is None:
            self.stdout.write("Nothing to checkpoint: no event is sealed yet.")
            return
        self.stdout.write(f"Checkpoint written: event #{written.seq} ({written.hash[:16]}...).")

    def _verify(self, options) -> None:
        with self._bar(AuditSeal.objects.count(), options) as bar:
            result = audit_verify(
                progress=bar.update,
                checkpoint_files=options["checkpoints"],
                restored=options["restored"],
            )
        if not result.ok:
            where = f"#{result.first_bad_seq}" if result.first_bad_seq else "(see reason)"
            raise CommandError(
                f"Audit trail is NOT intact after {result.checked} good events. First bad event: "
                f"{where}: {result.reason}. Restore the audit tables from a backup and "
                "investigate who had write access to the database."
            )
        lines = [f"Audit trail intact: {result.checked} events verified."]
        if result.last_checkpoint:
            cp = result.last_checkpoint
            lines.append(
                f"Checkpoints: {result.checkpoints} read; the newest this database reaches is "
                f"#{cp.seq} of {cp.at.strftime('%Y-%m-%d %H:%M:%S')} UTC; "
                f"{result.after_last_checkpoint} sealed event(s) came after it and are covered "
                "by the chain only."
            )
        else:
            lines.append(
                "Checkpoints: none found; the newest events are covered by the chain only "
                "(see SERVIO_AUDIT_CHECKPOINTS)."
            )
        if result.unsealed:
            lines.append(
                f"Unsealed tail: {result.unsealed} event(s) wait for the sealer, the oldest for "
                f"{result.unsealed_oldest_seconds:.1f} s (not yet verifiable; `servio audit "
                "seal` seals them now)."
            )
        else:
            lines.append("Unsealed tail: none.")
        lines.extend(result.notes)
        self.stdout.write("\n".join(lines))
