"""Demo data: a believable service desk for `make run` and for trying Servio out.

The people, organisations, teams and catalogue are created through the services; the 2,000
incidents and their conversations and history are planned in memory (`stories/`) and written
in bulk (`bulk.py`) with the rows and audit chain the services would have produced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from servio.accounts.models import Organization, Team, User

DEMO_PASSWORD = "servio-demo"  # noqa: S105 - published demo login
ADMIN_EMAIL = "admin@example.com"
AGENT_EMAIL = "agent@example.com"
REQUESTER_EMAIL = "requester@acme.example"
DEMO_INCIDENTS = 2000
DEMO_DAYS = 90
DEMO_SEED = 20240601


@dataclass
class DemoSummary:
    organizations: int
    users: int
    teams: int
    tickets: int = 0
    comments: int = 0
    events: int = 0


def demo_loaded() -> bool:
    return User.objects.filter(email=ADMIN_EMAIL).exists()


@transaction.atomic
def load_demo(*, incidents: int = DEMO_INCIDENTS, seed: int = DEMO_SEED) -> DemoSummary:
    """Create the demo desk: people and teams through the services, incidents in bulk."""
    from servio.demo.bulk import write_plans
    from servio.demo.directory import ensure_directory
    from servio.demo.generator import NEWEST, new_desk, plan_batch, sample_times, without_gc
    from servio.demo.history import write_finished_history
    from servio.demo.service_levels import ensure_service_levels, start_open_clocks
    from servio.demo.workspace import ensure_workspace

    ensure_directory(password=DEMO_PASSWORD, requesters=200, seed=seed)
    now = timezone.now()
    desk = new_desk(seed=seed, now=now)
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    end = now - NEWEST
    start = end - timedelta(days=DEMO_DAYS)

    # Major incidents: (age in days, incidents that join it, final state); the newest is going on.
    majors_spec = [(0.15, 6, "in_progress"), (3, 5, None), (16, 7, None), (37, 4, None)]
    majors_spec += [(50, 6, None), (71, 8, None)]
    joined_total = sum(size for _, size, _ in majors_spec)
    normal = incidents - len(majors_spec) - joined_total
    times = sample_times(rng, start, end, max(0, normal))
    parents = []
    for age, size, final in majors_spec:
        at = end - timedelta(days=age) - timedelta(minutes=rng.randint(0, 59))
        parents.append((at, size, final))
        for _ in range(size):
            times.append(at + timedelta(seconds=rng.uniform(300, 2.5 * 3600)))
        times.append(at)
    times.sort()
    majors = [(times.index(at), size, final) for at, size, final in parents]

    # Tickets every demo login can open right away, in every state of the workflow.
    rita = desk.d.people[User.objects.get(email=REQUESTER_EMAIL).pk]
    sam = desk.d.people[User.objects.get(email=AGENT_EMAIL).pk]
    showcase = [
        {"final": "new", "requester": rita},
        {"final": "in_progress", "requester": rita, "assignee": sam},
        {
            "final": "on_hold",
            "hold_reason": "awaiting_requester",
            "requester": rita,
            "assignee": sam,
        },
        {"final": "resolved", "requester": rita, "assignee": sam},
        {"final": "closed", "requester": rita, "assignee": sam},
        {"final": "cancelled", "requester": rita},
        {"final": "in_progress", "assignee": sam},
        {"final": "on_hold", "hold_reason": "awaiting_vendor", "assignee": sam},
        {"final": "on_hold", "hold_reason": "awaiting_change", "assignee": sam},
        {"final": "resolved", "assignee": sam},
        {"final": "closed", "assignee": sam},
        {"final": "cancelled", "assignee": sam},
    ]
    major_indexes = {i for i, _, _ in majors}
    recent = [
        i
        for i, t in enumerate(times)
        if now - t < timedelta(days=4) and i not in major_indexes and i + 1 not in major_indexes
    ]
    spots = sorted(rng.sample(recent, min(len(showcase), len(recent))))
    forced = dict(zip(spots, showcase, strict=False))
    with without_gc():
        plans = plan_batch(desk, times, majors=majors, forced=forced)
        written = write_plans(plans)
    ensure_service_levels()
    write_finished_history(seed=seed)
    start_open_clocks()
    invite_demo_requester(seed=seed)
    ensure_workspace(admin_email=ADMIN_EMAIL, agent_email=AGENT_EMAIL)
    return DemoSummary(
        organizations=Organization.objects.count(),
        users=User.objects.count(),
        teams=Team.objects.count(),
        **written,
    )


def invite_demo_requester(*, seed: int = DEMO_SEED) -> int:
    """Survey invitations for the demo requester's resolved tickets and latest closed one, as
    the resolution emails would have sent: their portal opens on "Needs your action"."""
    import uuid

    from servio.surveys.services import survey_invite
    from servio.tickets.models import Ticket

    mine = Ticket.objects.filter(requester__email=REQUESTER_EMAIL)
    tickets = list(mine.filter(status="resolved")) + list(
        mine.filter(status="closed").order_by("-closed_at")[:1]
    )
    for ticket in tickets:
        event = uuid.uuid5(uuid.NAMESPACE_URL, f"servio-demo:{seed}:survey:{ticket.pk}")
        survey_invite(ticket=ticket, event_id=event)
    return len(tickets)
