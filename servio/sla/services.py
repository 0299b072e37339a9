"""SLA services: which policies apply, keeping a ticket's clocks in step, the threshold scan.

`sla_sync(ticket=...)` is called by the ticket services after every change, inside the same
transaction: it reconciles the ticket's clocks with what the ticket now is (open, paused, goal
met, priority, team, on hold for a vendor), so clocks can never drift from tickets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from servio.audit.services import audit_record
from servio.core import outbox
from servio.core.errors import ValidationFailed
from servio.sla import clocks
from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy, SlaTarget
from servio.tickets.models import Ticket

log = logging.getLogger(__name__)
Metric = SlaTarget.Metric
FINISHED = ("resolved", "closed")


# --- which policy applies ---------------------------------------------------------------------


def policy_matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    """Every non-empty condition must hold (kinds, priorities, organisations, services, ...)."""
    if policy.kinds and ticket.kind not in policy.kinds:
        return False
    if policy.priorities and ticket.priority not in policy.priorities:
        return False
    if policy.type == SlaPolicy.Type.OLA and policy.team_id and policy.team_id != ticket.team_id:
        return False
    org_ids = {o.pk for o in policy.organizations.all()}
    if org_ids and ticket.organization_id not in org_ids:
        return False
    service_ids = {s.pk for s in policy.services.all()}
    if service_ids and ticket.service_id not in service_ids:
        return False
    category_ids = {c.pk for c in policy.categories.all()}
    return not category_ids or ticket.category_id in category_ids


def _policies(kind: str) -> list[SlaPolicy]:
    return list(
        SlaPolicy.objects.filter(type=kind, is_active=True)
        .prefetch_related("organizations", "services", "categories", "targets__calendar")
        .order_by("order", "pk")
    )


def policy_for(ticket: Ticket, kind: str = SlaPolicy.Type.SLA) -> SlaPolicy | None:
    """The first active policy of this type (by `order`, then age) whose conditions match."""
    return next((p for p in _policies(kind) if policy_matches(p, ticket)), None)


def _target(policy: SlaPolicy, metric: str, priority: int) -> SlaTarget | None:
    return next(
        (t for t in policy.targets.all() if t.metric == metric and t.priority == priority), None
    )


def _pauses(policy: SlaPolicy, ticket: Ticket) -> bool:
    for rule in policy.pause_on:
        status, _, reason = str(rule).partition(":")
        if ticket.status == status and (not reason or reason == ticket.hold_reason):
            return True
    return False


# --- reconciling a ticket's clocks ------------------------------------------------------------


def _new_clock(ticket: Ticket, policy: SlaPolicy, target: SlaTarget, at: datetime) -> SlaClock:
    clock = SlaClock(
        ticket=ticket,
        policy=policy,
        policy_type=policy.type,
        metric=target.metric,
        team_id=ticket.team_id,
        calendar=target.calendar,
        priority=ticket.priority,
        target_seconds=target.minutes * 60,
        state=ClockState.RUNNING,
        started_at=at,
        organization_id=ticket.organization_id,
        service_id=ticket.service_id,
        cycle=ticket.reopen_count + 1,
    )
    clocks.start(clock, at)
    return clock


def _goal_reached_at(clock: SlaClock, ticket: Ticket) -> datetime | None:
    if (
        clock.metric == Metric.FIRST_RESPONSE
        and ticket.first_response_at
        and clock.started_at <= ticket.first_response_at
    ):
        return ticket.first_response_at
    if ticket.status in FINISHED:
        return ticket.resolved_at or ticket.closed_at or ticket.updated_at
    return None


def sla_sync(*, ticket: Ticket, at: datetime | None = None) -> list[SlaClock]:
    """Bring the ticket's clocks in line with the ticket (call inside the writing transaction)."""
    at = at or timezone.now()
    existing = list(
        SlaClock.objects.filter(ticket=ticket).select_related("policy", "calendar").order_by("pk")
    )
    changed: list[SlaClock] = []
    created: list[SlaClock] = []

    # 1. Requester-facing SLA clocks start when the ticket is logged.
    if ticket.is_open and not any(c.policy_type == SlaPolicy.Type.SLA for c in existing):
        policy = policy_for(ticket, SlaPolicy.Type.SLA)
        if policy is not None:
            for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
                target = _target(policy, metric, ticket.priority)
                if target is None or (metric == Metric.FIRST_RESPONSE and ticket.first_response_at):
                    continue
                created.append(_new_clock(ticket, policy, target, ticket.created_at))

    # 2. OLA clocks follow the team that holds the ticket.
    for clock in existing:
        if (
            clock.policy_type == SlaPolicy.Type.OLA
            and clock.stopped_at is None
            and clock.team_id != ticket.team_id
        ):
            clocks.stop(clock, at)  # handed on: the team's part is over
            changed.append(clock)
    live_ola_teams = {
        c.team_id for c in existing if c.policy_type == SlaPolicy.Type.OLA and c.stopped_at is None
    }
    if ticket.team_id and ticket.is_open and ticket.team_id not in live_ola_teams:
        policy = policy_for(ticket, SlaPolicy.Type.OLA)
        if policy is not None:
            for metric in (Metric.FIRST_RESPONSE, Metric.RESOLUTION):
                target = _target(policy, metric, ticket.priority)
                if target is None or (metric == Metric.FIRST_RESPONSE and ticket.first_response_at):
                    continue
                created.append(_new_clock(ticket, policy, target, at))

    # 3. Underpinning contracts run while the ticket waits on a vendor.
    waiting_vendor = ticket.status == "on_hold" and ticket.hold_reason == "awaiting_vendor"
    live_uc = [c for c in existing if c.policy_type == SlaPolicy.Type.UC and c.stopped_at is None]
    for clock in live_uc:
        if not waiting_vendor:
            clocks.stop(clock, at)
            changed.append(clock)
    if waiting_vendor and not live_uc:
        policy = policy_for(ticket, SlaPolicy.Type.UC)
        if policy is not None:
            target = _target(policy, Metric.RESOLUTION, ticket.priority)
            if target is not None:
                created.append(_new_clock(ticket, policy, target, at))

    # 4. Every other clock: goal met, cancelled, reopened, paused, resumed, retargeted.
    for clock in existing:
        if clock in changed or clock.policy_type == SlaPolicy.Type.UC:
            continue
        if _sync_one(clock, ticket, at, created):
            changed.append(clock)

    for clock in created:
        clock.save()
    for clock in changed:
        clock.save()
    return created + changed


