"""SLA clocks on real tickets: start, pause, stop, retarget, reopen, scan."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from servio.core.models import OutboxMessage
from servio.sla.models import Calendar, ClockState, SlaClock, SlaPolicy, SlaTarget
from servio.sla.services import sla_scan
from servio.tickets import services as tickets

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def policy(db):
    calendar = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", hours=WEEKDAYS, holiday_country="DE"
    )
    policy = SlaPolicy.objects.create(
        name="Standard", pause_on=["on_hold:awaiting_requester"], warning_thresholds=[75]
    )
    for priority in range(1, 6):
        SlaTarget.objects.create(
            policy=policy,
            metric="first_response",
            priority=priority,
            minutes=120,
            calendar=calendar,
        )
        SlaTarget.objects.create(
            policy=policy,
            metric="resolution",
            priority=priority,
            minutes=60 * 8 * priority,
            calendar=calendar,
        )
    return policy


def at(*args):
    return dt.datetime(*args, tzinfo=BERLIN)


def travel(when):
    return time_machine.travel(when, tick=False)


def create(personas, when, **kw):
    with travel(when):
        return tickets.ticket_create(actor=personas.requester_acme, title="Mail down", **kw)


def clock(ticket, metric):
    return SlaClock.objects.filter(ticket=ticket, metric=metric).order_by("-pk").first()


def test_friday_evening_ticket_is_due_on_monday(personas, policy):
    ticket = create(personas, at(2026, 11, 27, 16, 0))  # Friday 16:00
    first = clock(ticket, "first_response")
    assert first.state == ClockState.RUNNING
    assert first.due_at.astimezone(BERLIN) == at(2026, 11, 30, 10, 0)  # Monday 10:00
    resolution = clock(ticket, "resolution")  # P5: 40 business hours
    assert resolution.due_at.astimezone(BERLIN) == at(2026, 12, 4, 16, 0)


def test_pause_while_awaiting_requester_and_resume(personas, policy):
    ticket = create(personas, at(2026, 11, 23, 9, 0))  # Monday 09:00
    with travel(at(2026, 11, 23, 10, 0)):
        tickets.ticket_transition(
            actor=personas.agent_desk,
            ticket=ticket,
            transition="hold",
            values={"hold_reason": "awaiting_requester"},
        )
    res = clock(ticket, "resolution")
    assert res.state == ClockState.PAUSED and res.due_at is None
    assert res.elapsed_seconds == 3600
    with travel(at(2026, 11, 25, 9, 0)):
        tickets.ticket_transition(actor=personas.agent_desk, ticket=ticket, transition="resume")
    res = clock(ticket, "resolution")
    assert res.state == ClockState.RUNNING
    # 40h target, 1h used: 39 business hours from Wednesday 09:00 -> next Tuesday 16:00.
    assert res.due_at.astimezone(BERLIN) == at(2026, 12, 1, 16, 0)
    assert len(res.pauses) == 1


def test_first_reply_meets_first_response_and_resolution_stops(personas, policy):
    ticket = create(personas, at(2026, 11, 23, 9, 0))
    with travel(at(2026, 11, 23, 9, 30)):
        tickets.comment_add(actor=personas.agent_desk, ticket=ticket, body="Looking")
    assert clock(ticket, "first_response").state == ClockState.MET
    with travel(at(2026, 11, 23, 11, 0)):
        tickets.ticket_transition(
            actor=personas.agent_desk,
            ticket=ticket,
            transition="resolve",
            values={"resolution_code": "fixed", "resolution_notes": "ok"},
        )
    res = clock(ticket, "resolution")
    assert res.state == ClockState.MET and res.elapsed_seconds == 2 * 3600


def test_scan_announces_warning_and_breach_once(personas, policy):
    ticket = create(personas, at(2026, 11, 23, 9, 0))
    first = clock(ticket, "first_response")
    assert first.next_threshold_at.astimezone(BERLIN) == at(2026, 11, 23, 10, 30)  # 75%
    assert sla_scan(now=at(2026, 11, 23, 10, 45)) == 1
    assert sla_scan(now=at(2026, 11, 23, 10, 50)) == 0
    assert sla_scan(now=at(2026, 11, 23, 11, 5)) == 1
    first.refresh_from_db()
    assert first.breached and first.state == ClockState.BREACHED
    assert OutboxMessage.objects.filter(topic="sla.breached").count() <= 1
    assert sla_scan(now=at(2026, 11, 23, 12, 0)) == 0
