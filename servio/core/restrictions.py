"""Field-level write restrictions: the one place a service asks whether the actor may set these
fields of this record.

Every write service calls `check_writable(actor=..., record=..., fields=...)` with the fields
it is about to set, after its own policy and input checks and before it writes. Nothing is
registered today, so everything is allowed. Field restrictions by role (the governance issue)
plug in here with `register(provider)`, and every service that already calls the hook is
covered from that day: the API, the UI, the email intake, tasks and commands alike, since they
all write through the services.

A provider is a function taking a `FieldWrite` and returning the refused fields with a reason
each (an empty mapping or None: no objection). The refusals of every provider are raised as one
`PermissionDenied` (403) that names each field, in its detail and in its `fields` member, as
the staff-only fields of `servio/tickets/policies.py` are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

from servio.core.errors import PermissionDenied


@dataclass(frozen=True)
class FieldWrite:
    """What a service is about to write.

    `record` is the new record, unsaved and carrying the values it will be written with, when
    `creating`; otherwise the stored record as it is before the change (locked, where the
    service locks it). `fields` are the names of the model's fields (or, on a ticket, a
    relation such as `watchers`) that the actor asks to set; values the service derives itself
    (timestamps, the version, a priority from the matrix) are not listed. `deleting`: the
    record (a link, a watcher; possibly an unsaved instance naming it) is to be removed, and
    `fields` lists what it holds. The record is the service's own object, which it goes on to
    change: a provider reads what it needs during the call."""

    actor: Any  # the acting user; None is the system
    record: models.Model
    fields: frozenset[str]
    deleting: bool = False

    @property
    def creating(self) -> bool:
        return self.record._state.adding and not self.deleting


Provider = Callable[[FieldWrite], Mapping[str, str] | None]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (usable as a decorator); call it from an AppConfig.ready()."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def check_writable(
    *, actor: Any, record: models.Model, fields: Iterable[str], deleting: bool = False
) -> None:
    """Refuse (PermissionDenied, naming every refused field) if a provider objects to the
    actor setting these fields of this record; allow otherwise."""
    if not _providers:
        return
    write = FieldWrite(actor=actor, record=record, fields=frozenset(fields), deleting=deleting)
    refused: dict[str, str] = {}
    for provider in list(_providers):
        for name, reason in (provider(write) or {}).items():
            refused.setdefault(name, reason)
    if refused:
        names = sorted(refused)
        raise PermissionDenied(
            "You may not set: " + "; ".join(f"{name} ({refused[name]})" for name in names),
            fields=names,
        )
