"""Exact percentiles of durations whose values are kept by bucket (decision 29).

A percentile needs the values at one or two ranks of the sorted durations, not the durations
themselves. The report tables keep, per day, a histogram of the durations over fixed buckets
(quarter octaves: each bucket's upper edge is 2^(1/4) times its lower one) and the exact values
of each bucket. Summing the histograms says in which buckets the wanted ranks lie; only those
buckets' values are then read and sorted. The value at a rank, and the interpolation between two
ranks, are those of PostgreSQL's `percentile_cont` over all the values, to the last bit.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

# The median and the 90th percentile, as the report names them.
PERCENTILES = {"median_seconds": 0.5, "p90_seconds": 0.9}
# Upper edges of the buckets, in seconds: 1 s to 2^28 s (eight and a half years), four a doubling.
# Bucket 0 holds everything under a second; the last, everything beyond the last edge.
EDGES = tuple(2.0 ** (k / 4) for k in range(4 * 28 + 1))


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (edges are sorted, so buckets follow the order of values)."""
    return bisect_right(EDGES, seconds)


def histogram(values: Iterable[float]) -> Counter[int]:
    return Counter(bucket_of(value) for value in values)


def add(total: Counter[int], stored: Mapping[str, int]) -> None:
    """Add a histogram as stored (JSON: bucket numbers as text) to `total`."""
    for bucket, count in stored.items():
        total[int(bucket)] += count


def as_stored(counts: Mapping[int, int]) -> dict[str, int]:
    return {str(bucket): count for bucket, count in sorted(counts.items()) if count}


def interpolate(low: float, high: float, position: float) -> float:
    """`percentile_cont` between the values at ranks floor(position) and ceil(position)."""
    return low + (high - low) * (position - math.floor(position))


def percentiles(
    *,
    stored: Counter[int],
    read_stored: Callable[[set[int]], dict[int, list[float]]],
    live: list[float],
) -> dict[str, float | None]:
    """The PERCENTILES of the stored durations (their histogram, and `read_stored(buckets)` for
    the values of some buckets) together with the `live` ones, counted from the tickets."""
    counts = stored + histogram(live)  # Counter addition keeps positive counts only
    total = sum(counts.values())
    if not total:
        return dict.fromkeys(PERCENTILES)
    positions = {name: fraction * (total - 1) for name, fraction in PERCENTILES.items()}
    ranks = {r for p in positions.values() for r in (math.floor(p), math.ceil(p))}
    first_rank: dict[int, int] = {}  # bucket -> rank of its first value
    seen = 0
    for bucket in sorted(counts):
        first_rank[bucket] = seen
        seen += counts[bucket]
    starts = sorted(first_rank.items(), key=lambda item: item[1])
    home = {rank: _bucket_holding(rank, starts) for rank in ranks}
    wanted = set(home.values())
    values = read_stored(wanted)
    for value in live:
        bucket = bucket_of(value)
        if bucket in wanted:
            values.setdefault(bucket, []).append(value)
    for found in values.values():
        found.sort()

    def at(rank: int) -> float | None:
        found = values.get(home[rank], [])
        index = rank - first_rank[home[rank]]
        # Fewer values than the histogram promised: the rows changed between the two reads
        # (SQLite reads without one snapshot); say nothing rather than something wrong.
        return found[index] if index < len(found) else None

    result: dict[str, float | None] = {}
    for name, position in positions.items():
        low, high = at(math.floor(position)), at(math.ceil(position))
        result[name] = None if low is None or high is None else interpolate(low, high, position)
    return result


def _bucket_holding(rank: int, starts: list[tuple[int, int]]) -> int:
    """The bucket whose ranks include `rank`, given (bucket, first rank) in order."""
    index = bisect_right([first for _, first in starts], rank) - 1
    return starts[index][0]
