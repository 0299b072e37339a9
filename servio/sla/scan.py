"""The periodic level scan: warnings, breaches and escalations, each announced exactly once.

Each clock with a level to announce stores `next_threshold_at`, the instant after which its
first unannounced level (a warning threshold, the breach, an escalation) is passed, or an
instant in the past when a priority change put a passed level behind it. The scan reads only
clocks whose instant has come, through a partial index, in batches of a fixed number of
queries; it never looks at the other open tickets. Clocks are locked with SKIP LOCKED: a clock
that a ticket write (a pause, a retarget) or another scan holds is left for the next run, and
each level is re-checked on the locked row, so a level a pause or retarget made not yet passed
is never announced.

A ticket write that stops a clock, pauses it or changes its target announces, through
`announce`, the levels the clock passed before the change and the scan had not yet seen
(`clocks.settle`), so those crossings are announced once too, and no later than the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from servio.accounts.models import User
from servio.core import outbox
from servio.sla import clocks
from servio.sla.models import Calendar, SlaClock, SlaPolicy
from servio.tickets.models import Ticket, format_number
from servio.tickets.tenancy import allowed_recipients

Event = tuple[str, dict[str, Any]]
Passed = list[tuple[int | float, datetime | None]]  # (level, the clock's due time then)


@dataclass(frozen=True)
class ScanResult:
    """What one scan did: clocks it read (each one due) and events it announced."""

    clocks_read: int
    announced: int


@dataclass(frozen=True)
class _Levels:
    """A policy's levels, worked out once per batch."""

    all: list[int | float]
    warnings: set[int | float]
    escalations: dict[int | float, list[dict[str, Any]]]


@dataclass(frozen=True)
class _TicketInfo:
    reference: str
    assignee_id: int | None
    team_id: int | None
    lead_id: int | None
    organization_id: int


def sla_scan(*, now: datetime | None = None, batch: int = 1000) -> ScanResult:
    """Announce every level whose time has come; returns how many clocks and events.

    A batch costs six queries whatever its size (clocks, their tickets, policies, calendars,
    one update, one insert of the events), plus one per notify_team escalation.
    """
    now = now or timezone.now()
    read = announced = 0
    while True:
        with transaction.atomic():
            due = list(
                SlaClock.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_threshold_at__lt=now)
                .order_by("next_threshold_at")[:batch]
            )
            events: list[Event] = []
            if due:
                levels, tickets = _attach(due)
                for clock in due:
                    events += _handle(clock, now, levels[clock.policy_id], tickets[clock.ticket_id])
                _save(due)
                _publish_all(events)
            announced += len(events)
        read += len(due)
        if len(due) < batch:
            return ScanResult(clocks_read=read, announced=announced)


def _attach(due: list[SlaClock]) -> tuple[dict[int, _Levels], dict[int, _TicketInfo]]:
    """Load the batch's policies, calendars and tickets in one query each."""
    policies = SlaPolicy.objects.in_bulk({c.policy_id for c in due})
    calendars = Calendar.objects.in_bulk({c.calendar_id for c in due})
    for clock in due:
        clock.policy = policies[clock.policy_id]
        clock.calendar = calendars[clock.calendar_id]
    rows = Ticket.objects.filter(pk__in={c.ticket_id for c in due}).values_list(
        "pk", "kind", "number", "assignee_id", "team_id", "team__lead_id", "organization_id"
    )
    tickets = {
        pk: _TicketInfo(format_number(kind, number), assignee, team, lead, organization)
        for pk, kind, number, assignee, team, lead, organization in rows
    }
    return {pk: _levels_of(policy) for pk, policy in policies.items()}, tickets


def _levels_of(policy: SlaPolicy) -> _Levels:
    escalations: dict[int | float, list[dict[str, Any]]] = {}
    for escalation in policy.escalations or ():
        at = clocks.percent_value(escalation.get("at")) if isinstance(escalation, dict) else None
        if at is not None:
            escalations.setdefault(at, []).append(escalation)
    warnings = clocks.warning_levels(policy)
    return _Levels(sorted({*warnings, clocks.BREACH, *escalations}), set(warnings), escalations)


