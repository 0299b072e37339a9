"""Benchmark: SLA due times on a Berlin office calendar with German public holidays.

Run from the repository root: ``.venv/bin/python -m bench.sla_due_time``. Prints one line per
figure, e.g. ``sla.due_time.median 2.1 us``. The figures are per call and include the warm caches
a running server has (the first call for each 52-week block builds it; that cost is printed too).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from servio.sla.calendar import (
    add_business_seconds,
    build_calendar,
    business_seconds_between,
)

CALLS = 100_000
TARGET_SECONDS = 3 * 8 * 3600  # three business days of 09:00-17:00
SPAN = timedelta(days=2 * 365)
ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)


def _calendar():
    return build_calendar(
        time_zone="Europe/Berlin",
        hours={day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
        holiday_country="DE",
    )


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main() -> None:
    rng = random.Random(20250101)
    starts = [
        ORIGIN + timedelta(microseconds=rng.randrange(int(SPAN.total_seconds() * 1e6)))
        for _ in range(CALLS)
    ]
    calendar = _calendar()

    cold = time.perf_counter()
    add_business_seconds(calendar=calendar, start=starts[0], seconds=TARGET_SECONDS)
    cold = time.perf_counter() - cold
    for start in starts[:2000]:  # warm every block the starts touch
        add_business_seconds(calendar=calendar, start=start, seconds=TARGET_SECONDS)

    clock = time.perf_counter
    due_times: list[float] = []
    ends = []
    for start in starts:
        t0 = clock()
        end = add_business_seconds(calendar=calendar, start=start, seconds=TARGET_SECONDS)
        due_times.append(clock() - t0)
        ends.append(end)

    between_times: list[float] = []
    for start, end in zip(starts, ends, strict=True):
        end += timedelta(hours=5)
        t0 = clock()
        business_seconds_between(calendar=calendar, start=start, end=end)
        between_times.append(clock() - t0)

    due_times.sort()
    between_times.sort()
    us = 1e6
    print(f"sla.due_time.median {statistics.median(due_times) * us:.1f} us")
    print(f"sla.due_time.p95 {_percentile(due_times, 0.95) * us:.1f} us")
    print(f"sla.due_time.p99 {_percentile(due_times, 0.99) * us:.1f} us")
    print(f"sla.business_seconds_between.median {statistics.median(between_times) * us:.1f} us")
    print(f"sla.business_seconds_between.p95 {_percentile(between_times, 0.95) * us:.1f} us")
    print(f"sla.calendar.first_call {cold * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
