"""The service desk dashboard's figures: computed in the database, scoped by the user.

Every figure is read from the tickets the user may see (`Ticket.objects.visible_to`), of the
service desk's kinds (incidents and service requests), narrowed by the team and organisation
filters, with days in the report's time zone. The definitions are in docs/reporting.md; the API
(`servio/reporting/api.py`) and the dashboard page both call `service_desk_metrics`.

Whole days of whole organisations and teams come from the report tables when they are built
(decision 29, `stored.py`); the rest is counted from the tickets. Both give the same figures:
`stored=False` counts everything from the tickets, and the tests compare the two.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from servio.accounts.models import Organization, Team
from servio.core.errors import NotFound, PermissionDenied, ValidationFailed
from servio.reporting import distribution, figures, stored, zones
from servio.reporting.distribution import PERCENTILES
from servio.reporting.figures import (
    RATINGS,
    SERVICE_DESK_KINDS,
    EpochSeconds,
    PercentileCont,
    between,
    first_contact_resolution,
)
from servio.tickets import workflows
from servio.tickets.models import Ticket, visible_parts

__all__ = [
    "MAX_PERIOD",
    "PROBE_PERIOD",
    "SERVICE_DESK_KINDS",
    "can_read_dashboard",
    "default_period",
    "first_contact_resolution",
    "service_desk_metrics",
]

MAX_PERIOD = dt.timedelta(days=366)
DEFAULT_DAYS = 30
# Up to this long a period's SLA clocks are checked one by one against the scope (see below).
PROBE_PERIOD = dt.timedelta(days=92)


def can_read_dashboard(user) -> bool:
    """Team leads, change managers and administrators (`reports.read`); not agents."""
    return bool(user.is_authenticated and user.has_capability("reports.read"))


def require_dashboard_reader(*, user) -> None:
    """PermissionDenied for anyone who may not read the service desk figures: the rule of
    `service_desk_metrics`, for callers that must refuse before they compute anything."""
    if not can_read_dashboard(user):
        raise PermissionDenied(
            "Only team leads, change managers and administrators may read the service desk "
            "dashboard."
        )


def default_period(
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    now=None,
    zone: ZoneInfo | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """Fill in what the caller left out: the end is now, the start 30 days before the end.

    With neither given the period starts at midnight 29 days ago in `zone` (default: UTC), so
    the chart shows 30 whole days, today's so far included.
    """
    now = now or timezone.now()
    if start is None and end is None:
        zone = zone or ZoneInfo("UTC")
        today = zones.day_of(now, zone)
        return zones.start_of(today - dt.timedelta(days=DEFAULT_DAYS - 1), zone), now
    if end is None:
        end = now
    if start is None:
        try:
            start = end - dt.timedelta(days=DEFAULT_DAYS)
        except OverflowError:
            raise ValidationFailed.field("end", "is out of range.") from None
    return start, end


def service_desk_metrics(
    *,
    user,
    start: dt.datetime,
    end: dt.datetime,
    team_id: int | None = None,
    organization_id: int | None = None,
    time_zone: str | None = None,
    stored_figures: bool = True,
) -> dict[str, Any]:
    """The dashboard's figures for [start, end) over the tickets the user may see, with days
    in `time_zone` (an IANA name; default: the first of SERVIO_REPORT_TIME_ZONES).

    PermissionDenied for anyone without `reports.read`; ValidationFailed naming `start`, `end`
    or `tz` for a bad period or time zone; NotFound for a team or organisation the user may
    not see. `stored_figures=False` counts everything from the tickets (for comparisons).
    """
    require_dashboard_reader(user=user)
    zone = zones.zone_named(time_zone)
    start, end = _checked_period(start, end)
    tickets = _scoped_tickets(user, team_id=team_id, organization_id=organization_id)
    with _reporting_queries(tickets.db):
        parts = functools.cache(lambda: visible_parts(user))
        part = None
        if stored_figures:
            part = stored.stored_days(
                zone=zone,
                start=start,
                end=end,
                parts=parts,
                team_id=team_id,
                organization_id=organization_id,
                now=timezone.now(),
            )
        if part is None:
            result = _counted(tickets, start, end, zone)
        else:
            singles = _seen_personally(parts(), team_id=team_id, organization_id=organization_id)
            result = _combined(tickets, start, end, zone, part, singles)
        return {
            "period": {"start": start, "end": end},
            "time_zone": zone.key,
            "backlog": _backlog(tickets),
            **result,
        }


def service_desk_by_team(
    *,
    user,
    start: dt.datetime,
    end: dt.datetime,
    team_id: int | None = None,
    organization_id: int | None = None,
    time_zone: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(label, figures) for everything in scope ("All teams") and then each active team the
    user may see (only the chosen one when `team_id` is given): the spreadsheet's rows.
    Tickets without a team count in the first row only."""
    rows = [
        (
            "All teams",
            service_desk_metrics(
                user=user,
                start=start,
                end=end,
                team_id=team_id,
                organization_id=organization_id,
                time_zone=time_zone,
            ),
        )
    ]
    teams = Team.objects.visible_to(user).filter(is_active=True).order_by("name", "pk")
    if team_id is not None:
        teams = teams.filter(pk=team_id)
    for team in teams:
        figures_ = service_desk_metrics(
            user=user,
            start=start,
            end=end,
            team_id=team.pk,
            organization_id=organization_id,
            time_zone=time_zone,
        )
        rows.append((team.name, figures_))
    return rows


