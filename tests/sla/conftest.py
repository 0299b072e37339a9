"""SLA test kit: a Berlin office calendar, policies, a desk that acts at given instants, events.

Every ticket is created and changed through `servio.tickets.services`, at a frozen instant, so the
clocks are exactly what production would compute. Times are written in Berlin local time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from servio.core import outbox
from servio.core.models import OutboxMessage
from servio.sla.models import Calendar, SlaClock, SlaPolicy, SlaTarget
from servio.sla.scan import ScanResult, sla_scan
from servio.tickets import services as tickets
from servio.tickets.models import Ticket
from tests.factories import Personas

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# Resolution targets per priority, in business hours (first response: 2 hours for every priority).
RESOLUTION_HOURS = {1: 4, 2: 8, 3: 16, 4: 24, 5: 40}
RECORDER = "tests.sla.recorder"
HOUR = 3600


def at(*args: int) -> dt.datetime:
    """A Berlin wall-clock instant, e.g. at(2026, 11, 23, 9, 0)."""
    return dt.datetime(*args, tzinfo=BERLIN)


def travel(when: dt.datetime):
    return time_machine.travel(when, tick=False)


def local(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(BERLIN) if value is not None else None


def clock(ticket: Ticket, metric: str, policy_type: str = "sla") -> SlaClock | None:
    """The newest clock of this kind on the ticket."""
    return (
        SlaClock.objects.filter(ticket_id=ticket.pk, metric=metric, policy_type=policy_type)
        .order_by("-pk")
        .first()
    )


def scan(when: dt.datetime, **kw: Any) -> ScanResult:
    with travel(when):
        return sla_scan(**kw)


@pytest.fixture
def berlin(db) -> Calendar:
    return Calendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        hours=WEEKDAYS,
        holiday_country="DE",
        holiday_subdivision="BE",
    )


@pytest.fixture
def make_policy(berlin):
    """make_policy(name, type=, first_response=minutes or None, resolution={prio: hours}, ...)."""

    def make(
        name: str,
        *,
        first_response: int | None = 120,
        resolution: dict[int, float] | None = None,
        calendar: Calendar | None = None,
        organizations=(),
        services=(),
        **fields: Any,
    ) -> SlaPolicy:
        fields.setdefault("pause_on", ["on_hold:awaiting_requester"])
        fields.setdefault("warning_thresholds", [75, 90])
        policy = SlaPolicy.objects.create(name=name, **fields)
        policy.organizations.set(organizations)
        policy.services.set(services)
        hours = RESOLUTION_HOURS if resolution is None else resolution
        for priority in range(1, 6):
            if first_response is not None:
                SlaTarget.objects.create(
                    policy=policy,
                    metric="first_response",
                    priority=priority,
                    minutes=first_response,
                    calendar=calendar or berlin,
                )
            if priority in hours:
                SlaTarget.objects.create(
                    policy=policy,
                    metric="resolution",
                    priority=priority,
                    minutes=int(hours[priority] * 60),
                    calendar=calendar or berlin,
                )
        return policy

    return make


@pytest.fixture
def standard(make_policy) -> SlaPolicy:
    """The requester SLA: first response in 2 business hours, resolution per priority."""
    return make_policy("Standard")


@dataclass
class Desk:
    """Acts on tickets at given instants, through the ticket services (as the named personas)."""

    p: Personas

    def create(self, when: dt.datetime, *, by=None, **kw: Any) -> Ticket:
        kw.setdefault("title", "Mail is down")
        with travel(when):
            if by is None and any(k in kw for k in ("team", "assignee", "priority", "requester")):
                by = self.p.admin
                kw.setdefault("requester", self.p.requester_acme)
            return tickets.ticket_create(actor=by or self.p.requester_acme, **kw)

    def _move(self, when, ticket, transition, values=None, by=None) -> Ticket:
        with travel(when):
            return tickets.ticket_transition(
                actor=by or self.p.admin, ticket=ticket, transition=transition, values=values
            )

    def start(self, when, ticket) -> Ticket:
        return self._move(when, ticket, "start")

    def hold(self, when, ticket, reason="awaiting_requester") -> Ticket:
        return self._move(when, ticket, "hold", {"hold_reason": reason})

    def resume(self, when, ticket) -> Ticket:
        return self._move(when, ticket, "resume")

    def resolve(self, when, ticket) -> Ticket:
        values = {"resolution_code": "fixed", "resolution_notes": "Restarted the service."}
        return self._move(when, ticket, "resolve", values)

    def reopen(self, when, ticket) -> Ticket:
        return self._move(when, ticket, "reopen")

    def cancel(self, when, ticket) -> Ticket:
        return self._move(when, ticket, "cancel", {"reason": "No longer needed"})

    def reply(self, when, ticket, *, by=None, internal=False) -> None:
        with travel(when):
            tickets.comment_add(
                actor=by or self.p.agent_desk, ticket=ticket, body="Looking", internal=internal
            )

    def set_priority(self, when, ticket, priority: int) -> Ticket:
        with travel(when):
            return tickets.ticket_update(
                actor=self.p.admin, ticket=ticket, version=None, changes={"priority": priority}
            )

    def assign(self, when, ticket, team, assignee=None) -> Ticket:
        with travel(when):
            return tickets.ticket_assign(
                actor=self.p.admin, ticket=ticket, team=team, assignee=assignee
            )


@pytest.fixture
def desk(personas) -> Desk:
    return Desk(personas)


class Events:
    """The SLA events published through the outbox (one recorded row per event)."""

    def of(self, topic: str, **match: Any) -> list[dict[str, Any]]:
        rows = OutboxMessage.objects.filter(handler=RECORDER, topic=topic).order_by("id")
        payloads = [row.payload for row in rows]
        return [p for p in payloads if all(p.get(k) == v for k, v in match.items())]

    def count(self, topic: str | None = None) -> int:
        rows = OutboxMessage.objects.filter(handler=RECORDER)
        return (rows.filter(topic=topic) if topic else rows).count()


@pytest.fixture
def events() -> Iterator[Events]:
    """Record sla.* events: the outbox writes rows only for topics that have a handler."""
    outbox.handler("sla.warning", "sla.breached", "sla.escalation", name=RECORDER)(
        lambda event: None
    )
    yield Events()
    outbox.unregister(RECORDER)
