"""Many tickets over fourteen months, written row by row (no services), for comparing the
report tables with the live count: every kind of row the report counts, in every group
(organisation x team, no team), with durations from none to weeks (ties and sub-second ones
too), and times bunched around the midnights and daylight-saving changes of the zones tested.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid

from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy
from servio.surveys.models import SurveyInvitation, SurveyResponse
from servio.tickets.models import Comment, Ticket, Watcher
from tests.factories import Personas

UTC = dt.UTC
FIRST = dt.datetime(2025, 1, 1, tzinfo=UTC)
NOW = dt.datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # "now" of the comparisons
# Instants where days begin in some zone or where clocks change: tickets are bunched there.
EDGES = [
    dt.datetime(2025, 3, 9, 7, 0, tzinfo=UTC),  # New York springs forward
    dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # Berlin springs forward
    dt.datetime(2025, 10, 26, 1, 0, tzinfo=UTC),  # Berlin falls back
    dt.datetime(2025, 11, 2, 6, 0, tzinfo=UTC),  # New York falls back
    dt.datetime(2025, 12, 31, 23, 0, tzinfo=UTC),  # midnight in Berlin
    dt.datetime(2026, 2, 28, 18, 15, tzinfo=UTC),  # midnight in Kathmandu
    dt.datetime(2026, 3, 9, 5, 0, tzinfo=UTC),  # midnight in New York
]


def _duration(rng: random.Random) -> dt.timedelta:
    """From nothing to weeks, log-uniform, with some exact repeats (ties)."""
    pick = rng.random()
    if pick < 0.05:
        return dt.timedelta(0)
    if pick < 0.12:
        return dt.timedelta(minutes=30)  # the same value many times
    if pick < 0.16:
        return dt.timedelta(microseconds=rng.randrange(1, 999_999))  # under a second
    return dt.timedelta(seconds=10 ** rng.uniform(0, 6.5))


def _when(rng: random.Random) -> dt.datetime:
    if rng.random() < 0.25:
        edge = rng.choice(EDGES)
        return edge + dt.timedelta(seconds=rng.randint(-3 * 3600, 3 * 3600))
    span = (NOW - FIRST).total_seconds()
    return FIRST + dt.timedelta(seconds=rng.random() * span)


def many_tickets(p: Personas, *, count: int = 420, seed: int = 13) -> list[Ticket]:
    """`count` tickets created before NOW, with comments, SLA clocks and survey answers."""
    rng = random.Random(seed)
    groups = [
        (p.acme, p.team_desk, p.requester_acme),
        (p.acme, p.team_desk, p.colleague_acme),
        (p.acme, p.team_network, p.requester_acme),  # worked by a team that does not serve Acme
        (p.acme, None, p.requester_acme),
        (p.globex, p.team_network, p.requester_globex),
        (p.globex, p.team_desk, p.requester_globex),  # with the desk: its members see it
        (p.globex, None, p.requester_globex),
        (p.provider, p.team_desk, p.agent_desk),
        (p.provider, p.team_network, p.lead_desk),
    ]
    assignees = [None, p.agent_desk, p.agent_network, p.lead_desk, p.change_manager]
    numbers = itertools.count(1)
    rows = []
    for _ in range(count):
        organization, team, requester = rng.choice(groups)
        created = _when(rng)
        if created >= NOW:
            created = NOW - dt.timedelta(minutes=rng.randint(1, 600))
        status = rng.choice(["new", "in_progress", "on_hold", "resolved", "closed", "cancelled"])
        answered = created + _duration(rng) if rng.random() < 0.8 else None
        resolved = created + _duration(rng) if status in ("resolved", "closed") else None
        if resolved is not None and resolved >= NOW:  # resolved in the future: open still
            status, resolved = "in_progress", None
        if answered is not None and answered >= NOW:
            answered = None
        rows.append(
            Ticket(
                kind=rng.choice(["incident", "incident", "request", "problem"]),
                number=next(numbers),
                title="Printer",
                requester=requester,
                organization=organization,
                team=team,
                assignee=rng.choice(assignees) if team is not None else None,
                priority=rng.randint(1, 5),
                status=status,
                created_at=created,
                updated_at=resolved or answered or created,
                first_response_at=answered,
                resolved_at=resolved,
                reassignment_count=rng.choice([0, 0, 0, 1, 2]),
                reopen_count=rng.choice([0, 0, 0, 0, 1]),
            )
        )
    tickets = Ticket.objects.bulk_create(rows)
    _comments(rng, p, tickets)
    _clocks(rng, tickets)
    _surveys(rng, tickets)
    return tickets


def _comments(rng: random.Random, p: Personas, tickets: list[Ticket]) -> None:
    """Public staff replies (0 to 3), the requester's replies and internal notes."""
    authors = [p.agent_desk, p.agent_network, p.lead_desk, p.requester_acme]
    comments = []
    for ticket in tickets:
        for n in range(rng.randint(0, 4)):
            author = rng.choice([*authors, ticket.requester])
            comments.append(
                Comment(
                    ticket=ticket,
                    author=author,
                    body="Hello",
                    is_internal=rng.random() < 0.2 and author.role != "requester",
                    created_at=ticket.created_at + dt.timedelta(minutes=n + 1),
                )
            )
    Comment.objects.bulk_create(comments)


def _clocks(rng: random.Random, tickets: list[Ticket]) -> None:
    """Finished requester SLA clocks (met or breached) and OLA clocks, some running ones."""
    calendar = Calendar.objects.create(name="Always", twenty_four_seven=True)
    sla = SlaPolicy.objects.create(name="Standard", type=SlaPolicy.Type.SLA)
    ola = SlaPolicy.objects.create(name="Desk OLA", type=SlaPolicy.Type.OLA)
    clocks = []
    for ticket in tickets:
        for policy in (sla, ola):
            if rng.random() < 0.4:
                continue
            stopped = ticket.resolved_at or ticket.first_response_at
            state = rng.choice([ClockState.MET, ClockState.BREACHED]) if stopped else "running"
            clocks.append(
                SlaClock(
                    ticket=ticket,
                    policy=policy,
                    policy_type=policy.type,
                    metric="resolution",
                    team=ticket.team,
                    calendar=calendar,
                    priority=ticket.priority,
                    target_seconds=3600,
                    state=state,
                    breached=state == ClockState.BREACHED,
                    started_at=ticket.created_at,
                    stopped_at=stopped,
                    organization=ticket.organization,
                )
            )
    SlaClock.objects.bulk_create(clocks)


def _surveys(rng: random.Random, tickets: list[Ticket]) -> None:
    for ticket in tickets:
        if ticket.resolved_at is None or rng.random() < 0.5:
            continue
        answered_at = ticket.resolved_at + dt.timedelta(hours=rng.randint(0, 30))
        if answered_at >= NOW:
            continue
        invitation = SurveyInvitation.objects.create(
            ticket=ticket,
            requester=ticket.requester,
            event_id=uuid.uuid4(),
            created_at=ticket.resolved_at,
            expires_at=ticket.resolved_at + dt.timedelta(days=14),
            used_at=answered_at,
        )
        SurveyResponse.objects.create(
            invitation=invitation, ticket=ticket, rating=rng.randint(1, 5), created_at=answered_at
        )


def watch(user, tickets: list[Ticket]) -> None:
    Watcher.objects.bulk_create(Watcher(ticket=ticket, user=user) for ticket in tickets)
