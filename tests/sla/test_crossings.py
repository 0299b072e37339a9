"""Crossings of SLA levels: dated when the clock passed them, announced exactly once, and the
same verdict whichever of the scan and the ticket write comes first (docs/sla.md, decision 26).

Calendar: Berlin office, Monday to Friday 09:00-17:00. Policy "Standard": first response in 2
business hours; resolution P1 4h, P2 8h, P3 16h, P4 24h, P5 40h; paused while on hold awaiting
the requester; warnings at 75% and 90%.
"""

from __future__ import annotations

import datetime as dt

import pytest

from servio.core import outbox
from servio.sla import clocks, selectors
from servio.sla.models import ClockState
from tests.sla.conftest import HOUR, at, clock, local, scan, travel

pytestmark = pytest.mark.django_db
US = dt.timedelta(microseconds=1)


def monday(hour: int, minute: int = 0, second: int = 0):
    return at(2026, 11, 23, hour, minute, second)


def tuesday(hour: int, minute: int = 0):
    return at(2026, 11, 24, hour, minute)


def wednesday(hour: int, minute: int = 0):
    return at(2026, 11, 25, hour, minute)


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat()


# --- (a) a new target is dated when the clock passed it, replaying the pauses ---------------------


@pytest.fixture
def paused_twice(desk, standard):
    """P5 from Monday 09:00, on hold 10:00-11:00 and again from 15:00: 5h used, and the 4h mark
    was passed on Monday at 14:00."""
    ticket = desk.create(monday(9))
    desk.reply(monday(9, 5), ticket)
    ticket = desk.hold(monday(10), ticket)
    ticket = desk.resume(monday(11), ticket)
    return desk.hold(monday(15), ticket)


def test_priority_raised_during_a_pause_is_dated_when_the_clock_passed_the_new_target(
    desk, paused_twice, events
):
    ticket = desk.set_priority(tuesday(10), paused_twice, 1)  # P1: 4h, while on hold
    res = clock(ticket, "resolution")
    assert res.state == ClockState.PAUSED and res.target_seconds == 4 * HOUR
    assert local(res.due_at) == monday(14)  # not Tuesday 10:00, when the priority changed
    ticket = desk.resume(wednesday(9), ticket)
    assert local(clock(ticket, "resolution").due_at) == monday(14)
    scan(wednesday(9, 1))
    (breach,) = events.of("sla.breached", clock_id=res.pk)
    assert breach["due_at"] == iso(monday(14))


def test_priority_raised_after_a_pause_is_dated_when_the_clock_passed_the_new_target(
    desk, paused_twice, events
):
    ticket = desk.resume(tuesday(9), paused_twice)
    ticket = desk.set_priority(tuesday(10), ticket, 1)  # 6h used of the new 4h
    res = clock(ticket, "resolution")
    assert res.state == ClockState.RUNNING and res.elapsed_seconds == 6 * HOUR
    assert local(res.due_at) == monday(14)  # not Tuesday 09:00, when the clock resumed
    scan(tuesday(10, 1))
    assert [e["percent"] for e in events.of("sla.warning", clock_id=res.pk)] == [75, 90]
    (breach,) = events.of("sla.breached", clock_id=res.pk)
    assert breach["due_at"] == iso(monday(14))


def test_priority_raised_after_a_reopen_skips_the_time_it_was_resolved(desk, standard):
    ticket = desk.create(monday(9))  # P5
    desk.reply(monday(9, 5), ticket)
    ticket = desk.hold(monday(10), ticket)
    ticket = desk.resume(monday(11), ticket)
    ticket = desk.resolve(monday(15), ticket)  # 5h used; 4h at 14:00
    ticket = desk.reopen(tuesday(9), ticket)
    ticket = desk.set_priority(tuesday(11), ticket, 1)  # 7h used of the new 4h
    res = clock(ticket, "resolution")
    assert res.elapsed_seconds == 7 * HOUR
    assert local(res.due_at) == monday(14)


