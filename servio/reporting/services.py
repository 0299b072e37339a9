"""Keeping the report tables (models.py) in step with the tickets (decision 29).

`report_refresh` runs every minute (tasks.py) and on `servio reports refresh`. For each time
zone of SERVIO_REPORT_TIME_ZONES it builds the days that ended since its last run, and rebuilds
every earlier day that a change may have touched: the days of the tickets changed since then
(every ticket write moves `updated_at`; the days a ticket counts on are its logging, its
resolution, the one it had before a reopening, its SLA clocks' ends and its survey answers), and
the days of new survey answers. A day is rebuilt whole, from the same queries as the live report
(figures.py), so a rebuilt day is exact; today is never built, the report counts it live.

What the refresh cannot see: changes that bypass `updated_at` (bulk loads such as
`servio generate`, data migrations, a staff member's role changing after their replies): run
`servio reports rebuild` after them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from servio.reporting import distribution, figures
from servio.reporting.models import (
    CountedResolution,
    ReportDay,
    ReportDurations,
    ReportMonth,
    ReportMonthDurations,
    ReportZone,
)
from servio.reporting.zones import aggregated_zones, day_of, start_of
from servio.tickets import workflows

log = logging.getLogger(__name__)

# Changes are read again from this long before the last read: a write that stamped its ticket
# before the last refresh but committed after it is still seen (longer transactions are not).
OVERLAP = dt.timedelta(minutes=10)
CHUNK_DAYS = 31  # days read and written together while building
DERIVED = (ReportDay, ReportDurations, ReportMonth, ReportMonthDurations)  # rows per time zone
Group = tuple[dt.date, int, int | None]  # (day, organisation, team)


def report_refresh(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring the report tables up to date; returns the days rebuilt per time zone."""
    now = now or timezone.now()
    zones = aggregated_zones()
    _forget_other_zones(zones)
    states = {zone: ReportZone.objects.get_or_create(zone=zone)[0] for zone in zones}
    read_at = [s.changes_read_at for s in states.values() if s.complete_before is not None]
    known = [at for at in read_at if at is not None]
    since = min(known) - OVERLAP if known and len(known) == len(read_at) else None
    changed = _changed_tickets(since) if since is not None else None
    instants = list(_touched_instants(changed, since)) if since is not None else []
    rebuilt: dict[str, int] = {}
    for zone, state in states.items():
        info = ZoneInfo(zone)
        today = day_of(now, info)
        if state.complete_before is None:
            days = _every_day_before(today, info)
        else:
            days = {day_of(instant, info) for instant in instants}
            days.update(_days_between(state.complete_before, today))
        wanted = sorted(day for day in days if day < today)
        _rebuild_days(zone, info, wanted)
        _rebuild_months(zone, {day.replace(day=1) for day in wanted}, today)
        state.complete_before, state.changes_read_at, state.refreshed_at = today, now, now
        state.save()
        rebuilt[zone] = len(wanted)
    _record_resolutions(changed)
    return rebuilt


