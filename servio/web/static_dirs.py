"""The npm packages' dist folders that Django's static files serve, under vendor/<name>/.

settings.py: `STATICFILES_DIRS = static_dirs(NODE_MODULES)`. A package that is not installed
(npm not run yet) is left out rather than failing at start-up.
"""

from __future__ import annotations

from pathlib import Path

VENDOR = (
    ("vendor/tabler", "@tabler/core/dist"),
    ("vendor/htmx", "htmx.org/dist"),
    ("vendor/chartjs", "chart.js/dist"),
)


def static_dirs(node_modules: Path) -> list[tuple[str, Path]]:
    return [
        (prefix, node_modules / path) for prefix, path in VENDOR if (node_modules / path).exists()
    ]
