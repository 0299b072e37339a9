"""Reading the report tables: whole days' figures of whole organisations and teams (decision 29).

`stored_days` says which days of a period the tables may answer for a reader: the local days
wholly inside the period, before today and built by the last refresh, restricted to the whole
organisations and teams the reader sees (`tickets.models.visible_parts`) and to the report's
filters. Everything else (the period's partial first and last day, today, and the tickets the
reader sees personally outside those parts) the report counts from the tickets.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast

from servio.reporting import distribution
from servio.reporting.models import (
    ReportDay,
    ReportDurations,
    ReportMonth,
    ReportMonthDurations,
    ReportZone,
)
from servio.reporting.zones import aggregated_zones, day_of, start_of, whole_days
from servio.tickets.models import VisibleParts

# The per-day counts, summed over the groups a reader may see.
COUNTS = (
    "opened",
    "answered",
    "resolved",
    "first_contact",
    "reassigned",
    "sla_met",
    "sla_breached",
    *(f"rated_{rating}" for rating in range(1, 6)),
)


@dataclass(frozen=True)
class StoredDays:
    """The days [first, stop) the report tables answer for, and which of their rows."""

    first: dt.date
    stop: dt.date
    start: dt.datetime  # the instants of those days: [start, end)
    end: dt.datetime
    rows: Q  # time zone, the reader's whole parts, the report's filters


def stored_days(
    *,
    zone: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
    parts: Callable[[], VisibleParts],
    team_id: int | None,
    organization_id: int | None,
    now: dt.datetime,
) -> StoredDays | None:
    """The stored days of [start, end) for a reader whose visibility is `parts()` (asked only
    when there are such days); None when the tables cannot answer for any day."""
    if zone.key not in aggregated_zones():
        return None
    first, stop = whole_days(start, end, zone)
    stop = min(stop, day_of(now, zone))
    if first >= stop:
        return None
    built = ReportZone.objects.filter(zone=zone.key).values_list("complete_before", flat=True)
    complete_before = built.first()
    if complete_before is None or first >= complete_before:
        return None
    stop = min(stop, complete_before)
    whole = parts().whole()
    if whole is None:
        return None
    rows = Q(zone=zone.key) & whole
    if team_id is not None:
        rows &= Q(team_id=team_id)
    if organization_id is not None:
        rows &= Q(organization_id=organization_id)
    return StoredDays(first, stop, start_of(first, zone), start_of(stop, zone), rows)


def day_counts(part: StoredDays) -> dict[dt.date, dict[str, int]]:
    """The COUNTS of each stored day (days without tickets are absent)."""
    rows = (
        ReportDay.objects.filter(part.rows, day__gte=part.first, day__lt=part.stop)
        .values_list("day")
        .annotate(*(Sum(name) for name in COUNTS))
        .order_by()
    )
    return {day: dict(zip(COUNTS, sums, strict=True)) for day, *sums in rows}


def histograms(part: StoredDays) -> dict[str, Counter[int]]:
    """The summed duration histograms of the stored days, by measure: the months wholly
    inside them (which have ended: the stored days end before today) from the month rows,
    the other days from the day rows."""
    months = _whole_months(part.first, part.stop)
    totals: dict[str, Counter[int]] = {"response": Counter(), "resolution": Counter()}
    fields = ("response_histogram", "resolution_histogram")
    sources: list[QuerySet[Any]] = []
    if months:
        sources.append(ReportMonth.objects.filter(part.rows, month__in=months))
    days = ReportDay.objects.filter(part.rows, day__gte=part.first, day__lt=part.stop)
    if months:  # consecutive: the days before the first and after the last
        days = days.filter(Q(day__lt=months[0]) | Q(day__gte=_next_month(months[-1])))
    sources.append(days)
    for rows in sources:
        pairs = _decoded(rows.values_list(*(_as_text(field) for field in fields)))
        for response, resolution in pairs:
            distribution.add(totals["response"], response)
            distribution.add(totals["resolution"], resolution)
    return totals


def durations(part: StoredDays, wanted: dict[str, set[int]]) -> dict[str, dict[int, list[float]]]:
    """The exact stored durations of the `wanted` buckets of each measure, by measure and
    bucket (unsorted): the months wholly inside the stored days from the month rows, the other
    days from the day rows."""
    found: dict[str, dict[int, list[float]]] = {measure: {} for measure in wanted}
    which = Q()
    for measure, buckets in wanted.items():
        if buckets:
            which |= Q(measure=measure, bucket__in=sorted(buckets))
    if not which:
        return found
    months = _whole_months(part.first, part.stop)
    sources: list[QuerySet[Any]] = []
    if months:
        sources.append(ReportMonthDurations.objects.filter(part.rows, which, month__in=months))
    days = ReportDurations.objects.filter(part.rows, which, day__gte=part.first, day__lt=part.stop)
    if months:
        days = days.filter(Q(day__lt=months[0]) | Q(day__gte=_next_month(months[-1])))
    sources.append(days)
    for rows in sources:
        keys, texts = [], []
        for measure, bucket, text in rows.values_list("measure", "bucket", _as_text("seconds")):
            keys.append((measure, bucket))
            texts.append(text)
        for (measure, bucket), seconds in zip(keys, _decoded_texts(texts), strict=True):
            found[measure].setdefault(bucket, []).extend(seconds)
    return found


def _as_text(field: str) -> Cast:
    """A JSON column as its text: decoding thousands of small documents one by one costs more
    than the query that reads them, so they are decoded together (`_decoded`)."""
    return Cast(field, output_field=TextField())


def _decoded_texts(texts: list[str]) -> list[Any]:
    """JSON documents decoded in one call."""
    return json.loads(f"[{','.join(texts)}]") if texts else []


def _decoded(rows) -> list[tuple[Any, ...]]:
    """Rows of JSON texts, decoded in one call."""
    rows = list(rows)
    if not rows:
        return []
    width = len(rows[0])
    flat = _decoded_texts([text for row in rows for text in row])
    return [tuple(flat[i : i + width]) for i in range(0, len(flat), width)]


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _whole_months(first: dt.date, stop: dt.date) -> list[dt.date]:
    """First days of the months that lie wholly inside [first, stop)."""
    months = []
    month = first.replace(day=1)
    if month < first:
        month = _next_month(month)
    while _next_month(month) <= stop:
        months.append(month)
        month = _next_month(month)
    return months