def _sync_one(clock: SlaClock, ticket: Ticket, at: datetime, created: list[SlaClock]) -> bool:
    before = (clock.state, clock.stopped_at, clock.priority, clock.due_at, clock.cycle)
    if ticket.status == "cancelled":
        clocks.cancel(clock, at)
    elif clock.stopped_at is None:
        reached = _goal_reached_at(clock, ticket)
        if reached is not None:
            clocks.stop(clock, max(reached, clock.started_at))
        else:
            if _pauses(clock.policy, ticket):
                clocks.pause(clock, at)
            else:
                clocks.resume(clock, at)
            if clock.priority != ticket.priority:
                target = _target(clock.policy, clock.metric, ticket.priority)
                if target is not None:
                    clocks.retarget(
                        clock, target_seconds=target.minutes * 60, priority=ticket.priority, at=at
                    )
    elif (
        clock.metric == Metric.RESOLUTION
        and ticket.is_open
        and clock.state != ClockState.CANCELLED
        and clock.cycle <= ticket.reopen_count
    ):
        if clock.policy.restart_on_reopen:
            clock.cycle = ticket.reopen_count + 1  # this cycle is finished; a new clock counts
            target = _target(clock.policy, clock.metric, ticket.priority)
            if target is not None:
                created.append(_new_clock(ticket, clock.policy, target, at))
        else:
            clocks.reopen(clock, at, restart=False, cycle=ticket.reopen_count + 1)
    if clock.stopped_at is not None and clock.policy_type != SlaPolicy.Type.OLA:
        clock.team_id = ticket.team_id  # the team that finished it, for reporting
    return before != (clock.state, clock.stopped_at, clock.priority, clock.due_at, clock.cycle)


# --- the periodic threshold scan --------------------------------------------------------------


