"""Synchronous observers of ticket changes, run inside the writing transaction.

For what must never lag behind the ticket (SLA clocks). Everything that may happen later goes
through the outbox instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_observers: list[Callable[..., Any]] = []


def observe(callback: Callable[..., Any]) -> None:
    """Register `callback(ticket=..., created=...)`; call from an AppConfig.ready()."""
    if callback not in _observers:
        _observers.append(callback)


def ticket_changed(ticket, *, created: bool = False) -> None:
    """`created`: the ticket was inserted in this transaction (nothing hangs off it yet)."""
    for callback in list(_observers):
        callback(ticket=ticket, created=created)
