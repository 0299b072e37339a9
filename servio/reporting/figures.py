"""The report's definitions as queries, shared by the live report and the report tables' build.

Both count the same rows with the same expressions (docs/reporting.md defines them), so a figure
read from the report tables equals the one counted from the tickets: the tables hold, per day,
exactly what these queries give for that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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
)

from servio.accounts.roles import STAFF_ROLES
from servio.sla.models import ClockState, SlaClock, SlaPolicy
from servio.surveys.models import SurveyResponse
from servio.tickets import workflows
from servio.tickets.models import Comment, Kind, Ticket

# The service desk's own work; problems, changes and tasks have lifecycles of another scale.
SERVICE_DESK_KINDS = (Kind.INCIDENT, Kind.REQUEST)
RATINGS = range(1, 6)


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


def response_seconds() -> EpochSeconds:
    """Logged to first public staff reply (what MTTA measures)."""
    return EpochSeconds("first_response_at", "created_at")


def resolution_seconds() -> EpochSeconds:
    """Logged to (last) resolution (what MTTR measures)."""
    return EpochSeconds("resolved_at", "created_at")


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


def resolved_measures() -> dict[str, Count]:
    """Counted over tickets resolved in a period: all, reassigned, at first contact."""
    return {
        "total": Count("id"),
        "reassigned": Count("id", filter=Q(reassignment_count__gt=0)),
        "first_contact": Count("id", filter=first_contact_resolution()),
    }


def service_desk_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(kind__in=SERVICE_DESK_KINDS)


def resolved(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Tickets resolved or closed, narrow by `resolved_at` (set only while resolved or closed);
    the status makes the (status, resolved_at) index usable."""
    return tickets.filter(status__in=workflows.closed_statuses())


def finished_sla_clocks() -> QuerySet[SlaClock]:
    """Requester SLA clocks (not OLAs or contracts) that finished met or breached; narrow by
    `stopped_at`. A clock counts as breached if it ever passed its target."""
    return SlaClock.objects.filter(
        policy_type=SlaPolicy.Type.SLA, state__in=[ClockState.MET, ClockState.BREACHED]
    )


def open_breached_sla_clocks() -> QuerySet[SlaClock]:
    """Requester SLA clocks still open (counting or paused) that already passed their target;
    narrow by `due_at`, the moment they breached (kept while they wait)."""
    return SlaClock.objects.filter(
        policy_type=SlaPolicy.Type.SLA, stopped_at__isnull=True, breached=True
    ).exclude(state=ClockState.CANCELLED)


def sla_clocks(
    verdict: str, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> QuerySet[SlaClock]:
    """The clocks SLA compliance counts as `verdict` ("met" or "breached") in [start, end):
    met, or breached, by `stopped_at`; breached also takes the open breached clocks, by
    `due_at`. Either bound may be left open."""

    def within(field: str) -> Q:
        bounds = {f"{field}__gte": start, f"{field}__lt": end}
        return Q(**{k: v for k, v in bounds.items() if v is not None})

    if verdict != "breached":
        return finished_sla_clocks().filter(within("stopped_at"), breached=False)
    finished = Q(state__in=[ClockState.MET, ClockState.BREACHED]) & within("stopped_at")
    still_open = Q(stopped_at__isnull=True) & ~Q(state=ClockState.CANCELLED) & within("due_at")
    return SlaClock.objects.filter(
        finished | still_open, policy_type=SlaPolicy.Type.SLA, breached=True
    )


def survey_answers() -> QuerySet[SurveyResponse]:
    return SurveyResponse.objects.all()


def between(field: str, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})