@pytest.fixture
def p1_paused_late(desk, standard):
    """P1 (4h) from Monday 09:00, on hold from Tuesday 12:00 with 11h used."""
    ticket = desk.create(monday(9), priority=1)
    desk.reply(monday(9, 5), ticket)
    return desk.hold(tuesday(12), ticket)


def test_priority_lowered_during_a_pause_is_dated_when_the_clock_passed_the_new_target(
    desk, p1_paused_late
):
    ticket = desk.set_priority(tuesday(14), p1_paused_late, 2)  # P2: 8h, still exceeded
    res = clock(ticket, "resolution")
    assert res.state == ClockState.PAUSED and res.breached
    assert local(res.due_at) == monday(17)  # the end of Monday's hours, not P1's 13:00
    ticket = desk.resume(wednesday(9), ticket)
    res = clock(ticket, "resolution")
    assert res.state == ClockState.BREACHED and local(res.due_at) == monday(17)


def test_priority_lowered_after_a_pause_is_dated_when_the_clock_passed_the_new_target(
    desk, p1_paused_late
):
    ticket = desk.resume(wednesday(9), p1_paused_late)
    ticket = desk.set_priority(wednesday(10), ticket, 2)  # 12h used of the new 8h
    assert local(clock(ticket, "resolution").due_at) == monday(17)
    ticket = desk.set_priority(wednesday(11), ticket, 3)  # 13h used of 16h: 3h to go
    res = clock(ticket, "resolution")
    assert local(res.due_at) == wednesday(14) and res.breached  # breached at P1 stays so


# --- (b) a crossing just before a hold or a resolution is still announced, once -------------------

ESCALATIONS = [
    {"at": 100, "action": "notify_team"},
    {"at": 100, "action": "raise_priority"},
    {"at": 150, "action": "notify_team_lead"},
]


@pytest.fixture
def escalating(make_policy):
    return make_policy("Escalating", escalations=ESCALATIONS)


@pytest.fixture
def p1_ticket(desk, escalating, personas, events):
    """P1 from Monday 09:00: resolution due at 13:00; the scan announced 75% and 90% at 12:40."""
    ticket = desk.create(
        monday(9), team=personas.team_desk, assignee=personas.agent_desk, priority=1
    )
    desk.reply(monday(9, 5), ticket)
    scan(monday(12, 40))
    return ticket


def assert_breach_announced_once(events, ticket):
    res = clock(ticket, "resolution")
    assert res.state == ClockState.BREACHED and res.breached
    (breach,) = events.of("sla.breached", clock_id=res.pk)
    assert breach["percent"] == 100 and breach["due_at"] == iso(monday(13))
    actions = [(e["percent"], e["action"]) for e in events.of("sla.escalation", clock_id=res.pk)]
    assert actions == [(100, "notify_team"), (100, "raise_priority")]  # not 150%: never reached
    assert [e["percent"] for e in events.of("sla.warning", clock_id=res.pk)] == [75, 90]


def test_a_breach_just_before_a_hold_is_announced_once_when_resolved_on_hold(
    desk, p1_ticket, events
):
    ticket = desk.hold(monday(13, 1), p1_ticket)  # one minute past the target, before a scan
    scan(monday(13, 2))
    ticket = desk.resolve(monday(15), ticket)
    for later in (monday(15, 1), tuesday(9), tuesday(16)):
        scan(later)
    with travel(tuesday(16)):
        outbox.drain()  # raise_priority: the ticket is resolved, so nothing changes
    assert_breach_announced_once(events, ticket)
    ticket.refresh_from_db()
    assert ticket.priority == 1 and ticket.status == "resolved"


def test_a_breach_discovered_only_at_the_resolution_is_announced_once(desk, p1_ticket, events):
    ticket = desk.resolve(monday(13, 0, 30), p1_ticket)  # 30 s past the target, before a scan
    for later in (monday(13, 1), tuesday(9)):
        scan(later)
    assert_breach_announced_once(events, ticket)


