"""SLA services: which policy applies, keeping a ticket's clocks in step, escalations, config.

`sla_sync(ticket=...)` is called by the ticket services after every change, inside the same
transaction: it reconciles the ticket's clocks with what the ticket now is (open, paused, goal
met, priority, team, on hold for a vendor, reopened, cancelled), so clocks never drift from
tickets. `servio.sla.scan.sla_scan()` is the periodic job that announces warnings, breaches and
escalations; `sla_escalation_apply` carries out the escalations that change the ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from servio.accounts import scope
from servio.accounts.models import Team, User
from servio.audit.services import audit_record
from servio.core import configcache
from servio.core.errors import PermissionDenied, ValidationFailed
from servio.sla import clocks, scan, selectors
from servio.sla.calendar import BusinessCalendar
from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy, SlaTarget
from servio.tickets import services as tickets
from servio.tickets import workflows
from servio.tickets.models import Kind, Priority, Ticket

log = logging.getLogger(__name__)
Metric = SlaTarget.Metric
PolicyType = SlaPolicy.Type
NOTIFY_ACTIONS = ("notify_assignee", "notify_team_lead", "notify_team", "notify_group")
TICKET_ACTIONS = ("raise_priority", "reassign")
SCHEDULE_FIELDS = ["elapsed_seconds", "running_since", "due_at", "next_threshold_at"]


# --- which policy applies ---------------------------------------------------------------------


def policy_matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    """Every non-empty condition must hold (kinds, priorities, organisations, services, ...)."""
    if policy.kinds and ticket.kind not in policy.kinds:
        return False
    if policy.priorities and ticket.priority not in policy.priorities:
        return False
    if policy.type == PolicyType.OLA and policy.team_id and policy.team_id != ticket.team_id:
        return False
    org_ids = {o.pk for o in policy.organizations.all()}
    if org_ids and ticket.organization_id not in org_ids:
        return False
    service_ids = {s.pk for s in policy.services.all()}
    if service_ids and ticket.service_id not in service_ids:
        return False
    category_ids = {c.pk for c in policy.categories.all()}
    return not category_ids or ticket.category_id in category_ids


# Every active policy with its conditions, targets and calendars, per type in precedence
# order; reloaded when any of them changes (see servio.core.configcache).
_ACTIVE = configcache.Cached(
    "SLA policies",
    lambda: {
        kind: [p for p in selectors.active_policies() if p.type == kind]
        for kind in PolicyType.values
    },
    watched=(
        SlaPolicy,
        SlaTarget,
        Calendar,
        SlaPolicy.organizations.through,
        SlaPolicy.services.through,
        SlaPolicy.categories.through,
    ),
)


def policy_for(ticket: Ticket, kind: str = PolicyType.SLA) -> SlaPolicy | None:
    """The policy of this type that applies: the first active match by `order`, then age."""
    return next((p for p in _ACTIVE.get().get(kind, ()) if policy_matches(p, ticket)), None)


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


def _start_clocks(
    ticket: Ticket, policy: SlaPolicy, at: datetime, metrics: Sequence[str]
) -> list[SlaClock]:
    created = []
    for metric in metrics:
        target = _target(policy, metric, ticket.priority)
        if target is None or (metric == Metric.FIRST_RESPONSE and ticket.first_response_at):
            continue
        created.append(_new_clock(ticket, policy, target, at))
    return created


def _snapshot(clock: SlaClock) -> tuple:
    return tuple(
        getattr(clock, f.attname) for f in SlaClock._meta.concrete_fields if not f.primary_key
    )


def sla_sync(
    *, ticket: Ticket, at: datetime | None = None, created: bool = False
) -> list[SlaClock]:
    """Bring the ticket's clocks in line with the ticket; returns the clocks created or changed.

    Call it inside the transaction that changed the ticket (the ticket services do, through
    `servio.tickets.hooks`). The ticket's clocks are locked, so the scan never overwrites a
    pause or retarget made here, and this never overwrites what the scan announced.
    `created`: the ticket was inserted in this transaction, so it has no clocks to read yet.
    """
    at = at or timezone.now()
    # No savepoint: the clocks are part of the caller's change and fail with it.
    with configcache.pinned(), transaction.atomic(savepoint=False):
        existing = (
            []
            if created
            else list(
                SlaClock.objects.select_for_update(of=("self",))
                .filter(ticket_id=ticket.pk)
                .select_related("policy", "calendar")
                .order_by("pk")
            )
        )
        before = {clock.pk: _snapshot(clock) for clock in existing}
        started: list[SlaClock] = []
        if ticket.status in workflows.abandoned_statuses():
            for clock in existing:
                clocks.cancel(clock, at)
        else:
            started += _reopen(existing, ticket, at)
            started += _start_sla(existing, ticket, at)
            started += _follow_team(existing, started, ticket, at)
            started += _follow_vendor(existing, ticket, at)
            for clock in [*existing, *started]:
                if clock.stopped_at is None:
                    _follow_ticket(clock, ticket, at)
        if started:
            SlaClock.objects.bulk_create(started)
        # Levels the clocks passed before this change, which no scan has announced yet.
        owed = [(c, levels) for c in [*existing, *started] if (levels := clocks.take_owed(c))]
        if owed:
            scan.announce(ticket=ticket, owed=owed)
        if created:  # these are all its clocks: the response shows them without a read
            setattr(ticket, selectors.CLOCKS_AS_WRITTEN, list(started))
        changed = [clock for clock in existing if _snapshot(clock) != before[clock.pk]]
        for clock in changed:
            clock.save()
    return started + changed


def sla_clocks_of_history(*, ticket: Ticket) -> list[SlaClock]:
    """The requester SLA clocks a finished ticket loaded as history (demo, imports) would have
    had: started at logging, stopped at its first response and at its resolution, on the
    policy's calendars; unsaved (the caller writes them in bulk). Holds are not known, so no
    pause is counted. None for an open or abandoned ticket, or one no policy matches."""
    if ticket.status not in workflows.done_statuses():
        return []
    policy = policy_for(ticket, PolicyType.SLA)
    if policy is None:
        return []
    targets = [
        _target(policy, m, ticket.priority) for m in (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
    ]
    started = [_new_clock(ticket, policy, t, ticket.created_at) for t in targets if t is not None]
    for clock in started:
        _follow_ticket(clock, ticket, ticket.resolved_at or ticket.closed_at or ticket.updated_at)
    return started


def _current(existing: list[SlaClock], policy_type: str, metric: str) -> SlaClock | None:
    """The newest clock of one kind on the ticket (older ones are finished cycles or teams)."""
    return next(
        (c for c in reversed(existing) if c.policy_type == policy_type and c.metric == metric),
        None,
    )


def _reopen(existing: list[SlaClock], ticket: Ticket, at: datetime) -> list[SlaClock]:
    """A resolved ticket was reopened: its resolution clocks count on, or start a new cycle."""
    cycle = ticket.reopen_count + 1
    if not ticket.is_open or ticket.reopen_count == 0:
        return []
    created = []
    for policy_type in (PolicyType.SLA, PolicyType.OLA):
        clock = _current(existing, policy_type, Metric.RESOLUTION)
        if (
            clock is None
            or clock.stopped_at is None
            or clock.state == ClockState.CANCELLED
            or clock.cycle >= cycle
            or (policy_type == PolicyType.OLA and clock.team_id != ticket.team_id)
        ):
            continue
        if clock.policy.restart_on_reopen:  # the finished cycle's clock stays as it was
            created += _start_clocks(ticket, clock.policy, at, [Metric.RESOLUTION])
        else:
            clocks.reopen(clock, at, cycle=cycle)
    return created


def _start_sla(existing: list[SlaClock], ticket: Ticket, at: datetime) -> list[SlaClock]:
    """Requester-facing clocks start when the ticket is logged (or when a policy first matches)."""
    if not ticket.is_open or any(c.policy_type == PolicyType.SLA for c in existing):
        return []
    policy = policy_for(ticket, PolicyType.SLA)
    if policy is None:
        return []
    just_logged = ticket.updated_at <= ticket.created_at
    started = ticket.created_at if just_logged else at
    return _start_clocks(ticket, policy, started, [Metric.FIRST_RESPONSE, Metric.RESOLUTION])


def _follow_team(
    existing: list[SlaClock], created: list[SlaClock], ticket: Ticket, at: datetime
) -> list[SlaClock]:
    """OLA clocks measure the team that holds the ticket; a handover ends that team's part."""
    for clock in existing:
        if (
            clock.policy_type == PolicyType.OLA
            and clock.stopped_at is None
            and clock.team_id != ticket.team_id
        ):
            clocks.stop(clock, at)
    live_teams = {
        c.team_id
        for c in [*existing, *created]
        if c.policy_type == PolicyType.OLA and c.stopped_at is None
    }
    if not ticket.is_open or not ticket.team_id or ticket.team_id in live_teams:
        return []
    policy = policy_for(ticket, PolicyType.OLA)
    if policy is None:
        return []
    return _start_clocks(ticket, policy, at, [Metric.FIRST_RESPONSE, Metric.RESOLUTION])