@contextmanager
def _reporting_queries(using: str) -> Iterator[None]:
    """On PostgreSQL, run the figures' queries in one snapshot and without JIT compilation.

    REPEATABLE READ: the report tables' rows and the tickets are read as of one instant, so a
    refresh that commits meanwhile cannot be counted half. JIT: the planner's cost of the
    first-contact subquery (one probe per resolved ticket) passes `jit_above_cost`, and
    compiling then takes several times longer (about 0.5 s) than the query itself; none of
    these aggregates gains from JIT. Inside an outer transaction the isolation level is that
    transaction's. SQLite needs nothing, and an explicit transaction there would take the
    write lock (IMMEDIATE mode).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if outermost:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET LOCAL jit = off")
        yield


# --- checks and scope -------------------------------------------------------------------------


def _checked_period(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Both aware, in UTC, end after start, at most 366 days apart."""
    errors: dict[str, str] = {}
    values = {}
    for name, value in (("start", start), ("end", end)):
        if timezone.is_naive(value):
            errors[name] = "needs a time zone offset, e.g. 2026-03-01T00:00:00Z."
            continue
        try:
            values[name] = value.astimezone(dt.UTC)
        except OverflowError:
            errors[name] = "is out of range."
    if errors:
        raise ValidationFailed(errors)
    start, end = values["start"], values["end"]
    if end <= start:
        raise ValidationFailed.field("end", "must be after start.")
    if end - start > MAX_PERIOD:
        raise ValidationFailed.field(
            "end", f"The period may be at most {MAX_PERIOD.days} days long; choose a later start."
        )
    return start, end


