"""The service desk dashboard's figures: computed in the database, scoped by the user.

Every figure is read from the tickets the user may see (`Ticket.objects.visible_to`), of the
service desk's kinds (incidents and service requests), narrowed by the team and organisation
filters. The definitions are in docs/reporting.md; the API (`servio/reporting/api.py`) and the
dashboard page both call `service_desk_metrics`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from servio.accounts.models import Organization, Team
from servio.accounts.roles import STAFF_ROLES
from servio.core.errors import NotFound, PermissionDenied, ValidationFailed
from servio.sla.models import ClockState, SlaClock, SlaPolicy
from servio.surveys.models import SurveyResponse
from servio.tickets import workflows
from servio.tickets.models import Comment, Kind, Ticket

# The service desk's own work; problems, changes and tasks have lifecycles of another scale.
SERVICE_DESK_KINDS = (Kind.INCIDENT, Kind.REQUEST)
MAX_PERIOD = dt.timedelta(days=366)
DEFAULT_DAYS = 30
PERCENTILES = {"median_seconds": 0.5, "p90_seconds": 0.9}
RATINGS = range(1, 6)
# Up to this long a period's SLA clocks are checked one by one against the scope (see below).
PROBE_PERIOD = dt.timedelta(days=92)


class EpochSeconds(Func):
    """Seconds from `start` to `end` (two datetime columns), as a float."""

    output_field = FloatField()

    def __init__(self, end: str, start: str) -> None:
        super().__init__(F(end), F(start))

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra):
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        if connection.vendor == "postgresql":
            sql = f"EXTRACT(EPOCH FROM ({end[0]} - {start[0]}))::double precision"
        else:  # SQLite keeps datetimes as text; julianday() reads them to the millisecond.
            sql = f"((julianday({end[0]}) - julianday({start[0]})) * 86400.0)"
        return sql, (*end[1], *start[1])


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: the value at `fraction`, interpolated linearly."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)))


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
    *, start: dt.datetime | None = None, end: dt.datetime | None = None, now=None
) -> tuple[dt.datetime, dt.datetime]:
    """Fill in what the caller left out: the end is now, the start 30 days before the end.

    With neither given the period starts at midnight UTC 29 days ago, so the chart shows 30
    whole days, today's so far included.
    """
    now = now or timezone.now()
    if start is None and end is None:
        midnight = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - dt.timedelta(days=DEFAULT_DAYS - 1), now
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
) -> dict[str, Any]:
    """The dashboard's figures for [start, end) over the tickets the user may see.

    PermissionDenied for anyone without `reports.read`; ValidationFailed naming `start` or
    `end` for a bad period; NotFound for a team or organisation the user may not see.
    """
    require_dashboard_reader(user=user)
    start, end = _checked_period(start, end)
    tickets = _scoped_tickets(user, team_id=team_id, organization_id=organization_id)
    created = tickets.filter(created_at__gte=start, created_at__lt=end)
    # resolved_at is set only while a ticket is resolved or closed; the status makes the
    # (status, resolved_at) index usable.
    resolved = tickets.filter(
        status__in=workflows.closed_statuses(), resolved_at__gte=start, resolved_at__lt=end
    )
    with _reporting_queries(tickets.db):
        mtta = _timing(created, begin="created_at", finish="first_response_at")
        mttr = _timing(
            resolved,
            begin="created_at",
            finish="resolved_at",
            total=Count("id"),
            reassigned=Count("id", filter=Q(reassignment_count__gt=0)),
            first_contact=Count("id", filter=first_contact_resolution()),
        )
        return {
            "period": {"start": start, "end": end},
            "backlog": _backlog(tickets),
            "opened_vs_resolved": _opened_vs_resolved(created, resolved, start, end),
            "mtta": _timing_out(mtta),
            "mttr": _timing_out(mttr),
            "first_contact_resolution": {
                "rate": _rate(mttr["first_contact"], mttr["total"]),
                "fcr_count": mttr["first_contact"],
                "resolved_count": mttr["total"],
            },
            "sla_compliance": _sla_compliance(tickets, start, end),
            "reassignment_rate": {
                "rate": _rate(mttr["reassigned"], mttr["total"]),
                "reassigned": mttr["reassigned"],
                "total": mttr["total"],
            },
            "csat": _csat(tickets, start, end),
        }


def first_contact_resolution() -> Q:
    """A resolved ticket resolved at first contact: never reassigned, never reopened, and at
    most one public reply by service desk staff other than the requester."""
    agent_replies = Comment.objects.filter(
        ~Q(author_id=OuterRef("requester_id")),
        ticket_id=OuterRef("pk"),
        is_internal=False,
        author__role__in=STAFF_ROLES,
    )
    # Sliced [1:2], EXISTS asks for a second reply and stops reading there.
    # The cheap tests first: in an aggregate's FILTER, PostgreSQL evaluates them in this order.
    return Q(reassignment_count=0, reopen_count=0) & Q(~Exists(agent_replies[1:2]))


@contextmanager
def _reporting_queries(using: str) -> Iterator[None]:
    """On PostgreSQL, run the figures' queries without JIT compilation.

    The planner's cost of the first-contact subquery (one probe per resolved ticket) passes
    `jit_above_cost`, and compiling then takes several times longer (about 0.5 s) than the
    query itself; none of these aggregates gains from JIT. `SET LOCAL` ends with the
    transaction (inside an outer transaction, with that one). SQLite needs nothing, and an
    explicit transaction there would take the write lock (IMMEDIATE mode).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
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