def sla_scan(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Announce warnings and breaches that are due; reads only clocks whose time has come."""
    now = now or timezone.now()
    announced = 0
    while True:
        with transaction.atomic():
            due = list(
                SlaClock.objects.select_for_update(skip_locked=True)
                .filter(
                    next_threshold_at__lte=now,
                    stopped_at__isnull=True,
                    state__in=[ClockState.RUNNING, ClockState.BREACHED],
                )
                .select_related("policy", "calendar", "ticket")
                .order_by("next_threshold_at")[:batch]
            )
            if not due:
                return announced
            escalations: list[tuple[SlaClock, dict]] = []
            for clock in due:
                for percent in clocks.thresholds(clock):
                    if percent in clock.fired or clocks.instant_of(clock, percent) > now:
                        continue
                    clock.fired = [*clock.fired, percent]
                    if percent >= clocks.BREACH:
                        clock.breached = True
                        clock.state = ClockState.BREACHED
                    _announce(clock, percent)
                    announced += 1
                    escalations.extend(
                        (clock, e)
                        for e in clock.policy.escalations
                        if int(e.get("at", 0)) == percent
                    )
                clocks.schedule(clock)
            SlaClock.objects.bulk_update(
                due, ["fired", "breached", "state", "next_threshold_at", "due_at"]
            )
            for clock, escalation in escalations:
                _escalate(clock, escalation)
        if len(due) < batch:
            return announced


def _announce(clock: SlaClock, percent: int) -> None:
    ticket = clock.ticket
    topic = "sla.breached" if percent >= clocks.BREACH else "sla.warning"
    outbox.publish(
        topic,
        {
            "clock_id": clock.pk,
            "ticket_id": ticket.pk,
            "reference": ticket.reference,
            "metric": clock.metric,
            "policy": clock.policy.name,
            "policy_type": clock.policy_type,
            "percent": percent,
            "due_at": clock.due_at.isoformat() if clock.due_at else None,
            "assignee_id": ticket.assignee_id,
            "team_id": ticket.team_id,
        },
    )


def _escalate(clock: SlaClock, escalation: dict) -> None:
    """Run one configured escalation action (as the system, audited by the ticket services)."""
    from servio.accounts.models import Team
    from servio.tickets import services as tickets

    action = escalation.get("action")
    ticket = Ticket.objects.get(pk=clock.ticket_id)
    if action in ("notify_assignee", "notify_team_lead", "notify_team", "notify_group"):
        outbox.publish(
            "sla.escalation",
            {
                "ticket_id": ticket.pk,
                "reference": ticket.reference,
                "action": action,
                "team_id": escalation.get("team") or ticket.team_id,
                "assignee_id": ticket.assignee_id,
                "metric": clock.metric,
                "percent": escalation.get("at"),
            },
        )
    elif action == "raise_priority" and ticket.priority > 1:
        tickets.ticket_update(
            actor=None, ticket=ticket, version=None, changes={"priority": ticket.priority - 1}
        )
    elif action == "reassign" and escalation.get("team"):
        team = Team.objects.filter(pk=escalation["team"], is_active=True).first()
        if team is not None:
            tickets.ticket_assign(actor=None, ticket=ticket, team=team, assignee=None)
    else:
        log.warning("SLA policy %s has an unknown escalation %r", clock.policy_id, escalation)


# --- configuration ----------------------------------------------------------------------------


def calendar_save(*, actor, calendar: Calendar) -> Calendar:
    """Validate (time zone, hours, holidays) and save a calendar."""
    calendar.build()  # raises ValidationFailed naming the field
    with transaction.atomic():
        creating = calendar.pk is None
        calendar.save()
        audit_record(
            actor=actor,
            action="sla.calendar_saved" if not creating else "sla.calendar_created",
            target=calendar,
        )
    return calendar


def policy_overlaps(
    policies: Iterable[SlaPolicy] | None = None,
) -> list[tuple[SlaPolicy, SlaPolicy]]:
    """Pairs of active policies of one type that could both match a ticket.

    Only the first by `order` (then the older) applies; admins see these pairs so the overlap is
    a decision, not an accident.
    """
    items = list(policies) if policies is not None else _policies_all()
    pairs = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if a.type == b.type and _conditions_overlap(a, b):
                pairs.append((a, b))
    return pairs


def _policies_all() -> list[SlaPolicy]:
    return list(
        SlaPolicy.objects.filter(is_active=True)
        .prefetch_related("organizations", "services", "categories")
        .order_by("type", "order", "pk")
    )


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


def validate_policy(policy: SlaPolicy) -> None:
    errors: dict[str, str] = {}
    bad = [
        p for p in policy.warning_thresholds if not isinstance(p, int | float) or not 0 < p < 100
    ]
    if bad:
        errors["warning_thresholds"] = (
            "Thresholds are percentages between 0 and 100, e.g. [75, 90]."
        )
    for rule in policy.pause_on:
        status, _, reason = str(rule).partition(":")
        if status not in ("new", "in_progress", "on_hold") or (
            reason and reason not in ("awaiting_requester", "awaiting_vendor", "awaiting_change")
        ):
            errors["pause_on"] = f"'{rule}' is not an open status (optionally with a hold reason)."
    actions = {
        "notify_assignee",
        "notify_team_lead",
        "notify_team",
        "notify_group",
        "raise_priority",
        "reassign",
    }
    for esc in policy.escalations:
        if not isinstance(esc, dict) or esc.get("action") not in actions:
            errors["escalations"] = f"Each escalation needs an action among {sorted(actions)}."
        elif esc.get("action") == "reassign" and not esc.get("team"):
            errors["escalations"] = "A reassign escalation needs a team id."
    if errors:
        raise ValidationFailed(errors)


def live_clocks_due_between(start: datetime, end: datetime):
    return SlaClock.objects.filter(
        Q(state=ClockState.RUNNING) | Q(state=ClockState.BREACHED),
        stopped_at__isnull=True,
        due_at__gte=start,
        due_at__lt=end,
    )