def _scoped_tickets(user, *, team_id: int | None, organization_id: int | None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.visible_to(user).filter(kind__in=SERVICE_DESK_KINDS)
    if team_id is not None:
        if not Team.objects.visible_to(user).filter(pk=team_id).exists():
            raise NotFound(f"No team {team_id} is visible to you.")
        tickets = tickets.filter(team_id=team_id)
    if organization_id is not None:
        if not Organization.objects.visible_to(user).filter(pk=organization_id).exists():
            raise NotFound(f"No organisation {organization_id} is visible to you.")
        tickets = tickets.filter(organization_id=organization_id)
    return tickets


def _seen_personally(parts, *, team_id: int | None, organization_id: int | None) -> list[int]:
    """Ids of the service desk tickets the reader sees only personally (requested, watched,
    assigned) outside their whole organisations and teams, within the filters.

    Outside the whole parts means: of an organisation not among them (named, so that
    PostgreSQL intersects the personal tickets with that organisation's index instead of
    reading every personal ticket), and of no team among them.
    """
    if parts.everything or parts.personal is None:
        return []
    unseen = Organization.objects.exclude(pk__in=parts.organizations)
    if organization_id is not None:
        unseen = unseen.filter(pk=organization_id)
    organizations = list(unseen.values_list("pk", flat=True))
    if not organizations:
        return []
    tickets = Ticket.objects.filter(
        parts.personal, kind__in=SERVICE_DESK_KINDS, organization_id__in=organizations
    )
    if parts.teams:
        tickets = tickets.exclude(team_id__in=parts.teams)
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    return list(tickets.values_list("pk", flat=True))


# --- the figures, counted from the tickets ----------------------------------------------------


def _counted(
    tickets: QuerySet[Ticket], start: dt.datetime, end: dt.datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """Every figure but the backlog, counted from the tickets in scope."""
    created = tickets.filter(created_at__gte=start, created_at__lt=end)
    # resolved_at is set only while a ticket is resolved or closed; the status makes the
    # (status, resolved_at) index usable.
    resolved = figures.resolved(tickets).filter(resolved_at__gte=start, resolved_at__lt=end)
    mtta = _timing(created, "first_response_at", "created_at")
    mttr = _timing(resolved, "resolved_at", "created_at", **figures.resolved_measures())
    clocks = figures.finished_sla_clocks().filter(stopped_at__gte=start, stopped_at__lt=end)
    if end - start <= PROBE_PERIOD:
        sla = _clock_counts(clocks, _in_scope(tickets))
    else:
        sla = _clock_counts(clocks.filter(ticket__in=tickets), None)
    answers = figures.survey_answers().filter(created_at__gte=start, created_at__lt=end)
    return _assemble(
        days=zones.days_touched(start, end, zone),
        opened=_per_day(created, "created_at", zone),
        resolved=_per_day(resolved, "resolved_at", zone),
        mtta=mtta,
        mttr=mttr,
        sla=sla,
        sla_open=_open_breaches(tickets, start, end),
        ratings=_ratings(answers, _in_scope(tickets)),
    )


def _timing(tickets: QuerySet[Ticket], finish: str, begin: str, **measures: Any) -> dict[str, Any]:
    """Count, median and 90th percentile of `finish - begin` (rows where `finish` is set),
    with further aggregates computed in the same query.

    PostgreSQL computes the percentiles with `percentile_cont`; elsewhere they are read by rank
    (one more query that returns at most four values), interpolated the same way.
    """
    measures["count"] = Count(finish)
    postgres = connections[tickets.db].vendor == "postgresql"
    if postgres:
        seconds = EpochSeconds(finish, begin)
        for name, fraction in PERCENTILES.items():
            measures[name] = PercentileCont(seconds, fraction=fraction)
    result = tickets.aggregate(**measures)
    if not postgres:
        finished = tickets.filter(**{f"{finish}__isnull": False})
        result.update(_percentiles_by_rank(finished, begin, finish, result["count"]))
    return result


def _percentiles_by_rank(
    tickets: QuerySet[Ticket], begin: str, finish: str, count: int
) -> dict[str, float | None]:
    """percentile_cont by hand: the values at the ranks around each fraction, interpolated."""
    if not count:
        return dict.fromkeys(PERCENTILES)
    positions = {name: fraction * (count - 1) for name, fraction in PERCENTILES.items()}
    ranks = {r + 1 for p in positions.values() for r in (math.floor(p), math.ceil(p))}
    ranked = (
        tickets.annotate(seconds=EpochSeconds(finish, begin))
        .annotate(rank=Window(RowNumber(), order_by=F("seconds").asc()))
        .filter(rank__in=sorted(ranks))
        .values_list("rank", "seconds")
    )
    by_rank = dict(ranked)
    result: dict[str, float | None] = {}
    for name, position in positions.items():
        low, high = by_rank.get(math.floor(position) + 1), by_rank.get(math.ceil(position) + 1)
        if low is None or high is None:  # rows changed between the two queries
            result[name] = None
        else:
            result[name] = distribution.interpolate(low, high, position)
    return result


def _in_scope(tickets: QuerySet[Ticket]) -> Q:
    """For rows that point at a ticket: is that ticket in scope?

    Used inside an aggregate's FILTER, where PostgreSQL keeps it a probe of the ticket's
    primary key per row instead of turning it into a join that reads every ticket: the work
    grows with the rows of the period, not with all the tickets ever logged.
    """
    return Q(Exists(tickets.filter(pk=OuterRef("ticket_id"))))


def _clock_counts(clocks, scope: Q | None) -> dict[bool, int]:
    """Finished clocks by `breached`: counted where `scope` holds (None: all given).

    There are about two clocks per ticket: over a short period, checking each clock's ticket is
    cheapest; over a long one, PostgreSQL's join with the tickets in scope (one pass over them)
    is (on a million tickets: 0.13 s against 0.38 s for 30 days, 2.4 s against 1.1 s for 366).
    """
    count = Count("id") if scope is None else Count("id", filter=scope)
    rows = clocks.values("breached").annotate(count=count).order_by()
    return {row["breached"]: row["count"] for row in rows}


def _open_breaches(tickets: QuerySet[Ticket], start: dt.datetime, end: dt.datetime) -> dict:
    """Open breached clocks (still counting or waiting, past their target) that breached in
    the period, and the tickets with any clock SLA compliance counts as breached, in one
    query over the breached clocks (few beside the met ones). Always counted live: the report
    tables hold finished clocks only."""
    counts = (
        figures.sla_clocks("breached", start, end)
        .filter(_in_scope(tickets))
        .aggregate(
            clocks=Count("id", filter=Q(stopped_at__isnull=True)),
            tickets=Count("ticket_id", distinct=True),
        )
    )
    return {"clocks": counts["clocks"], "tickets": counts["tickets"]}


def _ratings(answers, scope: Q) -> Counter[int]:
    """Survey answers about tickets in scope, by rating."""
    rows = answers.values("rating").annotate(count=Count("id", filter=scope)).order_by()
    return Counter({row["rating"]: row["count"] for row in rows})


def _per_day(tickets: QuerySet[Ticket], field: str, zone: ZoneInfo) -> Counter[dt.date]:
    rows = (
        tickets.annotate(day=TruncDate(field, tzinfo=zone))
        .values("day")
        .annotate(count=Count("id"))
        .order_by()
    )
    return Counter({row["day"]: row["count"] for row in rows})


# --- the figures, stored days combined with counted ones ---------------------------------------


def _combined(
    tickets: QuerySet[Ticket],
    start: dt.datetime,
    end: dt.datetime,
    zone: ZoneInfo,
    part: stored.StoredDays,
    singles: list[int],
) -> dict[str, Any]:
    """Every figure but the backlog: the stored days' rows of the whole parts, plus what they
    leave out counted from the tickets (the rest of the period, and the tickets the reader sees
    personally outside the whole parts). The two sets of tickets do not overlap."""

    def counted(field: str, key: str = "pk") -> Q:
        """Outside the stored days, or in them but only personally seen."""
        outside = between(field, start, part.start) | between(field, part.end, end)
        if not singles:
            return outside
        return outside | (Q(**{f"{key}__in": singles}) & between(field, part.start, part.end))

    created = tickets.filter(counted("created_at"))
    resolved = figures.resolved(tickets).filter(counted("resolved_at"))
    days = stored.day_counts(part)
    totals: Counter[str] = Counter()
    for row in days.values():
        totals.update(row)
    stored_histograms = stored.histograms(part)

    response = list(
        created.filter(first_response_at__isnull=False)
        .annotate(seconds=figures.response_seconds())
        .values_list("seconds", flat=True)
    )
    resolution = list(
        resolved.annotate(seconds=figures.resolution_seconds()).values_list("seconds", flat=True)
    )
    live = {"response": response, "resolution": resolution}
    ranks = {m: distribution.locate(stored_histograms[m], live[m]) for m in live}
    wanted = {m: r.wanted for m, r in ranks.items() if r is not None}
    values = stored.durations(part, wanted)
    mtta: dict[str, Any] = distribution.at_ranks(
        ranks["response"], values.get("response", {}), response
    )
    mttr: dict[str, Any] = distribution.at_ranks(
        ranks["resolution"], values.get("resolution", {}), resolution
    )
    mtta["count"] = totals["answered"] + len(response)
    counts = resolved.aggregate(**figures.resolved_measures())
    mttr["count"] = totals["resolved"] + len(resolution)
    for name, stored_name in (
        ("total", "resolved"),
        ("reassigned", "reassigned"),
        ("first_contact", "first_contact"),
    ):
        mttr[name] = totals[stored_name] + counts[name]

    clocks = figures.finished_sla_clocks().filter(counted("stopped_at", "ticket_id"))
    sla = Counter(_clock_counts(clocks, _in_scope(tickets)))
    sla[False] += totals["sla_met"]
    sla[True] += totals["sla_breached"]
    answers = figures.survey_answers().filter(counted("created_at", "ticket_id"))
    ratings = _ratings(answers, _in_scope(tickets))
    for rating in RATINGS:
        ratings[rating] += totals[f"rated_{rating}"]

    opened = _per_day(created, "created_at", zone)
    resolved_by_day = _per_day(resolved, "resolved_at", zone)
    for day, row in days.items():
        opened[day] += row["opened"]
        resolved_by_day[day] += row["resolved"]
    return _assemble(
        days=zones.days_touched(start, end, zone),
        opened=opened,
        resolved=resolved_by_day,
        mtta=mtta,
        mttr=mttr,
        sla=sla,
        sla_open=_open_breaches(tickets, start, end),
        ratings=ratings,
    )


# --- the answer -------------------------------------------------------------------------------


def _assemble(
    *,
    days: list[dt.date],
    opened: Counter[dt.date],
    resolved: Counter[dt.date],
    mtta: dict[str, Any],
    mttr: dict[str, Any],
    sla: dict[bool, int],
    sla_open: dict[str, int],
    ratings: Counter[int],
) -> dict[str, Any]:
    met, breached, still_open = sla.get(False, 0), sla.get(True, 0), sla_open["clocks"]
    distribution_ = {str(rating): ratings.get(rating, 0) for rating in RATINGS}
    responses = sum(distribution_.values())
    rated = sum(rating * ratings.get(rating, 0) for rating in RATINGS)
    return {
        "opened_vs_resolved": [
            {"day": day, "opened": opened.get(day, 0), "resolved": resolved.get(day, 0)}
            for day in days
        ],
        "mtta": _timing_out(mtta),
        "mttr": _timing_out(mttr),
        "first_contact_resolution": {
            "rate": _rate(mttr["first_contact"], mttr["total"]),
            "fcr_count": mttr["first_contact"],
            "resolved_count": mttr["total"],
        },
        "sla_compliance": {
            "met": met,
            "breached": breached,
            "breached_open": still_open,
            "breached_tickets": sla_open["tickets"],
            "rate": _rate(met, met + breached + still_open),
        },
        "reassignment_rate": {
            "rate": _rate(mttr["reassigned"], mttr["total"]),
            "reassigned": mttr["reassigned"],
            "total": mttr["total"],
        },
        "csat": {
            "average": round(rated / responses, 2) if responses else None,
            "responses": responses,
            "distribution": distribution_,
        },
    }


def _backlog(tickets: QuerySet[Ticket]) -> list[dict[str, Any]]:
    """Open tickets now, by team (None: unassigned, listed last) and priority.

    `NOT IN` the closed statuses, as `Ticket.objects.open()`: the predicate of the partial
    indexes of open tickets (`t_open_team_queue`), so PostgreSQL reads only those.
    """
    rows = (
        tickets.exclude(status__in=workflows.closed_statuses())
        .values("team_id", "team__name", "priority")
        .annotate(count=Count("id"))
        .order_by(F("team__name").asc(nulls_last=True), "team_id", "priority")
    )
    return [
        {
            "team_id": row["team_id"],
            "team": row["team__name"],
            "priority": row["priority"],
            "count": row["count"],
        }
        for row in rows
    ]


def _timing_out(timing: dict[str, Any]) -> dict[str, Any]:
    return {
        "median_seconds": _seconds(timing["median_seconds"]),
        "p90_seconds": _seconds(timing["p90_seconds"]),
        "count": timing["count"],
    }


def _rate(part: int, whole: int) -> float | None:
    """Percentage with two decimals; None when there is nothing to measure."""
    return round(100 * part / whole, 2) if whole else None


def _seconds(value: float | None) -> float | None:
    return round(float(value), 1) if value is not None else None