def test_a_warning_just_before_a_hold_is_announced_once(desk, standard, events):
    ticket = desk.create(monday(9), priority=1)  # 75% of 4h at 12:00
    desk.reply(monday(9, 5), ticket)
    ticket = desk.hold(monday(12, 0, 30), ticket)
    ticket = desk.resolve(monday(14), ticket)
    scan(monday(14, 1))
    res = clock(ticket, "resolution")
    (warning,) = events.of("sla.warning", clock_id=res.pk)
    assert warning["percent"] == 75
    assert warning["due_at"] == iso(monday(13))  # the due time it had then (paused: unknown)
    assert res.state == ClockState.MET and events.count("sla.breached") == 0


def test_a_breach_before_a_lowered_priority_is_announced_and_kept(desk, p1_ticket, events):
    ticket = desk.set_priority(monday(13, 0, 30), p1_ticket, 5)  # 40h: before a scan saw it
    scan(monday(13, 1))
    res = clock(ticket, "resolution")
    assert res.breached and res.state == ClockState.BREACHED
    (breach,) = events.of("sla.breached", clock_id=res.pk)
    assert breach["due_at"] == iso(monday(13))  # P1's due time, the target it passed


def test_a_breach_just_before_a_cancellation_is_announced_once(desk, p1_ticket, events):
    ticket = desk.cancel(monday(13, 0, 30), p1_ticket)
    scan(monday(13, 1))
    res = clock(ticket, "resolution")
    assert res.state == ClockState.CANCELLED and res.breached
    assert len(events.of("sla.breached", clock_id=res.pk)) == 1


# --- (c) at the due instant itself: met, whichever comes first ----------------------------------


@pytest.mark.parametrize("scan_first", [True, False], ids=["scan-first", "resolve-first"])
@pytest.mark.parametrize(
    ("late", "verdict"),
    [(0, ClockState.MET), (1, ClockState.BREACHED)],
    ids=["at-the-due-instant", "a-microsecond-later"],
)
def test_a_resolution_and_a_scan_at_one_instant_agree_whichever_runs_first(
    desk, standard, events, scan_first, late, verdict
):
    """At the due instant the clock has used exactly its target: met. A microsecond later it
    has used more: breached, and the breach is announced once."""
    ticket = desk.create(monday(9), priority=1)
    desk.reply(monday(9, 5), ticket)
    assert local(clock(ticket, "resolution").due_at) == monday(13)
    when = monday(13) + late * US
    if scan_first:
        scan(when)
    ticket = desk.resolve(when, ticket)
    scan(when)
    scan(tuesday(9))
    res = clock(ticket, "resolution")
    assert res.state == verdict and res.breached == (verdict == ClockState.BREACHED)
    assert clocks.to_us(res.elapsed_seconds) == res.target_seconds * clocks.US + late
    assert len(events.of("sla.breached", clock_id=res.pk)) == (1 if res.breached else 0)
    assert [e["percent"] for e in events.of("sla.warning", clock_id=res.pk)] == [75, 90]


@pytest.mark.parametrize("scan_first", [True, False], ids=["scan-first", "resolve-first"])
def test_a_due_time_at_the_end_of_a_shift_is_met_until_work_starts_again(
    desk, standard, events, scan_first
):
    """Due on Friday at 17:00: over the weekend the clock has used exactly its target."""
    friday, saturday = at(2026, 11, 27, 9, 0), at(2026, 11, 28, 10, 0)
    resolved = desk.create(friday, priority=2)  # 8h: due Friday 17:00
    waiting = desk.create(friday, priority=2)
    assert local(clock(resolved, "resolution").due_at) == at(2026, 11, 27, 17, 0)
    if scan_first:
        scan(saturday)
    desk.resolve(saturday, resolved)
    scan(saturday)
    res = clock(resolved, "resolution")
    assert res.state == ClockState.MET and not res.breached
    assert events.of("sla.breached", metric="resolution") == []
    scan(at(2026, 11, 30, 9, 0))  # Monday 09:00: still exactly the target
    assert events.of("sla.breached", metric="resolution") == []
    scan(at(2026, 11, 30, 9, 1))
    (breach,) = events.of("sla.breached", metric="resolution")
    assert breach["ticket_id"] == waiting.pk


