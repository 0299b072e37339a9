"""Reporting test kit: a desk acting at given UTC instants, and a small hand-built service desk.

Every ticket is created and changed through the services at a frozen instant, so timestamps,
reassignment and reopen counts, comments and survey answers are what production would write.
The period under test is three UTC days, 2 to 4 March 2026 (`PERIOD`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine

from servio.surveys import services as surveys
from servio.tickets import services as tickets
from servio.tickets.models import Ticket
from tests.factories import Personas

UTC = dt.UTC


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A UTC instant in 2026."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


PERIOD = {"start": at(3, 2), "end": at(3, 5)}
D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)


def travel(when: dt.datetime):
    return time_machine.travel(when, tick=False)


@dataclass
class Desk:
    """Acts on tickets at given instants through the services (admin unless told otherwise)."""

    p: Personas
    made: dict[str, Ticket] = field(default_factory=dict)

    def create(self, when, *, requester=None, kind="incident", **kw: Any) -> Ticket:
        kw.setdefault("title", "Mail is down")
        with travel(when):
            return tickets.ticket_create(
                actor=self.p.admin,
                requester=requester or self.p.requester_acme,
                kind=kind,
                **kw,
            )

    def assign(self, when, ticket, team, assignee=None) -> Ticket:
        with travel(when):
            return tickets.ticket_assign(
                actor=self.p.admin, ticket=ticket, team=team, assignee=assignee
            )

    def reply(self, when, ticket, *, by=None, internal=False) -> None:
        with travel(when):
            tickets.comment_add(
                actor=by or self.p.agent_desk, ticket=ticket, body="On it.", internal=internal
            )

    def move(self, when, ticket, transition, values=None) -> Ticket:
        with travel(when):
            ticket.refresh_from_db()
            return tickets.ticket_transition(
                actor=self.p.admin, ticket=ticket, transition=transition, values=values
            )

    def resolve(self, when, ticket) -> Ticket:
        values = {"resolution_code": "fixed", "resolution_notes": "Restarted the service."}
        return self.move(when, ticket, "resolve", values)

    def rate(self, when, ticket, rating: int) -> None:
        with travel(when):
            invitation = surveys.survey_invite(ticket=ticket, event_id=uuid.uuid4())
            assert invitation is not None
            surveys.survey_answer(token=invitation.token, rating=rating)


@pytest.fixture
def desk(personas) -> Desk:
    return Desk(personas)


@pytest.fixture
def service_desk(desk: Desk, personas: Personas) -> Desk:
    """The data set the figures are checked against (expected values in test_selectors.py).

    T1..T12; times are UTC, D1-D3 are 2-4 March.
    """
    p, d = personas, desk
    desk_team, network = p.team_desk, p.team_network

    # T1: one agent reply after 30 min (a requester reply does not count), resolved after 1 h.
    t1 = d.create(at(3, 2, 9, 0))
    d.assign(at(3, 2, 9, 5), t1, desk_team, p.agent_desk)
    d.reply(at(3, 2, 9, 30), t1)
    d.reply(at(3, 2, 9, 40), t1, by=p.requester_acme)
    d.resolve(at(3, 2, 10, 0), t1)
    d.rate(at(3, 2, 12, 0), t1, 5)
    # T2: first reply after 45 min, a second one later: not first contact; resolved after 22 h.
    t2 = d.create(at(3, 2, 12, 0))
    d.assign(at(3, 2, 12, 5), t2, desk_team, p.agent_desk)
    d.reply(at(3, 2, 12, 45), t2)
    d.reply(at(3, 2, 14, 0), t2)
    d.resolve(at(3, 3, 10, 0), t2)
    d.rate(at(3, 3, 11, 0), t2, 2)
    # T3: moved from the desk to the network team (a reassignment), still an Acme ticket.
    t3 = d.create(at(3, 3, 8, 0))
    d.assign(at(3, 3, 8, 5), t3, desk_team)
    network.serves.add(p.acme)  # Network took Acme's work then; it no longer does
    d.assign(at(3, 3, 8, 30), t3, network, p.agent_network)
    network.serves.remove(p.acme)
    d.reply(at(3, 3, 9, 10), t3, by=p.agent_network)
    d.resolve(at(3, 3, 11, 0), t3)
    # T4: one reply, resolved, reopened by the requester's reply, resolved again on D3.
    t4 = d.create(at(3, 3, 9, 0))
    d.assign(at(3, 3, 9, 5), t4, desk_team, p.agent_desk)
    d.reply(at(3, 3, 9, 20), t4)
    d.resolve(at(3, 3, 9, 40), t4)
    d.reply(at(3, 3, 10, 0), t4, by=p.requester_acme)
    d.resolve(at(3, 4, 10, 0), t4)
    # T5: open, no team, P3.
    d.create(at(3, 4, 10, 0), priority=3)
    # T6: logged before the period, open in the desk's queue, P2.
    t6 = d.create(at(2, 25, 9, 0), team=desk_team, priority=2)
    d.move(at(2, 25, 9, 30), t6, "start")
    # T7: Globex, the network team's: one reply after 10 min, resolved after 1 h, rated 4.
    t7 = d.create(at(3, 2, 10, 0), requester=p.requester_globex)
    d.assign(at(3, 2, 10, 2), t7, network, p.agent_network)
    d.reply(at(3, 2, 10, 10), t7, by=p.agent_network)
    d.resolve(at(3, 2, 11, 0), t7)
    d.rate(at(3, 2, 11, 30), t7, 4)
    # T8: a problem: not the service desk's work, in no figure.
    t8 = d.create(at(3, 2, 9, 0), kind="problem", team=desk_team)
    d.reply(at(3, 2, 9, 1), t8)
    # T9: an internal note first (not a response), the public reply after 1 h; open, P2.
    t9 = d.create(at(3, 4, 20, 0), team=desk_team, priority=2)
    d.reply(at(3, 4, 20, 30), t9, internal=True)
    d.reply(at(3, 4, 21, 0), t9)
    # T10: cancelled the day it was logged.
    t10 = d.create(at(3, 2, 13, 0), team=desk_team)
    d.move(at(3, 2, 14, 0), t10, "cancel", {"reason": "Logged twice."})
    # T11: all before the period, rated before it too.
    t11 = d.create(at(2, 20, 9, 0), team=desk_team)
    d.reply(at(2, 20, 9, 10), t11)
    d.resolve(at(2, 21, 9, 0), t11)
    d.rate(at(2, 22, 9, 0), t11, 1)
    # T12: logged before the period, one reply, resolved on D1 after 4 days.
    t12 = d.create(at(2, 26, 9, 0))
    d.assign(at(2, 26, 9, 5), t12, desk_team, p.agent_desk)
    d.reply(at(2, 26, 9, 30), t12)
    d.resolve(at(3, 2, 9, 0), t12)
    d.made.update(t1=t1, t2=t2, t3=t3, t4=t4, t6=t6, t7=t7, t8=t8, t9=t9, t10=t10, t11=t11, t12=t12)
    return d
