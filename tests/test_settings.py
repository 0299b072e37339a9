"""The README's configuration table names every environment variable Servio reads."""

from __future__ import annotations

import re
from pathlib import Path

import servio

ROOT = Path(servio.__file__).resolve().parent
README = ROOT.parent / "README.md"
# Where environment variables are read: the settings module, and the outbox's plugin list.
READERS = (ROOT / "settings.py", ROOT / "core" / "outbox.py")
# A name in quotes: os.environ.get("SERVIO_..."), env_int("SERVIO_...", ...), "DATABASE_URL".
NAME = re.compile(r"""["']((?:SERVIO_[A-Z0-9_]+)|DATABASE_URL)["']""")


def variables() -> set[str]:
    return {name for path in READERS for name in NAME.findall(path.read_text())}


def documented() -> set[str]:
    """The names in the first column of the README's tables."""
    return {
        name
        for line in README.read_text().splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    }


def test_every_environment_variable_is_in_the_readme_table():
    assert {"DATABASE_URL", "SERVIO_TIME_ZONE", "SERVIO_EXTRA_HANDLER_MODULES"} <= variables()
    missing = sorted(variables() - documented())
    assert not missing, f"Add a line to the README's configuration table for: {missing}"
