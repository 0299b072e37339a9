"""Properties of planned stories over many seeds and moments, without a database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from servio.demo.generator import plan_batch, sample_times
from servio.demo.stories import (
    KINDS,
    TARGETS,
    Desk,
    Directory,
    Person,
    ServiceInfo,
    TeamInfo,
    transition_sources,
)

AUTOCLOSE = timedelta(days=5)


def directory() -> Directory:
    people = {}

    def person(pk, org, staff):
        people[pk] = Person(pk, f"p{pk}@x.example", f"Person {pk}", org, staff)
        return people[pk]

    desk = TeamInfo(1, "Desk", [person(i, 1, True) for i in range(1, 5)], {1, 2, 3}, None)
    desk.lead = desk.members[0]
    apps = TeamInfo(2, "Apps", [person(i, 1, True) for i in range(5, 8)], {2}, None)
    services = [
        ServiceInfo(1, "Email", "email", apps, [11, 12], 3),
        ServiceInfo(2, "VPN", "vpn", desk, [13], 2),
        ServiceInfo(3, "Laptops", "device", None, [], 1),
    ]
    requesters = {org: [person(100 * org + i, org, False) for i in range(6)] for org in (2, 3)}
    matrix = {(i, u): min(5, i + u - 1) for i in (1, 2, 3) for u in (1, 2, 3)}
    return Directory(1, requesters, {2: 0.6, 3: 0.4}, [desk, apps], desk, services, matrix, people)


@pytest.mark.parametrize("seed", range(8))
def test_every_story_is_a_valid_walk_inside_its_lifetime(seed):
    rng = random.Random(seed)
    now = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**7))
    desk = Desk(directory(), now=now, seed=seed)
    times = sample_times(rng, now - timedelta(days=120), now - timedelta(minutes=5), 1500)
    kinds = [KINDS.pick(rng) for _ in times]
    majors = [(i, rng.randint(2, 9), None) for i in range(0, 1500, 97) if kinds[i] == "incident"]
    plans = plan_batch(desk, times, kinds=kinds, majors=majors)
    assert len(plans) == len(times)
    seen = set()
    for p in plans:
        stamps = [e[0] for e in p.events]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), p.title
        assert p.created_at == stamps[0] and p.updated_at == stamps[-1] < now
        status, version = "new", 1
        for _, _, action, changes, _ in p.events[1:]:
            if action not in ("ticket.commented",):
                version += 1
            name = action.split(".", 1)[1]
            if name in TARGETS:
                assert status in transition_sources(p.kind, name), (p.title, status, name)
                assert changes["status"] == [status, TARGETS[name]]
                status = TARGETS[name]
        assert status == p.status and version == p.version
        if p.status == "resolved":
            assert now - p.resolved_at < AUTOCLOSE + timedelta(hours=1)
        if p.status == "closed" and p.events[-1][1] is None:
            assert p.closed_at - p.resolved_at >= AUTOCLOSE  # the auto-close job
        for c in p.comments:
            assert p.created_at <= c[0] <= p.updated_at
        seen.add((p.status, p.hold_reason))
    assert {s for s, _ in seen} == {
        "new",
        "in_progress",
        "on_hold",
        "resolved",
        "closed",
        "cancelled",
    }
