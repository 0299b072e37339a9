"""The periodic scan: each warning, breach and escalation is announced exactly once, on time.

Policy "Standard" (tests/sla/conftest.py): first response in 2 business hours, so from Monday
09:00 the 75% warning is due at 10:30, 90% at 10:48 and the breach at 11:00.
"""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from servio.core import outbox
from servio.sla.models import ClockState
from servio.sla.scan import sla_scan
from servio.tickets import services as tickets
from servio.tickets.models import Ticket
from tests.sla.conftest import HOUR, at, clock, local, scan, travel

pytestmark = pytest.mark.django_db
MONDAY = (2026, 11, 23)


def monday(hour: int, minute: int = 0):
    return at(*MONDAY, hour, minute)


def test_each_threshold_and_the_breach_are_announced_once(desk, standard, events):
    ticket = desk.create(monday(9))
    first = clock(ticket, "first_response")
    assert local(first.next_threshold_at) == monday(10, 30)
    assert scan(monday(10, 29)).clocks_read == 0
    assert scan(monday(10, 31)).announced == 1
    assert scan(monday(10, 40)).announced == 0
    assert scan(monday(10, 49)).announced == 1
    first.refresh_from_db()
    assert not first.breached and first.state == ClockState.RUNNING
    assert scan(monday(11, 1)).announced == 1
    first.refresh_from_db()
    assert first.breached and first.state == ClockState.BREACHED
    assert first.fired == [75, 90, 100] and first.next_threshold_at is None
    for later in (monday(11, 2), monday(16)):
        assert scan(later).clocks_read == 0
    warnings = events.of("sla.warning", clock_id=first.pk)
    assert [w["percent"] for w in warnings] == [75, 90]
    breach = events.of("sla.breached", clock_id=first.pk)
    assert len(breach) == 1
    assert breach[0]["reference"] == ticket.reference
    assert breach[0]["metric"] == "first_response" and breach[0]["policy"] == "Standard"
    assert breach[0]["due_at"] == monday(11).astimezone(dt.UTC).isoformat()
    assert events.count() == 3  # the resolution clock (40h) is nowhere near a threshold


def test_a_late_scan_announces_every_level_it_missed_once(desk, standard, events):
    ticket = desk.create(monday(9))
    assert scan(monday(12)).announced == 3
    assert scan(monday(12, 1)).announced == 0
    assert [e["percent"] for e in events.of("sla.warning")] == [75, 90]
    assert len(events.of("sla.breached", ticket_id=ticket.pk)) == 1


def test_a_breached_clock_later_met_stays_breached(desk, standard, events):
    ticket = desk.create(monday(9))
    scan(monday(11, 5))
    desk.reply(monday(11, 30), ticket)
    first = clock(ticket, "first_response")
    assert first.state == ClockState.BREACHED and first.breached
    assert local(first.stopped_at) == monday(11, 30)
    # A breach the scan had not seen yet is still a breach when the goal is reached.
    other = desk.create(monday(9))
    desk.reply(monday(11, 10), other)
    assert clock(other, "first_response").breached


def test_a_breached_clock_stays_breached_when_the_target_grows(desk, standard):
    ticket = desk.create(monday(9), priority=1)  # resolution 4h: breached at 13:00
    desk.reply(monday(9, 5), ticket)
    scan(monday(13, 30))
    ticket = desk.set_priority(monday(14), ticket, 5)  # 40h: 5h used is now 12.5%
    res = clock(ticket, "resolution")
    assert res.breached and res.state == ClockState.BREACHED
    desk.resolve(monday(15), ticket)
    res = clock(ticket, "resolution")
    assert res.state == ClockState.BREACHED and res.breached


def test_a_pause_makes_a_due_threshold_not_due(desk, standard, events):
    ticket = desk.create(monday(9))  # P5, 40h: 75% after 30h, Thursday 15:00
    desk.reply(monday(9, 30), ticket)
    res = clock(ticket, "resolution")
    assert local(res.next_threshold_at) == at(2026, 11, 26, 15, 0)
    ticket = desk.hold(at(2026, 11, 26, 14, 0), ticket)
    assert scan(at(2026, 11, 26, 16, 0)).clocks_read == 0
    desk.resume(at(2026, 11, 27, 9, 0), ticket)  # 1h of the 30h is left
    assert local(clock(ticket, "resolution").next_threshold_at) == at(2026, 11, 27, 10, 0)
    assert scan(at(2026, 11, 27, 9, 59)).announced == 0
    assert scan(at(2026, 11, 27, 10, 1)).announced == 1
    assert events.of("sla.warning", metric="resolution")[0]["percent"] == 75


