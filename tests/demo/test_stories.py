"""The bulk loader writes what the services would: replay planned stories through the services
and compare every audit entry and every ticket field with the plan."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from servio.accounts.models import Team, User
from servio.audit.models import AuditEvent
from servio.demo.directory import ensure_directory
from servio.demo.generator import new_desk, plan_batch, sample_times
from servio.demo.stories import AUTO, KINDS
from servio.tickets import services
from servio.tickets.models import Ticket

pytestmark = pytest.mark.django_db

FIELDS = (
    "kind", "title", "description", "requester_id", "organization_id", "service_id",
    "category_id", "impact", "urgency", "priority", "priority_overridden", "status",
    "hold_reason", "resolution_code", "resolution_notes", "team_id", "assignee_id", "source",
    "is_major", "reassignment_count", "reopen_count", "version",
)  # fmt: skip


def _plans(seed: int):
    desk = new_desk(seed=seed)
    rng = random.Random(seed)
    now = timezone.now()
    times = sample_times(rng, now - timedelta(days=30), now - timedelta(minutes=10), 54)
    outage = now - timedelta(days=12)
    times += [outage] + [outage + timedelta(minutes=5 + 20 * k) for k in range(5)]
    times.sort()
    kinds = [KINDS.pick(rng) for _ in times]
    start = times.index(outage)
    for j in range(start, start + 6):
        kinds[j] = "incident"
    return plan_batch(desk, times, kinds=kinds, majors=[(start, 5, "closed")])


def _replay(plans) -> dict[int, Ticket]:
    """Call the services in the planned order; returns plan index -> the ticket they made."""
    made: dict[int, Ticket] = {}
    index = {id(p): i for i, p in enumerate(plans)}
    timeline = sorted(
        (event[0], i, j, plan, event)
        for i, plan in enumerate(plans)
        for j, event in enumerate(plan.events)
    )
    users = {u.pk: u for u in User.objects.all()}
    teams = {t.pk: t for t in Team.objects.all()}
    for _, i, _, plan, (_, actor, action, changes, fixup) in timeline:
        if fixup == AUTO:
            continue  # made by another service call (reply, major-incident cascade)
        who = users[actor.id] if actor is not None else None
        ticket = made.get(i)
        if ticket is not None:
            ticket.refresh_from_db()
        if action == "ticket.created":
            made[i] = services.ticket_create(
                actor=who,
                kind=plan.kind,
                title=changes["title"][1],
                description=changes.get("description", [None, ""])[1],
                requester=users[changes["requester"][1]],
                service=changes.get("service", [None, None])[1],
                category=changes.get("category", [None, None])[1],
                impact=changes["impact"][1],
                urgency=changes["urgency"][1],
                team=teams.get(changes.get("team", [None, None])[1]),
                assignee=users.get(changes.get("assignee", [None, None])[1]),
                source=plan.source,
                is_major=changes.get("is_major", [None, False])[1],
            )
        elif action == "ticket.assigned":
            team = changes["team"][1] if "team" in changes else ticket.team_id
            assignee = changes["assignee"][1] if "assignee" in changes else ticket.assignee_id
            services.ticket_assign(
                actor=who, ticket=ticket, team=teams.get(team), assignee=users.get(assignee)
            )
        elif action == "ticket.updated":
            wanted = {k: v[1] for k, v in changes.items() if k in ("impact", "urgency")}
            services.ticket_update(actor=who, ticket=ticket, version=None, changes=wanted)
        elif action == "ticket.commented":
            _, _, body, internal, source, *_ = plan.comments[fixup[1]]
            services.comment_add(
                actor=who, ticket=ticket, body=body, internal=internal, source=source
            )
        elif action == "ticket.parent_set":
            parent = made[index[id(fixup[1])]]
            services.ticket_set_parent(actor=who, ticket=ticket, parent=parent)
        else:
            values = {
                k: changes[k][1]
                for k in ("hold_reason", "resolution_code", "resolution_notes", "reason")
                if k in changes and changes[k][1]
            }
            services.ticket_transition(
                actor=who, ticket=ticket, transition=action.split(".", 1)[1], values=values
            )
    return made


def _normal(changes: dict, comment_index: dict, ticket_index: dict) -> dict:
    out = {}
    for key, (old, new) in changes.items():
        if key == "comment":
            new = comment_index[new]
        elif key == "parent":
            new = ticket_index[new]
        out[key] = [old, new]
    return out


@pytest.mark.parametrize("seed", [3])
def test_bulk_histories_match_the_services(seed):
    ensure_directory(password=None, requesters=25, seed=seed)
    plans = _plans(seed)
    assert any(p.is_major for p in plans) and any(p.parent is not None for p in plans)
    made = _replay(plans)
    assert len(made) == len(plans)
    ticket_index = {t.pk: i for i, t in made.items()}
    plan_index = {id(p): i for i, p in enumerate(plans)}
    for i, plan in enumerate(plans):
        ticket = made[i]
        ticket.refresh_from_db()
        got = {f: getattr(ticket, f) for f in FIELDS}
        want = {f: getattr(plan, f) for f in FIELDS}
        assert got == want, (i, plan.title)
        assert (ticket.parent_id is None) == (plan.parent is None)
        if plan.parent is not None:
            assert ticket_index[ticket.parent_id] == plan_index[id(plan.parent)]
        for milestone in ("first_response_at", "resolved_at", "closed_at"):
            assert (getattr(ticket, milestone) is None) == (getattr(plan, milestone) is None)
        comment_index = {c.pk: k for k, c in enumerate(ticket.comments.order_by("pk"))}
        history = AuditEvent.objects.filter(object_type="tickets.ticket", object_id=str(ticket.pk))
        got_events = [
            (e.action, e.actor_id, _normal(e.changes, comment_index, ticket_index))
            for e in history.order_by("pk")
        ]
        want_events = []
        for _, actor, action, changes, fixup in plan.events:
            changes = dict(changes)
            if fixup is not None and fixup[0] == "comment":
                changes["comment"] = [None, fixup[1]]
            elif fixup is not None and fixup[0] == "parent":
                changes["parent"] = [None, plan_index[id(fixup[1])]]
            want_events.append((action, actor.id if actor is not None else None, changes))
        assert got_events == want_events, (i, plan.title)