# --- the figures ------------------------------------------------------------------------------


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


def _per_day(tickets: QuerySet[Ticket], field: str) -> dict[dt.date, int]:
    rows = (
        tickets.annotate(day=TruncDate(field, tzinfo=dt.UTC))
        .values("day")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["day"]: row["count"] for row in rows}


def _opened_vs_resolved(
    created: QuerySet[Ticket], resolved: QuerySet[Ticket], start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Every UTC day that the period touches, zeros included."""
    opened_by_day = _per_day(created, "created_at")
    resolved_by_day = _per_day(resolved, "resolved_at")
    first, last = start.date(), (end - dt.timedelta(microseconds=1)).date()
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return [
        {"day": day, "opened": opened_by_day.get(day, 0), "resolved": resolved_by_day.get(day, 0)}
        for day in days
    ]


def _timing(
    tickets: QuerySet[Ticket], *, begin: str, finish: str, **measures: Any
) -> dict[str, Any]:
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
            result[name] = low + (high - low) * (position - math.floor(position))
    return result


def _timing_out(timing: dict[str, Any]) -> dict[str, Any]:
    return {
        "median_seconds": _seconds(timing["median_seconds"]),
        "p90_seconds": _seconds(timing["p90_seconds"]),
        "count": timing["count"],
    }


def _in_scope(tickets: QuerySet[Ticket]) -> Q:
    """For rows that point at a ticket: is that ticket in scope?

    Used inside an aggregate's FILTER, where PostgreSQL keeps it a probe of the ticket's
    primary key per row instead of turning it into a join that reads every ticket: the work
    grows with the rows of the period, not with all the tickets ever logged.
    """
    return Q(Exists(tickets.filter(pk=OuterRef("ticket_id"))))


def _sla_compliance(tickets: QuerySet[Ticket], start: dt.datetime, end: dt.datetime) -> dict:
    """Requester SLA clocks (not OLAs or contracts) that finished met or breached in the period;
    like the SLA compliance report, a clock counts as breached if it ever passed its target.

    There are about two clocks per ticket: over a short period, checking each clock's ticket is
    cheapest; over a long one, PostgreSQL's join with the tickets in scope (one pass over them)
    is (on a million tickets: 0.13 s against 0.38 s for 30 days, 2.4 s against 1.1 s for 366).
    """
    clocks = SlaClock.objects.filter(
        policy_type=SlaPolicy.Type.SLA,
        state__in=[ClockState.MET, ClockState.BREACHED],
        stopped_at__gte=start,
        stopped_at__lt=end,
    )
    if end - start <= PROBE_PERIOD:
        count = Count("id", filter=_in_scope(tickets))
    else:
        clocks, count = clocks.filter(ticket__in=tickets), Count("id")
    rows = clocks.values("breached").annotate(count=count).order_by()
    counts = {row["breached"]: row["count"] for row in rows}
    met, breached = counts.get(False, 0), counts.get(True, 0)
    return {"met": met, "breached": breached, "rate": _rate(met, met + breached)}


def _csat(tickets: QuerySet[Ticket], start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Survey answers given in the period about the tickets in scope."""
    rows = (
        SurveyResponse.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("rating")
        .annotate(count=Count("id", filter=_in_scope(tickets)))
        .order_by()
    )
    distribution = dict.fromkeys(RATINGS, 0)
    distribution.update({row["rating"]: row["count"] for row in rows})
    responses = sum(distribution.values())
    total = sum(rating * count for rating, count in distribution.items())
    return {
        "average": round(total / responses, 2) if responses else None,
        "responses": responses,
        "distribution": {str(rating): count for rating, count in distribution.items()},
    }


def _rate(part: int, whole: int) -> float | None:
    """Percentage with two decimals; None when there is nothing to measure."""
    return round(100 * part / whole, 2) if whole else None


def _seconds(value: float | None) -> float | None:
    return round(float(value), 1) if value is not None else None