# --- what the API shows, rounded as documented ----------------------------------------------------


def test_the_api_view_rounds_percentages_down_and_keeps_seconds_exact(desk, standard):
    ticket = desk.create(monday(9), priority=1)
    res = clock(ticket, "resolution")
    before = selectors.clock_view(res, monday(13) - US)
    assert before["percent_used"] == 99.9 and before["remaining_seconds"] == 0.000001
    assert before["elapsed_seconds"] == 4 * HOUR - 0.000001
    due = selectors.clock_view(res, monday(13))
    assert due["percent_used"] == 100.0 and due["remaining_seconds"] == 0
    after = selectors.clock_view(res, monday(13) + US)
    assert after["percent_used"] == 100.0 and after["remaining_seconds"] == -0.000001
    assert selectors.clock_view(res, monday(10))["percent_used"] == 25.0


# --- (d) every crossing is announced exactly once, whatever happens in between -------------------

PROPERTY_ESCALATIONS = [
    {"at": 100, "action": "notify_team"},
    {"at": 150, "action": "notify_assignee"},
]
# What each level announces: (topic, action) per level of the policy below.
ANNOUNCES = {
    75: [("sla.warning", None)],
    90: [("sla.warning", None)],
    100: [("sla.breached", None), ("sla.escalation", "notify_team")],
    150: [("sla.escalation", "notify_assignee")],
}
FIRST_RESPONSE = 2 * HOUR
RESOLUTION = {p: hours * HOUR for p, hours in {1: 4, 2: 8, 3: 16, 4: 24, 5: 40}.items()}
STEPS = [0, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480, 960, 1440, 2880]
# Weighted: a cancellation ends the story, scans and holds are what the faults were about.
ACTIONS = [*["hold", "resume", "priority", "scan"] * 3, "hold_other", "resolve", "reopen", "cancel"]
PRIORITIES = [1, 1, 2, 2, 3, 4, 5]
OPEN = ("new", "in_progress", "on_hold")


def _act(desk, ticket, action: str, when: dt.datetime, priority: int):
    """Take the action if the ticket's status allows it; returns the ticket, or None if skipped."""
    status = ticket.status
    if action == "scan":
        scan(when)
        return ticket
    if action == "hold" and status in ("new", "in_progress"):
        return desk.hold(when, ticket)
    if action == "hold_other" and status in ("new", "in_progress"):
        return desk.hold(when, ticket, reason="awaiting_change")
    if action == "resume" and status == "on_hold":
        return desk.resume(when, ticket)
    if action == "priority" and status in OPEN and priority != ticket.priority:
        return desk.set_priority(when, ticket, priority)
    if action == "resolve" and status in OPEN:
        return desk.resolve(when, ticket)
    if action == "reopen" and status == "resolved":
        return desk.reopen(when, ticket)
    if action == "cancel" and status in OPEN:
        return desk.cancel(when, ticket)
    return None


