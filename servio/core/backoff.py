"""Exponential backoff with full jitter, for outbox retries and mailbox polls (decision 24).

Work that failed together (every message while the mail server was down) would otherwise come
back at the same instants and meet the same overloaded server again. Full jitter draws each delay
uniformly between zero and the exponential ceiling, which spreads the retries over the whole
interval ("Exponential Backoff and Jitter", AWS Architecture Blog, 2015).
"""

from __future__ import annotations

import random
from datetime import timedelta

# Not for secrets: only to spread retries. Tests seed their own (`rng=`).
_random = random.Random()  # noqa: S311


def ceiling(attempt: int, *, base: float, cap: float) -> float:
    """The longest delay after the `attempt`-th failure: base, 2x base, 4x base, ... up to cap."""
    return min(cap, base * 2 ** max(0, attempt - 1))


def full_jitter(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> timedelta:
    """A delay drawn uniformly between zero and `ceiling(attempt)`."""
    return timedelta(seconds=(rng or _random).uniform(0, ceiling(attempt, base=base, cap=cap)))
