"""The `servio` command: Django's manage.py with Servio's own commands (run, worker, demo, ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servio.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "servio"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