def _handle(clock: SlaClock, now: datetime, levels: _Levels, ticket: _TicketInfo) -> list[Event]:
    """The events for the levels of one locked clock that it has passed by `now`.

    Announcing levels changes neither the business time used nor the due time; only the
    instant of the next unannounced level moves.
    """
    passed = clocks.settle(clock, now, levels.all)
    clock.next_threshold_at = clocks.next_level_at(clock, levels.all)
    return _events(clock, [(level, clock.due_at) for level in passed], levels, ticket)


def _events(clock: SlaClock, passed: Passed, levels: _Levels, ticket: _TicketInfo) -> list[Event]:
    events: list[Event] = []
    for level, due_at in passed:
        payload = _payload(clock, level, due_at, ticket)
        if level == clocks.BREACH:
            events.append(("sla.breached", payload))
        elif level in levels.warnings:
            events.append(("sla.warning", payload))
        for escalation in levels.escalations.get(level, ()):
            events.append(("sla.escalation", _escalation(payload, escalation, ticket)))
    return events


def announce(*, ticket: Ticket, owed: list[tuple[SlaClock, Passed]]) -> int:
    """Publish the levels a ticket write settled on its clocks (`clocks.take_owed`).

    Runs inside the ticket's transaction, which holds the clocks' locks; returns how many
    events it published.
    """
    lead_id = ticket.team.lead_id if ticket.team is not None else None
    info = _TicketInfo(
        ticket.reference, ticket.assignee_id, ticket.team_id, lead_id, ticket.organization_id
    )
    events: list[Event] = []
    for clock, passed in owed:
        events += _events(clock, passed, _levels_of(clock.policy), info)
    if events:
        _publish_all(events)
    return len(events)


def _payload(
    clock: SlaClock, percent: float, due_at: datetime | None, ticket: _TicketInfo
) -> dict[str, Any]:
    return {
        "clock_id": clock.pk,
        "ticket_id": clock.ticket_id,
        "reference": ticket.reference,
        "metric": clock.metric,
        "policy": clock.policy.name,
        "policy_type": clock.policy_type,
        "percent": percent,
        "due_at": due_at.isoformat() if due_at else None,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
    }


def _escalation(
    payload: dict[str, Any], escalation: dict[str, Any], ticket: _TicketInfo
) -> dict[str, Any]:
    """One escalation of a level's `payload`; `recipient_ids` say whom a notify action is for."""
    action = escalation.get("action")
    team_id = escalation.get("team") or ticket.team_id
    recipients: list[int] = []
    if action == "notify_assignee" and ticket.assignee_id:
        recipients = [ticket.assignee_id]
    elif action == "notify_team_lead" and ticket.lead_id:
        recipients = [ticket.lead_id]
    elif action in ("notify_team", "notify_group") and team_id:
        # A group named by the policy may include people who may not see this organisation.
        members = User.objects.filter(teams__pk=team_id, is_active=True)
        recipients = sorted(u.pk for u in allowed_recipients(members, ticket.organization_id))
    return {
        **payload,
        "action": action,
        "team_id": team_id,
        "recipient_ids": recipients,
    }


def _save(due: list[SlaClock]) -> None:
    """Write the levels handled and the next level's instant of every clock, in one statement."""
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    fired = [json.dumps(c.fired) for c in due]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS c SET fired = v.fired::jsonb, breached = v.breached, "  # noqa: S608
                "state = v.state, next_threshold_at = v.next_at "
                "FROM unnest(%s::bigint[], %s::text[], %s::boolean[], %s::text[], "
                "%s::timestamptz[]) AS v(id, fired, breached, state, next_at) WHERE c.id = v.id",
                [
                    [c.pk for c in due],
                    fired,
                    [c.breached for c in due],
                    [c.state for c in due],
                    [c.next_threshold_at for c in due],
                ],
            )
        return
    next_field = SlaClock._meta.get_field("next_threshold_at")
    rows = [
        [
            text,
            c.breached,
            c.state,
            next_field.get_db_prep_save(c.next_threshold_at, connection),
            c.pk,
        ]
        for c, text in zip(due, fired, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET fired = %s, breached = %s, state = %s, "  # noqa: S608
            "next_threshold_at = %s WHERE id = %s",
            rows,
        )


def _publish_all(events: list[Event]) -> None:
    """Announce a batch's events: one statement of outbox rows, one wake-up after commit."""
    outbox.publish_many(events)