def test_a_retarget_makes_a_due_threshold_not_due(desk, standard, events):
    ticket = desk.create(monday(9), priority=2)  # 8h: 75% at 15:00
    desk.reply(monday(9, 5), ticket)
    desk.set_priority(monday(14), ticket, 5)  # 40h: 75% after 30h
    assert scan(monday(15, 30)).announced == 0
    assert local(clock(ticket, "resolution").next_threshold_at) == at(2026, 11, 26, 15, 0)
    assert events.count() == 0


def test_thresholds_crossed_by_a_retarget_are_announced_by_the_next_scan(desk, standard, events):
    ticket = desk.create(monday(9))  # P5
    desk.reply(monday(9, 5), ticket)
    desk.set_priority(monday(12, 40), ticket, 1)  # 4h: 3h40 used, past 75% and 90%
    assert scan(monday(12, 41)).announced == 2
    assert [e["percent"] for e in events.of("sla.warning", metric="resolution")] == [75, 90]
    assert scan(monday(12, 59)).announced == 0
    assert scan(monday(13, 1)).announced == 1
    assert len(events.of("sla.breached", metric="resolution")) == 1


ESCALATIONS = [
    {"at": 75, "action": "notify_assignee"},
    {"at": 90, "action": "notify_team_lead"},
    {"at": 100, "action": "notify_team"},
    {"at": 100, "action": "raise_priority"},
]


def test_escalations_notify_then_raise_priority_then_reassign(desk, make_policy, personas, events):
    personas.team_network.serves.add(personas.acme)  # may take Acme's tickets (decision 16)
    policy = make_policy(
        "Escalating",
        escalations=[
            *ESCALATIONS,
            {"at": 150, "action": "reassign", "team": personas.team_network.pk},
        ],
    )
    ticket = desk.create(
        monday(9), team=personas.team_desk, assignee=personas.agent_desk, priority=4
    )
    scan(monday(10, 31))
    (assignee,) = events.of("sla.escalation", action="notify_assignee")
    assert assignee["recipient_ids"] == [personas.agent_desk.pk]
    assert assignee["reference"] == ticket.reference and assignee["percent"] == 75
    scan(monday(10, 50))
    (lead,) = events.of("sla.escalation", action="notify_team_lead")
    assert lead["recipient_ids"] == [personas.lead_desk.pk]

    with travel(monday(11, 1)):
        sla_scan()
        (team,) = events.of("sla.escalation", action="notify_team")
        assert team["recipient_ids"] == sorted([personas.agent_desk.pk, personas.lead_desk.pk])
        assert len(events.of("sla.escalation", action="raise_priority")) == 1
        outbox.drain()
    ticket.refresh_from_db()
    assert ticket.priority == 3
    res = clock(ticket, "resolution")
    assert res.priority == 3 and res.target_seconds == 16 * HOUR  # the clocks retargeted
    assert clock(ticket, "first_response").priority == 3

    with travel(monday(12, 1)):  # 150% of the first response target
        sla_scan()
        outbox.drain()
        sla_scan()
        outbox.drain()
    ticket.refresh_from_db()
    assert ticket.team == personas.team_network and ticket.assignee is None
    assert ticket.priority == 3  # raised once, not once per scan
    assert len(events.of("sla.escalation", action="reassign")) == 1
    assert policy.pk


def test_an_escalation_hands_no_ticket_or_news_to_a_team_that_does_not_serve_it(
    desk, make_policy, personas, events
):
    """A policy may cover organisations its escalation team does not serve (Network serves
    Globex only): the Acme ticket stays where it is, and Network's people are not told of it."""
    make_policy(
        "Escalating",
        escalations=[
            {"at": 100, "action": "notify_group", "team": personas.team_network.pk},
            {"at": 150, "action": "reassign", "team": personas.team_network.pk},
        ],
    )
    ticket = desk.create(monday(9), team=personas.team_desk, priority=4)
    with travel(monday(12, 1)):
        sla_scan()
        outbox.drain()
    ticket.refresh_from_db()
    assert ticket.team == personas.team_desk
    assert len(events.of("sla.escalation", action="reassign")) == 1
    (group,) = events.of("sla.escalation", action="notify_group")
    assert group["recipient_ids"] == []  # Nick and Chris serve Globex, not Acme


def test_raise_priority_escalation_makes_the_next_scan_announce_crossed_levels(
    desk, make_policy, personas, events
):
    make_policy(
        "Raise at 50",
        first_response=None,
        resolution={1: 4, 2: 6},
        escalations=[{"at": 50, "action": "raise_priority"}],
        warning_thresholds=[75],
    )
    ticket = desk.create(monday(9), priority=2)  # 6h: 50% at 12:00
    with travel(monday(12, 30)):
        assert sla_scan().announced == 1  # the escalation
        outbox.drain()  # P1: 4h, 3.5h used: past 75%
        assert sla_scan().announced == 1
    assert [e["percent"] for e in events.of("sla.warning")] == [75]
    ticket.refresh_from_db()
    assert ticket.priority == 1