class Oracle:
    """What a clock must have announced, worked out from the ticket's history alone.

    `history` lists (instant, status, hold reason, priority) after each change. A clock counts
    while the ticket is open and not on hold awaiting the requester (the first response clock
    only until the first resolution or cancellation). A level is crossed when, at some instant,
    the business time used is more than the level of the target in force then.
    """

    def __init__(self, calendar, history, end: dt.datetime) -> None:
        self.calendar, self.history, self.end = calendar, history, end

    def _segments(self, metric: str):
        """(from, to, counting, target) pieces of the clock's life up to `end`."""
        pieces, over = [], False
        for i, (start, status, reason, priority) in enumerate(self.history):
            stop = self.history[i + 1][0] if i + 1 < len(self.history) else self.end
            if metric == "first_response" and status in ("resolved", "cancelled"):
                over = True
            counting = (
                not over
                and status in OPEN
                and not (status == "on_hold" and reason == "awaiting_requester")
            )
            target = FIRST_RESPONSE if metric == "first_response" else RESOLUTION[priority]
            pieces.append((start, stop, counting, target))
            if status == "cancelled":
                break
        return pieces

    def _between(self, start, stop) -> int:
        from servio.sla.calendar import business_seconds_between

        return business_seconds_between(calendar=self.calendar, start=start, end=stop)

    def crossed(self, metric: str) -> set[int]:
        used, found = 0, set()
        for start, stop, counting, target in self._segments(metric):
            if counting:
                used += self._between(start, stop)
            found |= {level for level in ANNOUNCES if used * 100 > level * target}
        return found

    def used_and_target(self, metric: str) -> tuple[int, int]:
        pieces = self._segments(metric)
        used = sum(self._between(a, b) for a, b, counting, _ in pieces if counting)
        return used, pieces[-1][3]

    def reached_at(self, metric: str, seconds: int) -> dt.datetime | None:
        """The earliest instant by which the clock had used `seconds`."""
        from servio.sla.calendar import add_business_seconds

        used = 0
        for start, stop, counting, _ in self._segments(metric):
            if not counting:
                continue
            piece = self._between(start, stop)
            if used + piece >= seconds:
                return add_business_seconds(
                    calendar=self.calendar, start=start, seconds=seconds - used
                )
            used += piece
        return None


def _announced(events, clock_id: int) -> dict[tuple[int, str, str | None], int]:
    counts: dict[tuple[int, str, str | None], int] = {}
    for topic in ("sla.warning", "sla.breached", "sla.escalation"):
        for event in events.of(topic, clock_id=clock_id):
            key = (event["percent"], topic, event.get("action"))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _expected(crossed: set[int]) -> dict[tuple[int, str, str | None], int]:
    return {(level, topic, action): 1 for level in crossed for topic, action in ANNOUNCES[level]}


def test_every_crossing_is_announced_exactly_once(desk, make_policy, personas, events):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from servio.sla.models import SlaClock

    make_policy("Property", escalations=PROPERTY_ESCALATIONS)
    steps = st.tuples(st.sampled_from(STEPS), st.sampled_from(ACTIONS), st.sampled_from(PRIORITIES))

    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        first=st.sampled_from(PRIORITIES),
        start=st.sampled_from([monday(9), monday(16, 30), at(2026, 11, 27, 15, 0)]),
        script=st.lists(steps, min_size=1, max_size=10),
        last=st.sampled_from(STEPS),
    )
    def run(first, start, script, last):
        ticket = desk.create(
            start, team=personas.team_desk, assignee=personas.agent_desk, priority=first
        )
        history = [(start, ticket.status, ticket.hold_reason, ticket.priority)]
        when = start
        try:
            for minutes, action, priority in script:
                when += dt.timedelta(minutes=minutes)
                changed = _act(desk, ticket, action, when, priority)
                if changed is not None and action != "scan":
                    ticket = changed
                    history.append((when, ticket.status, ticket.hold_reason, ticket.priority))
            when += dt.timedelta(minutes=last)
            scan(when)  # the last scan: whatever has been crossed by now is announced
            calendar = clock(ticket, "resolution").calendar.engine()
            oracle = Oracle(calendar, history, when)
            for metric in ("first_response", "resolution"):
                row = clock(ticket, metric)
                crossed = oracle.crossed(metric)
                assert _announced(events, row.pk) == _expected(crossed), (metric, history)
                assert row.breached == (100 in crossed), (metric, history)
                if row.stopped_at is not None and row.state != ClockState.CANCELLED:
                    assert row.state == (ClockState.BREACHED if row.breached else ClockState.MET)
                used, target = oracle.used_and_target(metric)
                assert row.target_seconds == target
                if row.state != ClockState.CANCELLED and used >= target:
                    assert row.due_at == oracle.reached_at(metric, target), (metric, history)
        finally:  # later examples scan at earlier instants: leave nothing for them to find
            SlaClock.objects.filter(ticket=ticket).update(next_threshold_at=None)

    run()
