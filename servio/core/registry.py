"""Imports each app's `handlers`, `tasks` and `health` modules so their registrations (outbox
handlers, periodic jobs, health checks) run once at start."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

DISCOVERED_MODULES = ("handlers", "tasks", "health")


def autodiscover() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("servio."):
            continue
        for module in DISCOVERED_MODULES:
            name = f"{config.name}.{module}"
            if find_spec(name) is not None:
                import_module(name)