def _follow_vendor(existing: list[SlaClock], ticket: Ticket, at: datetime) -> list[SlaClock]:
    """Underpinning-contract clocks run while the ticket is on hold awaiting a vendor."""
    waiting = ticket.status == "on_hold" and ticket.hold_reason == "awaiting_vendor"
    live = [c for c in existing if c.policy_type == PolicyType.UC and c.stopped_at is None]
    if not waiting:
        for clock in live:
            clocks.stop(clock, at)  # the vendor handed back: its part is over
            clock.team_id = ticket.team_id
        return []
    if live:
        return []
    policy = policy_for(ticket, PolicyType.UC)
    if policy is None:
        return []
    return _start_clocks(ticket, policy, at, [Metric.RESOLUTION])


def _goal_reached_at(clock: SlaClock, ticket: Ticket, at: datetime) -> datetime | None:
    """First response: the first public agent reply (or the resolution, if none came first)."""
    if (
        clock.metric == Metric.FIRST_RESPONSE
        and ticket.first_response_at
        and ticket.first_response_at >= clock.started_at
    ):
        return ticket.first_response_at
    if ticket.status in workflows.done_statuses():
        return ticket.resolved_at or ticket.closed_at or at
    return None


def _follow_ticket(clock: SlaClock, ticket: Ticket, at: datetime) -> None:
    """Stop a clock whose goal was reached; else pause or resume it and follow the priority."""
    reached = _goal_reached_at(clock, ticket, at)
    if reached is not None:
        clocks.stop(clock, max(reached, clock.started_at))
        if clock.policy_type != PolicyType.OLA:
            clock.team_id = ticket.team_id  # the team that finished it, for reporting
        return
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