def test_the_scan_reads_only_due_clocks(desk, standard, events):
    for _ in range(3):
        desk.create(monday(9))  # first response 75% due at 10:30

    def measure():
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries, travel(monday(10, 45)):
                result = sla_scan()
            transaction.set_rollback(True)  # the same clocks are due again next time
        return result, len(queries)

    desk.create(monday(10, 20))  # due at 11:50
    few_result, few_queries = measure()
    for _ in range(12):
        desk.create(monday(10, 20))
    many_result, many_queries = measure()
    assert few_result.clocks_read == many_result.clocks_read == 3
    assert few_result.announced == many_result.announced == 3
    assert many_queries == few_queries


def test_scan_batches_cover_every_due_clock(desk, standard, events):
    for _ in range(5):
        desk.create(monday(9))
    result = scan(monday(10, 31), batch=2)
    assert result.clocks_read == 5 and result.announced == 5
    assert events.count("sla.warning") == 5


# --- concurrency (PostgreSQL: row locks with SKIP LOCKED) -------------------------------------


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent scans need row locks (PostgreSQL); SQLite serialises writers")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_announce_each_level_once(personas, standard, events):
    _postgres_only()
    from tests.sla.conftest import Desk

    desk = Desk(personas)
    made = [desk.create(monday(9)) for _ in range(12)]
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            with travel(monday(11, 30)):
                results.append(sla_scan(batch=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert sum(r.announced for r in results) == 12 * 3
    for ticket in made:
        first = clock(ticket, "first_response")
        percents = sorted(
            e["percent"]
            for topic in ("sla.warning", "sla.breached")
            for e in events.of(topic, clock_id=first.pk)
        )
        assert percents == [75, 90, 100]
    assert scan(monday(11, 31)).announced == 0


@pytest.mark.django_db(transaction=True)
def test_a_scan_skips_a_clock_whose_ticket_is_being_paused(personas, standard, events):
    _postgres_only()
    from tests.sla.conftest import Desk

    desk = Desk(personas)
    ticket = desk.create(monday(9))
    desk.reply(monday(9, 10), ticket)
    held, release = threading.Event(), threading.Event()

    def pause_slowly():
        try:
            with travel(at(2026, 11, 26, 14, 0)), transaction.atomic():
                tickets.ticket_transition(
                    actor=personas.admin,
                    ticket=Ticket.objects.get(pk=ticket.pk),
                    transition="hold",
                    values={"hold_reason": "awaiting_requester"},
                )
                held.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=pause_slowly)
    writer.start()
    assert held.wait(10)
    # The 75% level (Thursday 15:00) has come, but the write that pauses the clock holds it.
    assert scan(at(2026, 11, 26, 16, 0)).announced == 0
    release.set()
    writer.join()
    assert scan(at(2026, 11, 26, 16, 0)).announced == 0  # paused: not due any more
    assert clock(ticket, "resolution").state == ClockState.PAUSED
    assert clock(ticket, "resolution").fired == []
    assert events.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_ticket_write_waits_for_a_running_scan_and_keeps_what_it_announced(
    personas, standard, events, monkeypatch
):
    _postgres_only()
    from servio.sla import scan as scan_module
    from tests.sla.conftest import Desk

    desk = Desk(personas)
    ticket = desk.create(monday(9))
    desk.reply(monday(9, 10), ticket)
    announced, release = threading.Event(), threading.Event()
    publish = scan_module._publish_all

    def publish_then_wait(batch):
        publish(batch)
        announced.set()
        release.wait(10)  # the scan's transaction stays open, its clocks locked

    monkeypatch.setattr(scan_module, "_publish_all", publish_then_wait)

    def in_thread(func):
        def run():
            try:
                func()
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    thursday = at(2026, 11, 26, 15, 30)  # the resolution clock's 75% came at 15:00
    scanner = in_thread(lambda: scan(thursday))
    assert announced.wait(10)
    writer = in_thread(lambda: desk.hold(thursday, Ticket.objects.get(pk=ticket.pk)))
    writer.join(0.5)
    assert writer.is_alive()  # the pause waits for the scan's lock
    release.set()
    scanner.join()
    writer.join()
    monkeypatch.setattr(scan_module, "_publish_all", publish)

    res = clock(ticket, "resolution")
    assert res.state == ClockState.PAUSED and res.fired == [75]  # the write kept the 75%
    desk.resume(at(2026, 11, 27, 9, 0), Ticket.objects.get(pk=ticket.pk))
    scan(at(2026, 11, 27, 9, 1))
    assert [e["percent"] for e in events.of("sla.warning", metric="resolution")] == [75]
