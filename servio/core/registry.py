"""Imports each app's `handlers` and `tasks` modules so their registrations run once at start."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

DISCOVERED_MODULES = ("handlers", "tasks")


def autodiscover() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("servio."):
            continue
        for module in DISCOVERED_MODULES:
            name = f"{config.name}.{module}"
            if find_spec(name) is not None:
                import_module(name)
