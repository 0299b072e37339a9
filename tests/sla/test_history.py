"""sla_clocks_of_history: the clocks a finished ticket loaded as history would have had."""

from __future__ import annotations

import datetime as dt

import pytest

from servio.sla.models import Calendar, ClockState, SlaPolicy, SlaTarget
from servio.sla.services import sla_clocks_of_history
from servio.tickets.models import Ticket
from tests.reporting.conftest import at, desk  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    calendar = Calendar.objects.create(name="Always", twenty_four_seven=True)
    sla = SlaPolicy.objects.create(name="Standard", type=SlaPolicy.Type.SLA)
    for priority in range(1, 6):
        for metric, minutes in (("first_response", 60), ("resolution", 240)):
            SlaTarget.objects.create(
                policy=sla, metric=metric, priority=priority, minutes=minutes, calendar=calendar
            )
    return sla


def test_a_finished_ticket_gets_its_clocks_stopped_at_its_milestones(desk, policy):  # noqa: F811
    ticket = desk.create(at(3, 2, 9))
    desk.reply(at(3, 2, 11), ticket)  # 2 h: the response target (1 h) breached
    desk.resolve(at(3, 2, 12), ticket)  # 3 h: the resolution target (4 h) met
    ticket.sla_clocks.all().delete()  # as the bulk-loaded history has none
    ticket = Ticket.objects.get(pk=ticket.pk)

    clocks = {c.metric: c for c in sla_clocks_of_history(ticket=ticket)}

    assert all(c.pk is None for c in clocks.values())  # the caller writes them
    response, resolution = clocks["first_response"], clocks["resolution"]
    assert (response.state, response.breached) == (ClockState.BREACHED, True)
    assert response.stopped_at == at(3, 2, 11)
    assert (resolution.state, resolution.breached) == (ClockState.MET, False)
    assert resolution.stopped_at == at(3, 2, 12)
    assert resolution.elapsed_seconds == pytest.approx(dt.timedelta(hours=3).total_seconds())


def test_open_and_cancelled_tickets_get_none(desk, policy):  # noqa: F811
    open_ = desk.create(at(3, 2, 9))
    cancelled = desk.create(at(3, 2, 9))
    desk.move(at(3, 2, 10), cancelled, "cancel", {"reason": "Logged twice."})
    for ticket in (open_, cancelled):
        assert sla_clocks_of_history(ticket=Ticket.objects.get(pk=ticket.pk)) == []
