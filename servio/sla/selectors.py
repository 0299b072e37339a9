"""SLA reads: a ticket's clocks as people need to see them, and the compliance report."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from servio.core import configcache
from servio.core.errors import ValidationFailed
from servio.sla import clocks
from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy
from servio.tickets.models import Ticket

# Set by sla_sync on a ticket it has just logged: every clock of that ticket, as written.
CLOCKS_AS_WRITTEN = "_sla_clocks_as_written"
GROUPS = {
    "policy": ("policy_id", "policy__name"),
    "organization": ("organization_id", "organization__name"),
    "service": ("service_id", "service__name"),
    "team": ("team_id", "team__name"),
    "priority": ("priority", None),
    "metric": ("metric", None),
    "week": ("period", None),
    "month": ("period", None),
}


def clock_view(clock: SlaClock, now: dt.datetime | None = None) -> dict[str, Any]:
    """Target, due time, business time left, percentage used and state of one clock.

    Seconds are exact to the microsecond (as the clock counts them); the percentage is rounded
    down to a tenth, so it shows 100.0 only once the whole target is used (docs/sla.md).
    """
    now = now or timezone.now()
    used = clocks.used_us(clock, now)
    target = clock.target_seconds * clocks.US
    return {
        "id": clock.pk,
        "policy": clock.policy.name,
        "policy_type": clock.policy_type,
        "metric": clock.metric,
        "state": clock.state,
        "breached": clock.breached,
        "target_seconds": clock.target_seconds,
        "elapsed_seconds": clocks.seconds(used),
        "remaining_seconds": clocks.seconds(target - used),
        "percent_used": used * 1000 // target / 10 if target else 0,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "stopped_at": clock.stopped_at,
        "paused": clock.state == ClockState.PAUSED,
        "pauses": clock.pauses,
        "cycle": clock.cycle,
        "calendar": clock.calendar.name,
        "team_id": clock.team_id,
    }


def ticket_clocks(*, user, ticket: Ticket) -> list[SlaClock]:
    """The ticket's clocks the user may see: staff see all; requesters only the SLA promised to
    them (OLAs and underpinning contracts are the provider's internal agreements).

    The ticket must already come from a scoped read (`tickets.selectors.ticket_get`).
    """
    written = getattr(ticket, CLOCKS_AS_WRITTEN, None)
    if written is not None:  # a ticket just logged: its clocks as sla_sync wrote them
        found = sorted(
            (c for c in written if user.is_staff_member or c.policy_type == SlaPolicy.Type.SLA),
            key=lambda c: c.pk,
        )
    else:
        clocks_qs = SlaClock.objects.filter(ticket=ticket.pk).order_by("pk")
        if not user.is_staff_member:
            clocks_qs = clocks_qs.filter(policy_type=SlaPolicy.Type.SLA)
        found = list(clocks_qs)
    policies, calendars = _POLICIES_AND_CALENDARS.get() if found else ({}, {})
    for clock in found:
        # From the cache rather than joined: the join cost more than the clocks themselves.
        policy, calendar = policies.get(clock.policy_id), calendars.get(clock.calendar_id)
        if policy is None or calendar is None:  # no cache (see configcache): read them
            policy, calendar = clock.policy, clock.calendar
        clock.policy, clock.calendar = copy.copy(policy), copy.copy(calendar)  # not shared
    return found


def _load_policies_and_calendars() -> tuple[dict[int, SlaPolicy], dict[int, Calendar]]:
    """Every policy and calendar (inactive ones too: old clocks name them) by id."""
    return (
        {p.pk: p for p in SlaPolicy.objects.all()},
        {c.pk: c for c in Calendar.objects.all()},
    )


_POLICIES_AND_CALENDARS = configcache.Cached(
    "SLA policies and calendars by id",
    _load_policies_and_calendars,
    watched=(SlaPolicy, Calendar),
)


def next_due_at() -> Subquery:
    """For ticket lists: the due time of the ticket's counting clock that falls due first.

    `Ticket.objects.annotate(sla_due_at=next_due_at()).order_by(F("sla_due_at").asc(
    nulls_last=True))` sorts by "breaching soonest" (uses the `sla_clock_ticket` index).
    """
    return Subquery(
        SlaClock.objects.filter(
            ticket_id=OuterRef("pk"), stopped_at__isnull=True, state__in=clocks.COUNTING
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )


def compliance(
    *,
    group_by: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    policy_type: str | None = None,
    organizations: QuerySet | None = None,
) -> list[dict[str, Any]]:
    """Met vs breached over clocks finished in [start, end), grouped one way."""
    if group_by not in GROUPS:
        raise ValidationFailed.field("group_by", f"must be one of: {', '.join(GROUPS)}.")
    if start and end and end <= start:
        raise ValidationFailed.field("end", "must be after 'start'.")
    qs = SlaClock.objects.filter(
        stopped_at__isnull=False, state__in=[ClockState.MET, ClockState.BREACHED]
    )
    if start:
        qs = qs.filter(stopped_at__gte=start)
    if end:
        qs = qs.filter(stopped_at__lt=end)
    if policy_type:
        qs = qs.filter(policy_type=policy_type)
    if organizations is not None:
        qs = qs.filter(organization__in=organizations)
    key, label = GROUPS[group_by]
    if group_by == "week":
        qs = qs.annotate(period=TruncWeek("stopped_at"))
    elif group_by == "month":
        qs = qs.annotate(period=TruncMonth("stopped_at"))
    fields = [key] + ([label] if label else [])
    rows = (
        qs.values(*fields)
        .annotate(
            total=Count("id"),
            breached_count=Count("id", filter=Q(breached=True)),
        )
        .annotate(met=F("total") - F("breached_count"))
        .order_by(key)
    )
    out = []
    for row in rows:
        value = row[key]
        if isinstance(value, dt.datetime):
            value = value.date().isoformat()
        total = row["total"]
        out.append(
            {
                "key": value,
                "label": str(row[label]) if label and row[label] is not None else str(value),
                "met": row["met"],
                "breached": row["breached_count"],
                "total": total,
                "compliance": round(100 * row["met"] / total, 2) if total else None,
            }
        )
    return out
