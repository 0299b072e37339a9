"""The WSGI entry point loads the views before the first request and freezes what it loaded."""

from __future__ import annotations

import subprocess
import sys

PROBE = (
    "import gc, sys, servio.wsgi; print('servio.tickets.api' in sys.modules, gc.get_freeze_count())"
)


def test_the_entry_point_imports_the_views_and_freezes_them():
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    imported, frozen = done.stdout.split()
    assert imported == "True"  # by the URLconf at import, not by a first request
    assert int(frozen) > 10_000
