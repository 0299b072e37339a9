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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Ranks:
    """Where the PERCENTILES' ranks lie among some durations: in which buckets (`wanted`), and
    at which place of their bucket's sorted values."""

    positions: dict[str, float]  # name -> fractional rank
    places: dict[int, tuple[int, int]]  # rank -> (bucket, index within the bucket)

    @property
    def wanted(self) -> set[int]:
        return {bucket for bucket, _ in self.places.values()}


def locate(stored: Counter[int], live: list[float]) -> Ranks | None:
    """The ranks of the PERCENTILES among the stored durations (their histogram) and the `live`
    ones together; None when there are none."""
    counts = stored + histogram(live)  # Counter addition keeps positive counts only
    total = sum(counts.values())
    if not total:
        return None
    positions = {name: fraction * (total - 1) for name, fraction in PERCENTILES.items()}
    ranks = sorted({r for p in positions.values() for r in (math.floor(p), math.ceil(p))})
    places: dict[int, tuple[int, int]] = {}
    seen = 0
    buckets = iter(sorted(counts))
    bucket = next(buckets)
    for rank in ranks:
        while rank >= seen + counts[bucket]:
            seen += counts[bucket]
            bucket = next(buckets)
        places[rank] = (bucket, rank - seen)
    return Ranks(positions, places)


def at_ranks(
    ranks: Ranks | None, stored: dict[int, list[float]], live: list[float]
) -> dict[str, float | None]:
    """The PERCENTILES, given the stored values of the wanted buckets (unsorted)."""
    if ranks is None:
        return dict.fromkeys(PERCENTILES)
    wanted = ranks.wanted
    values = {bucket: list(stored.get(bucket, ())) for bucket in wanted}
    for value in live:
        bucket = bucket_of(value)
        if bucket in wanted:
            values[bucket].append(value)
    for found in values.values():
        found.sort()

    def at(rank: int) -> float | None:
        bucket, index = ranks.places[rank]
        # Fewer values than the histogram promised: the rows changed between the two reads
        # (SQLite reads without one snapshot); say nothing rather than something wrong.
        return values[bucket][index] if index < len(values[bucket]) else None

    result: dict[str, float | None] = {}
    for name, position in ranks.positions.items():
        low, high = at(math.floor(position)), at(math.ceil(position))
        result[name] = None if low is None or high is None else interpolate(low, high, position)
    return result


def percentiles(
    *,
    stored: Counter[int],
    read_stored: Callable[[set[int]], dict[int, list[float]]],
    live: list[float],
) -> dict[str, float | None]:
    """The PERCENTILES of the stored durations (their histogram, and `read_stored(buckets)` for
    the values of some buckets) together with the `live` ones, counted from the tickets."""
    ranks = locate(stored, live)
    return at_ranks(ranks, read_stored(ranks.wanted) if ranks else {}, live)
