"""`servio reports refresh` and `servio reports rebuild`: the report tables (decision 29).

The `reporting.refresh` job refreshes every minute; run `refresh` to do it now, and `rebuild`
after anything that changed tickets without moving their `updated_at` (a bulk load such as
`servio generate`, a data migration).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Report tables: refresh the changed days, or rebuild everything from the tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("refresh", help="build the ended days and rebuild the changed ones")
        actions.add_parser("rebuild", help="forget the report tables and build them again")

    def handle(self, *args: Any, **options: Any) -> None:
        from servio.reporting.services import report_rebuild, report_refresh

        started = time.monotonic()
        days = report_rebuild() if options["action"] == "rebuild" else report_refresh()
        for zone, count in days.items():
            self.stdout.write(f"{zone}: {count} day{'s' if count != 1 else ''} built")
        self.stdout.write(f"in {time.monotonic() - started:.1f} s")
