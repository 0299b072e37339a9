"""The odds of a story: how tickets end by age, how bad they are, where they come from."""

from __future__ import annotations

import bisect
import math
import random
from itertools import accumulate

from servio.demo import content

DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0

# Final state by age of the ticket: (upper bound of age in days, {state: weight}).
# Young tickets are mostly open; old ones closed; a thin backlog stays open for months.
FINAL_BY_AGE = [
    (0.25, {"new": 45, "in_progress": 35, "on_hold": 5, "resolved": 12, "cancelled": 3}),
    (2, {"new": 12, "in_progress": 35, "on_hold": 13, "resolved": 35, "closed": 2, "cancelled": 3}),
    (7, {"new": 3, "in_progress": 15, "on_hold": 10, "resolved": 40, "closed": 28, "cancelled": 4}),
    (30, {"new": 0.5, "in_progress": 4, "on_hold": 3.5, "resolved": 2, "closed": 85, "cancelled": 5}),  # noqa: E501
    (90, {"in_progress": 1, "on_hold": 1, "resolved": 0.5, "closed": 92.5, "cancelled": 5}),
    (math.inf, {"in_progress": 0.3, "on_hold": 0.3, "closed": 94.4, "cancelled": 5}),
]  # fmt: skip
HOLD_WEIGHTS = {"awaiting_requester": 55, "awaiting_vendor": 30, "awaiting_change": 15}
IMPACT_WEIGHTS = {1: 7, 2: 28, 3: 65}
URGENCY_WEIGHTS = {1: 12, 2: 38, 3: 50}
INCIDENT_SOURCES = {"portal": 42, "email": 33, "phone": 12, "agent": 10, "api": 3}
KIND_WEIGHTS = {"incident": 70, "request": 20, "problem": 3, "change": 4, "task": 3}


class Weighted:
    """Fast weighted choice (cumulative weights + bisect)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, weights: dict) -> None:
        self.items = list(weights)
        self.cum = list(accumulate(weights.values()))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


FINALS = [(limit, Weighted(weights)) for limit, weights in FINAL_BY_AGE]
HOLDS = Weighted(HOLD_WEIGHTS)
IMPACTS = Weighted(IMPACT_WEIGHTS)
URGENCIES = Weighted(URGENCY_WEIGHTS)
SOURCES = Weighted(INCIDENT_SOURCES)
KINDS = Weighted(KIND_WEIGHTS)
RESOLUTIONS = Weighted(content.RESOLUTION_WEIGHTS)