def report_rebuild(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Forget the report tables and build them again from the tickets."""
    with transaction.atomic():
        for model in (*DERIVED, ReportZone, CountedResolution):
            model.objects.all().delete()
    return report_refresh(now=now)


# --- what changed -----------------------------------------------------------------------------


def _forget_other_zones(zones: list[str]) -> None:
    """Drop the rows of time zones no longer in SERVIO_REPORT_TIME_ZONES."""
    gone = list(ReportZone.objects.exclude(zone__in=zones).values_list("zone", flat=True))
    if gone:
        with transaction.atomic():
            for model in (*DERIVED, ReportZone):
                model.objects.filter(zone__in=gone).delete()


def _changed_tickets(since: dt.datetime):
    return figures.service_desk_tickets().filter(updated_at__gte=since)


def _touched_instants(changed, since: dt.datetime) -> Iterator[dt.datetime]:
    """Every instant whose day a change since `since` may have touched."""
    for created_at, resolved_at in changed.values_list("created_at", "resolved_at").iterator():
        yield created_at
        if resolved_at is not None:
            yield resolved_at
    ledger = CountedResolution.objects.filter(ticket__in=changed.values("pk"))
    yield from ledger.values_list("resolved_at", flat=True).iterator()
    clocks = figures.finished_sla_clocks().filter(ticket__in=changed.values("pk"))
    for stopped_at in clocks.values_list("stopped_at", flat=True):
        if stopped_at is not None:
            yield stopped_at
    answers = figures.survey_answers().filter(
        Q(ticket__in=changed.values("pk")) | Q(created_at__gte=since)
    )
    yield from answers.order_by().values_list("created_at", flat=True).iterator()


def _every_day_before(today: dt.date, zone: ZoneInfo) -> set[dt.date]:
    """Every day from the first ticket's to yesterday (nothing counts before a first ticket)."""
    first = figures.service_desk_tickets().aggregate(first=Min("created_at"))["first"]
    return set(_days_between(day_of(first, zone), today)) if first is not None else set()


def _days_between(first: dt.date, stop: dt.date) -> Iterator[dt.date]:
    day = first
    while day < stop:
        yield day
        day += dt.timedelta(days=1)


def _record_resolutions(changed) -> None:
    """Keep CountedResolution: the counted resolutions of tickets that are not final yet.

    After a build from nothing (`changed` None) for every ticket; otherwise for those changed.
    """
    reopenable = Q()
    for kind in figures.SERVICE_DESK_KINDS:
        workflow = workflows.get(kind)
        statuses = [s for s in workflow.closed_states() if not workflow.is_final(s)]
        reopenable |= Q(kind=kind, status__in=statuses)
    tickets = figures.service_desk_tickets() if changed is None else changed
    current = tickets.filter(reopenable, resolved_at__isnull=False).values_list("pk", "resolved_at")
    rows = [
        CountedResolution(ticket_id=pk, resolved_at=at)
        for pk, at in current.iterator()
        if at is not None
    ]
    with transaction.atomic():
        forgotten = CountedResolution.objects.all()
        if changed is not None:
            forgotten = forgotten.filter(ticket__in=changed.values("pk"))
        forgotten.delete()
        CountedResolution.objects.bulk_create(rows, batch_size=2000)


# --- building days ----------------------------------------------------------------------------


def _runs(days: list[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive days as [first, last] runs of at most CHUNK_DAYS."""
    first = previous = None
    for day in days:
        if first is None:
            first = previous = day
        elif previous is not None and (
            day != previous + dt.timedelta(days=1) or (day - first).days >= CHUNK_DAYS
        ):
            yield first, previous
            first = previous = day
        else:
            previous = day
    if first is not None and previous is not None:
        yield first, previous


def _rebuild_days(zone: str, info: ZoneInfo, days: list[dt.date]) -> None:
    for first, last in _runs(days):
        start, end = start_of(first, info), start_of(last + dt.timedelta(days=1), info)
        day_rows, duration_rows = _build(zone, info, start, end)
        with transaction.atomic():
            ReportDay.objects.filter(zone=zone, day__gte=first, day__lte=last).delete()
            ReportDurations.objects.filter(zone=zone, day__gte=first, day__lte=last).delete()
            ReportDay.objects.bulk_create(day_rows, batch_size=2000)
            ReportDurations.objects.bulk_create(duration_rows, batch_size=2000)


def _grouped(rows, field: str, info: ZoneInfo, *, via: str = "", also: tuple[str, ...] = ()):
    """Rows as the local `day` of `field`, the ticket's organisation and team (and `also`):
    grouped by these if aggregates are annotated next."""
    return (
        rows.annotate(day=TruncDate(field, tzinfo=info))
        .values("day", f"{via}organization_id", f"{via}team_id", *also)
        .order_by()
    )


def _key(row: dict[str, Any], via: str = "") -> Group:
    return row["day"], row[f"{via}organization_id"], row[f"{via}team_id"]


def _build(
    zone: str, info: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> tuple[list[ReportDay], list[ReportDurations]]:
    """The rows of the days in [start, end), counted as the live report counts them."""
    tickets = figures.service_desk_tickets()
    counts: dict[Group, Counter[str]] = defaultdict(Counter)
    seconds: dict[tuple[Group, str], list[float]] = defaultdict(list)

    created = tickets.filter(created_at__gte=start, created_at__lt=end)
    for row in _grouped(created, "created_at", info).annotate(
        opened=Count("id"), answered=Count("first_response_at")
    ):
        counts[_key(row)].update(opened=row["opened"], answered=row["answered"])
    answered = created.filter(first_response_at__isnull=False)
    for row in _grouped(answered, "created_at", info).annotate(seconds=figures.response_seconds()):
        seconds[_key(row), "response"].append(row["seconds"])

    resolved = figures.resolved(tickets).filter(resolved_at__gte=start, resolved_at__lt=end)
    measures = figures.resolved_measures()
    for row in _grouped(resolved, "resolved_at", info).annotate(**measures):
        counts[_key(row)].update(
            resolved=row["total"],
            first_contact=row["first_contact"],
            reassigned=row["reassigned"],
        )
    for row in _grouped(resolved, "resolved_at", info).annotate(
        seconds=figures.resolution_seconds()
    ):
        seconds[_key(row), "resolution"].append(row["seconds"])

    via = "ticket__"
    clocks = figures.finished_sla_clocks().filter(
        stopped_at__gte=start, stopped_at__lt=end, ticket__kind__in=figures.SERVICE_DESK_KINDS
    )
    for row in _grouped(clocks, "stopped_at", info, via=via, also=("breached",)).annotate(
        count=Count("id")
    ):
        counts[_key(row, via)]["sla_breached" if row["breached"] else "sla_met"] += row["count"]
    answers = figures.survey_answers().filter(
        created_at__gte=start, created_at__lt=end, ticket__kind__in=figures.SERVICE_DESK_KINDS
    )
    for row in _grouped(answers, "created_at", info, via=via, also=("rating",)).annotate(
        count=Count("id")
    ):
        counts[_key(row, via)][f"rated_{row['rating']}"] += row["count"]

    return _rows(zone, counts, seconds)


def _rows(
    zone: str,
    counts: dict[Group, Counter[str]],
    seconds: dict[tuple[Group, str], list[float]],
) -> tuple[list[ReportDay], list[ReportDurations]]:
    histograms: dict[tuple[Group, str], Counter[int]] = {}
    durations: list[ReportDurations] = []
    for (group, measure), values in seconds.items():
        by_bucket: dict[int, list[float]] = defaultdict(list)
        for value in values:
            by_bucket[distribution.bucket_of(value)].append(value)
        histograms[group, measure] = Counter({b: len(v) for b, v in by_bucket.items()})
        day, organization, team = group
        durations.extend(
            ReportDurations(
                zone=zone,
                day=day,
                organization_id=organization,
                team_id=team,
                measure=measure,
                bucket=bucket,
                seconds=sorted(found),
            )
            for bucket, found in sorted(by_bucket.items())
        )
    days = []
    for group in sorted(set(counts) | {g for g, _ in seconds}, key=_sortable):
        day, organization, team = group
        days.append(
            ReportDay(
                zone=zone,
                day=day,
                organization_id=organization,
                team_id=team,
                **dict(counts.get(group, Counter())),
                response_histogram=distribution.as_stored(histograms.get((group, "response"), {})),
                resolution_histogram=distribution.as_stored(
                    histograms.get((group, "resolution"), {})
                ),
            )
        )
    return days, durations


def _sortable(group: Group) -> tuple[dt.date, int, int]:
    day, organization, team = group
    return day, organization, team or 0


# --- months -----------------------------------------------------------------------------------


def _rebuild_months(zone: str, months: Iterable[dt.date], today: dt.date) -> None:
    """Sum the day rows of each ended month into its month rows (histograms, and each bucket's
    durations). A month that has not ended needs none: no period holds it whole before today."""
    for month in sorted(m for m in months if m < today.replace(day=1)):
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        in_month = {"zone": zone, "day__gte": month, "day__lt": following}
        totals: dict[tuple[int, int | None], dict[str, Counter[int]]] = defaultdict(
            lambda: {"response": Counter(), "resolution": Counter()}
        )
        fields = ("organization_id", "team_id", "response_histogram", "resolution_histogram")
        for organization, team, response, resolution in ReportDay.objects.filter(
            **in_month
        ).values_list(*fields):
            distribution.add(totals[organization, team]["response"], response)
            distribution.add(totals[organization, team]["resolution"], resolution)
        seconds: dict[tuple[int, int | None, str, int], list[float]] = defaultdict(list)
        values = ("organization_id", "team_id", "measure", "bucket", "seconds")
        for organization, team, measure, bucket, found in ReportDurations.objects.filter(
            **in_month
        ).values_list(*values):
            seconds[organization, team, measure, bucket].extend(found)
        histograms = [
            ReportMonth(
                zone=zone,
                month=month,
                organization_id=organization,
                team_id=team,
                response_histogram=distribution.as_stored(sums["response"]),
                resolution_histogram=distribution.as_stored(sums["resolution"]),
            )
            for (organization, team), sums in totals.items()
        ]
        durations = [
            ReportMonthDurations(
                zone=zone,
                month=month,
                organization_id=organization,
                team_id=team,
                measure=measure,
                bucket=bucket,
                seconds=sorted(found),
            )
            for (organization, team, measure, bucket), found in seconds.items()
        ]
        with transaction.atomic():
            ReportMonth.objects.filter(zone=zone, month=month).delete()
            ReportMonthDurations.objects.filter(zone=zone, month=month).delete()
            ReportMonth.objects.bulk_create(histograms, batch_size=2000)
            ReportMonthDurations.objects.bulk_create(durations, batch_size=2000)
