"""What `/api/v1/health` reports beyond the database and the outbox: each app registers checks
(in its `health` module) that count something wrong, such as mailboxes that fail to poll.

The endpoint answers without credentials, so a check gives a count and a sentence for people,
never names, addresses, hosts or error texts; those are in the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """A registered check: its name in the report, what it counts, and the problem sentence
    (with `{count}`) reported when the count is above zero."""

    name: str
    count: Callable[[], int]
    problem: str


CHECKS: dict[str, Check] = {}
FIGURES: dict[str, Callable[[], float]] = {}


def check(name: str, *, problem: str) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register a function counting what is wrong (0 = all well) under `name`."""

    def decorator(func: Callable[[], int]) -> Callable[[], int]:
        CHECKS[name] = Check(name, func, problem)
        return func

    return decorator


def figure(name: str) -> Callable[[Callable[[], float]], Callable[[], float]]:
    """Register a function giving a figure that shows whether background work keeps up (e.g.
    the audit sealer's lag in seconds); reported as it is, never as a problem by itself."""

    def decorator(func: Callable[[], float]) -> Callable[[], float]:
        FIGURES[name] = func
        return func

    return decorator


def run_figures() -> dict[str, float]:
    """Every registered figure."""
    return {name: func() for name, func in sorted(FIGURES.items())}


def run_checks() -> tuple[dict[str, int], list[str]]:
    """Every check's count, and a sentence for each one above zero."""
    counts = {name: entry.count() for name, entry in sorted(CHECKS.items())}
    problems = [CHECKS[name].problem.format(count=count) for name, count in counts.items() if count]
    return counts, problems
