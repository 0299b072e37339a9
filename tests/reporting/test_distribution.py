"""Percentiles from bucketed durations are percentile_cont over all the values, exactly."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from servio.reporting import distribution


def reference(values: list[float]) -> dict[str, float | None]:
    """percentile_cont over every value, sorted once."""
    ordered = sorted(values)
    if not ordered:
        return dict.fromkeys(distribution.PERCENTILES)
    result = {}
    for name, fraction in distribution.PERCENTILES.items():
        position = fraction * (len(ordered) - 1)
        low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
        result[name] = low + (high - low) * (position - math.floor(position))
    return result


durations = st.one_of(
    st.floats(min_value=-5, max_value=5, allow_nan=False),
    st.floats(min_value=0, max_value=3e8, allow_nan=False),
    st.sampled_from([0.0, 1.0, 1800.0, 2**20, 2.0**0.25]),  # ties, and values on bucket edges
)


@settings(max_examples=300, deadline=None)
@given(stored=st.lists(durations, max_size=60), live=st.lists(durations, max_size=20))
def test_stored_and_live_values_give_percentile_cont_of_all(stored, live):
    by_bucket: dict[int, list[float]] = defaultdict(list)
    for value in stored:
        by_bucket[distribution.bucket_of(value)].append(value)
    asked: list[set[int]] = []

    def read_stored(buckets: set[int]) -> dict[int, list[float]]:
        asked.append(buckets)
        return {b: list(by_bucket[b]) for b in buckets if b in by_bucket}

    result = distribution.percentiles(
        stored=distribution.histogram(stored), read_stored=read_stored, live=live
    )
    assert result == reference(stored + live)
    # Only the buckets that hold the ranks are read: two per percentile at most.
    assert len(asked) <= 1 and all(len(b) <= 4 for b in asked)


def test_buckets_follow_the_order_of_values():
    values = sorted([-1.0, 0.0, 0.5, 1.0, 1.19, 1.2, 60.0, 3600.0, 86400.0, 1e7, 3e8, 1e12])
    buckets = [distribution.bucket_of(v) for v in values]
    assert buckets == sorted(buckets)
    assert distribution.bucket_of(0.99) == 0 and distribution.bucket_of(1e12) == len(
        distribution.EDGES
    )


def test_stored_histograms_are_text_keyed_and_add_up():
    total: Counter[int] = Counter()
    distribution.add(total, distribution.as_stored(Counter({3: 2, 7: 1, 9: 0})))
    distribution.add(total, {"3": 1})
    assert total == Counter({3: 3, 7: 1})
    assert distribution.as_stored(Counter({9: 0, 2: 1})) == {"2": 1}
