"""SLA reads: a ticket's clocks as people need to see them, the compliance report, and the
configuration (calendars, policies, their overlaps).

Who may read is decided here, so the API, the UI and any command answer the same: the
configuration and the report are for service desk staff (others get PermissionDenied, 403).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from servio.accounts.models import Organization
from servio.core import configcache
from servio.core.errors import NotFound, PermissionDenied, ValidationFailed
from servio.sla import clocks
from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy
from servio.tickets.models import Ticket

# Set by sla_sync on a ticket it has just logged: every clock of that ticket, as written.
CLOCKS_AS_WRITTEN = "_sla_clocks_as_written"
# Which of several matching policies applies: the lowest `order`, then the older.
PRECEDENCE = ("order", "created_at", "pk")
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


# --- who may read -----------------------------------------------------------------------------


def _require_staff(user, what: str) -> None:
    """The SLA configuration and report are the service desk's: requesters get 403."""
    if not user.is_staff_member:
        raise PermissionDenied(
            f"Only service desk staff may read {what}; requesters see the clocks of their own "
            "tickets."
        )


# --- the compliance report --------------------------------------------------------------------


def compliance(
    *,
    user,
    group_by: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    policy_type: str | None = None,
) -> list[dict[str, Any]]:
    """Met vs breached over clocks finished in [start, end), grouped one way, over the
    organisations the user may see (service desk staff only)."""
    if not user.has_capability("reports.read") and not user.has_capability("ticket.work"):
        raise PermissionDenied(
            "Only service desk staff may read SLA reports; requesters see the clocks of their "
            "own tickets."
        )
    everything = user.has_capability("visibility.all")
    return _compliance_rows(
        group_by=group_by,
        start=start,
        end=end,
        policy_type=policy_type,
        organizations=None if everything else Organization.objects.visible_to(user),
    )


def _compliance_rows(
    *,
    group_by: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    policy_type: str | None,
    organizations: QuerySet | None,
) -> list[dict[str, Any]]:
    """The report over the clocks of `organizations` (None: every organisation)."""
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


# --- configuration ----------------------------------------------------------------------------

LIST_LIMIT = 500


def calendars(*, user) -> QuerySet[Calendar]:
    """Every business-hours calendar by name (service desk staff)."""
    _require_staff(user, "SLA calendars")
    return Calendar.objects.order_by("name", "pk")


def calendar_get(*, user, calendar_id: int) -> Calendar:
    """One calendar (service desk staff); NotFound when there is none with that id."""
    _require_staff(user, "SLA calendars")
    calendar = Calendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(f"No calendar with id {calendar_id}; GET /api/v1/sla/calendars lists them.")
    return calendar


def policies(*, user) -> QuerySet[SlaPolicy]:
    """Every SLA, OLA and underpinning contract policy, by type and precedence (staff)."""
    _require_staff(user, "SLA policies")
    return SlaPolicy.objects.order_by("type", "order", "pk")


def active_policies() -> list[SlaPolicy]:
    """Active policies with their conditions and targets, by type then precedence: `order`,
    then the older first (no permission: the SLA engine's own read)."""
    return list(
        SlaPolicy.objects.filter(is_active=True)
        .prefetch_related("organizations", "services", "categories", "targets__calendar")
        .order_by("type", *PRECEDENCE)
    )


def policy_overlaps(*, user) -> list[tuple[SlaPolicy, SlaPolicy]]:
    """Pairs (applies, shadowed) of active policies of one type that could match one ticket
    (service desk staff).

    Only the first by `order` (then the older) applies to such a ticket; admins see these pairs
    so that an overlap is a decision, not an accident.
    """
    _require_staff(user, "SLA policies")
    return overlapping_pairs(active_policies())


def overlapping_pairs(policies: Iterable[SlaPolicy]) -> list[tuple[SlaPolicy, SlaPolicy]]:
    """The pairs of `policies` of one type whose conditions could match the same ticket."""
    items = sorted(policies, key=lambda p: (p.type, p.order, p.created_at, p.pk or 0))
    pairs = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if a.type == b.type and _conditions_overlap(a, b):
                pairs.append((a, b))
    return pairs


def _overlap(a: Iterable, b: Iterable) -> bool:
    sa, sb = set(a), set(b)
    return not sa or not sb or bool(sa & sb)


def _conditions_overlap(a: SlaPolicy, b: SlaPolicy) -> bool:
    return (
        _overlap(a.kinds, b.kinds)
        and _overlap(a.priorities, b.priorities)
        and _overlap([o.pk for o in a.organizations.all()], [o.pk for o in b.organizations.all()])
        and _overlap([s.pk for s in a.services.all()], [s.pk for s in b.services.all()])
        and _overlap([c.pk for c in a.categories.all()], [c.pk for c in b.categories.all()])
        and (
            a.type != SlaPolicy.Type.OLA or not a.team_id or not b.team_id or a.team_id == b.team_id
        )
    )
