"""A requester's reply reopens a recently resolved incident or resumes one waiting on them;
resolved incidents close themselves after a while (a registered periodic job)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from servio.audit.models import AuditEvent
from servio.core import jobs
from servio.incidents.services import incidents_auto_close
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.tickets.helpers import log, put_in, reload

pytestmark = pytest.mark.django_db


def age(ticket: Ticket, days: float) -> Ticket:
    """Pretend the ticket was resolved `days` ago."""
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=days))
    return reload(ticket)


@pytest.fixture
def rita(personas, api_as):
    return api_as(personas.requester_acme)


def resolved_incident(personas, days_ago: float) -> Ticket:
    return age(put_in(log(personas.requester_acme), "resolved", personas.agent_desk), days_ago)


def test_a_reply_within_the_window_reopens(personas, rita, settings):
    settings.SERVIO_INCIDENT_REOPEN_DAYS = 3
    ticket = resolved_incident(personas, 2.9)
    reply = rita.post(f"tickets/{ticket.reference}/comments", json={"body": "Still broken"})
    assert reply.status_code == 201
    after = reload(ticket)
    assert after.status == "in_progress"
    assert (after.reopen_count, after.resolved_at, after.resolution_code) == (1, None, "")
    reopen = AuditEvent.objects.get(action="ticket.reopen", object_id=str(ticket.pk))
    assert reopen.actor_id == personas.requester_acme.pk
    assert reopen.changes["status"] == ["resolved", "in_progress"]


def test_a_reply_after_the_window_is_kept_but_does_not_reopen(personas, rita, settings):
    settings.SERVIO_INCIDENT_REOPEN_DAYS = 3
    ticket = resolved_incident(personas, 3.1)
    reply = rita.post(f"tickets/{ticket.reference}/comments", json={"body": "Broken again"})
    assert reply.status_code == 201
    after = reload(ticket)
    assert (after.status, after.reopen_count) == ("resolved", 0)
    bodies = [c["body"] for c in rita.get(f"tickets/{ticket.reference}/comments").json()["items"]]
    assert bodies == ["Broken again"]


def test_replies_by_staff_or_to_closed_tickets_do_not_reopen(personas, api_as, rita):
    p = personas
    ticket = resolved_incident(p, 0)
    api_as(p.agent_desk).post(f"tickets/{ticket.reference}/comments", json={"body": "FYI"})
    assert reload(ticket).status == "resolved"
    closed = put_in(log(p.requester_acme), "closed", p.agent_desk)
    refused = rita.post(f"tickets/{closed.reference}/comments", json={"body": "Hello?"})
    assert refused.status_code == 403 and "new ticket" in refused.json()["detail"]
    assert reload(closed).status == "closed"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("awaiting_requester", "in_progress"),
        ("awaiting_vendor", "on_hold"),
        ("awaiting_change", "on_hold"),
    ],
)
def test_a_reply_resumes_an_incident_waiting_for_the_requester(personas, rita, reason, expected):
    p = personas
    ticket = services.ticket_transition(
        actor=p.agent_desk,
        ticket=log(p.requester_acme),
        transition="hold",
        values={"hold_reason": reason},
    )
    rita.post(f"tickets/{ticket.reference}/comments", json={"body": "Here is the log"})
    after = reload(ticket)
    assert after.status == expected
    assert after.hold_reason == ("" if expected == "in_progress" else reason)


def test_auto_close_closes_only_incidents_resolved_long_enough_ago(personas, settings):
    p = personas
    settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS = 5
    due = [resolved_incident(p, 5.1), resolved_incident(p, 30)]
    recent = resolved_incident(p, 4.9)
    working = put_in(log(p.requester_acme), "in_progress", p.agent_desk)
    request = age(
        put_in(log(p.requester_acme, kind="request"), "resolved", p.agent_desk), 30
    )  # requests get their own practice
    already = put_in(log(p.requester_acme), "closed", p.agent_desk)
    closed_at = already.closed_at

    assert incidents_auto_close() == 2
    for ticket in due:
        after = reload(ticket)
        assert after.status == "closed" and after.closed_at is not None
        event = AuditEvent.objects.get(action="ticket.close", object_id=str(ticket.pk))
        assert event.actor_id is None and event.actor_repr == "system"
    assert reload(recent).status == "resolved"
    assert reload(working).status == "in_progress"
    assert reload(request).status == "resolved"
    assert reload(already).closed_at == closed_at
    assert incidents_auto_close() == 0  # nothing left to do

    settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS = 4
    assert incidents_auto_close() == 1
    assert reload(recent).status == "closed"


def test_auto_close_works_through_a_backlog_in_batches(personas):
    p = personas
    backlog = [resolved_incident(p, 10) for _ in range(5)]
    assert incidents_auto_close(batch=2) == 5
    assert {reload(t).status for t in backlog} == {"closed"}


def test_the_auto_close_job_is_registered_and_runs(personas):
    p = personas
    job = {j.name: j for j in jobs.registered_jobs()}["incidents.auto_close"]
    assert timedelta(minutes=1) <= job.every <= timedelta(hours=1)
    ticket = resolved_incident(p, 30)
    jobs.run_job("incidents.auto_close")
    assert reload(ticket).status == "closed"