# --- escalations that change the ticket -------------------------------------------------------


def sla_escalation_apply(*, ticket_id: int, action: str, team_id: int | None) -> Ticket | None:
    """Carry out a ticket-changing escalation (raise the priority, reassign) as the system.

    Runs from the outbox (`servio.sla.handlers`), in its own transaction after the scan, so the
    ticket is locked before its clocks as in every other ticket write.
    """
    if action not in TICKET_ACTIONS:
        return None
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or not ticket.is_open:
        return None
    if action == "raise_priority":
        if ticket.priority <= Priority.CRITICAL:
            return ticket
        return tickets.ticket_update(
            actor=None, ticket=ticket, version=None, changes={"priority": ticket.priority - 1}
        )
    team = Team.objects.filter(pk=team_id, is_active=True).first() if team_id else None
    if team is None:
        log.warning("SLA escalation cannot reassign %s: no active team %s", ticket_id, team_id)
        return ticket
    if ticket.team_id == team.pk:
        return ticket
    if not scope.team_serves(team.pk, ticket.organization_id):
        # A policy may cover organisations its escalation team does not serve: the ticket
        # stays where it is rather than reach people who may not see it (decision 16).
        log.warning(
            "SLA escalation cannot reassign %s to %s: the team does not serve its organisation",
            ticket.reference,
            team,
        )
        return ticket
    return tickets.ticket_assign(actor=None, ticket=ticket, team=team, assignee=None)


# --- configuration ----------------------------------------------------------------------------


def _require_configure(actor: User | None) -> None:
    """SLA configuration (calendars, holidays, policies, targets, escalations) is for
    administrators; `None` is the system (demo data, commands)."""
    if actor is not None and not actor.has_capability("admin.configure"):
        raise PermissionDenied(
            "Only administrators may change SLA configuration; ask an administrator to make "
            "this change."
        )


def calendar_save(*, actor: User | None, calendar: Calendar) -> Calendar:
    """Validate (name, time zone, hours, holidays) and save a calendar, audited.

    Running clocks on a changed calendar keep the business time they used under the old hours
    and count the rest on the new ones from now. Administrators only (PermissionDenied).
    """
    _require_configure(actor)
    creating = calendar.pk is None
    with transaction.atomic():
        calendar_store(actor=actor, calendar=calendar)
        audit_record(
            actor=actor,
            action="sla.calendar_created" if creating else "sla.calendar_saved",
            target=calendar,
        )
    return calendar


def calendar_store(
    *, actor: User | None, calendar: Calendar, at: datetime | None = None
) -> Calendar:
    """Validate and save (no audit: the caller records it, as the admin does) and reschedule its
    running clocks. Administrators only (PermissionDenied)."""
    _require_configure(actor)
    if Calendar.objects.filter(name=calendar.name).exclude(pk=calendar.pk).exists():
        raise ValidationFailed.field("name", f"A calendar named '{calendar.name}' exists already.")
    engine = calendar.build()  # raises ValidationFailed naming each bad field
    with transaction.atomic():
        previous = None
        if calendar.pk is not None:
            previous = Calendar.objects.select_for_update().filter(pk=calendar.pk).first()
        calendar.save()
        if previous is not None:
            old = previous.build()
            if old != engine:
                _rebank(calendar, old, at or timezone.now())
    return calendar


def _counting(**filters: Any):
    return SlaClock.objects.filter(
        stopped_at__isnull=True, state__in=clocks.COUNTING, **filters
    ).order_by("pk")


