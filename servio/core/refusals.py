"""Refusals noted while a request runs (403s, lookups answered 404), for the security log.

A refusal is noted where it is decided: `errors.PermissionDenied` and a `NotFound` that knows
whether its record exists note themselves when created, sign-in throttles note what they did.
`collecting()` (bound by `security.middleware.RefusalMiddleware` around each request) holds the
list the middleware writes once the answer is built; outside it (jobs, commands, email intake)
nothing is kept.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_noted: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "servio_refusals", default=None
)


def note(item: Any) -> None:
    """Keep `item` for the current request's security log (a no-op outside a request)."""
    items = _noted.get()
    if items is not None:
        items.append(item)


@contextmanager
def collecting() -> Iterator[list[Any]]:
    """Collect what is noted inside the block into the list it yields."""
    items: list[Any] = []
    token = _noted.set(items)
    try:
        yield items
    finally:
        _noted.reset(token)