def _rebank(calendar: Calendar, old: BusinessCalendar, at: datetime, chunk: int = 2000) -> None:
    """Bank the business time each running clock used under `old`, then count on `calendar`."""
    last = 0
    while True:
        batch = list(
            _counting(calendar=calendar, pk__gt=last)
            .select_for_update(of=("self",))
            .select_related("policy")[:chunk]
        )
        if not batch:
            return
        for clock in batch:
            clock.calendar = calendar
            clocks.rebank(clock, old, at)
        SlaClock.objects.bulk_update(batch, SCHEDULE_FIELDS)
        last = batch[-1].pk


def policy_save(*, actor: User | None, policy: SlaPolicy) -> SlaPolicy:
    """Validate and save a policy, audited; its running clocks pick up changed levels.
    Administrators only (PermissionDenied)."""
    _require_configure(actor)
    creating = policy.pk is None
    with transaction.atomic():
        policy_store(actor=actor, policy=policy)
        audit_record(
            actor=actor,
            action="sla.policy_created" if creating else "sla.policy_saved",
            target=policy,
        )
    return policy


def policy_store(*, actor: User | None, policy: SlaPolicy) -> SlaPolicy:
    """Validate and save (no audit: the caller records it, as the admin does); reschedule its
    running clocks. Administrators only (PermissionDenied)."""
    _require_configure(actor)
    validate_policy(policy)
    with transaction.atomic():
        creating = policy.pk is None
        policy.save()
        if not creating:
            _reschedule(policy)
    return policy


def _reschedule(policy: SlaPolicy, chunk: int = 2000) -> None:
    last = 0
    while True:
        batch = list(
            _counting(policy=policy, pk__gt=last)
            .select_for_update(of=("self",))
            .select_related("calendar")[:chunk]
        )
        if not batch:
            return
        for clock in batch:
            clock.policy = policy
            clocks.schedule(clock)
        SlaClock.objects.bulk_update(batch, SCHEDULE_FIELDS)
        last = batch[-1].pk


def validate_policy(policy: SlaPolicy) -> None:
    """Refuse conditions, pauses, thresholds and escalations that cannot work, naming the field."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not isinstance(policy.kinds, list) or any(k not in Kind.values for k in policy.kinds):
        add("kinds", f"Kinds are a list among {', '.join(Kind.values)} (empty = any).")
    if not isinstance(policy.priorities, list) or any(
        isinstance(p, bool) or p not in Priority.values for p in policy.priorities
    ):
        add("priorities", "Priorities are a list of numbers 1 (critical) to 5 (empty = any).")
    thresholds = policy.warning_thresholds
    if not isinstance(thresholds, list) or any(
        (v := clocks.percent_value(p)) is None or v >= clocks.BREACH for p in thresholds
    ):
        add(
            "warning_thresholds",
            "Thresholds are a list of percentages of the target between 0 and 100, e.g. [75, 90].",
        )
    if not isinstance(policy.pause_on, list):
        add("pause_on", 'Pausing statuses are a list, e.g. ["on_hold:awaiting_requester"].')
    else:
        for rule in policy.pause_on:
            status, _, reason = str(rule).partition(":")
            if status not in workflows.open_statuses() or (
                reason and reason not in Ticket.HoldReason.values
            ):
                add(
                    "pause_on",
                    f"'{rule}' is not an open status ({', '.join(workflows.open_statuses())}), "
                    f"optionally with a hold reason ({', '.join(Ticket.HoldReason.values)}).",
                )
    if not isinstance(policy.escalations, list):
        add("escalations", 'Escalations are a list, e.g. [{"at": 90, "action": "notify_team"}].')
    else:
        for escalation in policy.escalations:
            problem = _escalation_problem(escalation)
            if problem:
                add("escalations", problem)
    if policy.team_id and policy.type != PolicyType.OLA:
        add("team", "Only an OLA measures a team; clear the team or make the policy an OLA.")
    if errors:
        raise ValidationFailed(errors)


def _escalation_problem(escalation: Any) -> str | None:
    actions = (*NOTIFY_ACTIONS, *TICKET_ACTIONS)
    if not isinstance(escalation, dict) or escalation.get("action") not in actions:
        return f"{escalation!r}: each escalation needs an action among {', '.join(actions)}."
    if clocks.percent_value(escalation.get("at")) is None:
        return f"{escalation!r}: 'at' is the percentage of the target (100 = the breach)."
    team = escalation.get("team")
    needs_team = escalation["action"] in ("reassign", "notify_group")
    if needs_team and not team:
        return f"{escalation!r}: {escalation['action']} needs the id of a team as 'team'."
    if team and not (
        isinstance(team, int) and Team.objects.filter(pk=team, is_active=True).exists()
    ):
        return f"{escalation!r}: no active team with id {team!r}."
    return None
