"""The portal's ticket page keeps the requester informed: what happens next and by when (the
SLA promised to them, never an OLA), who works on it, how it was solved; and only the requester
confirms or reopens."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from servio.sla.models import Calendar, SlaClock, SlaPolicy, SlaTarget
from servio.surveys.services import survey_invite
from servio.tickets import services
from servio.tickets.models import Ticket
from tests.ui import make_ticket, sla_policy, told


@pytest.fixture
def rita(client, personas):
    client.force_login(personas.requester_acme)
    return client


def next_step(page: str) -> str:
    """The text of the "What happens next" panel, tags and extra spaces removed."""
    section = page.split('id="next-step"', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.split(">", 1)[1])).strip()


def when(page: str) -> str:
    match = re.search(r'data-next-when>.*?<time datetime="([^"]+)"', page)
    return match.group(1) if match else ""


def ola(minutes: int = 5):
    """An internal agreement with much shorter targets: requesters must never see it."""
    calendar = Calendar.objects.create(name="OLA hours", twenty_four_seven=True)
    policy = SlaPolicy.objects.create(name="Desk OLA", type=SlaPolicy.Type.OLA)
    for priority in range(1, 6):
        for metric in ("first_response", "resolution"):
            SlaTarget.objects.create(
                policy=policy, metric=metric, priority=priority, minutes=minutes, calendar=calendar
            )


def assign(personas, ticket):
    return services.ticket_assign(
        actor=personas.agent_desk,
        ticket=ticket,
        team=personas.team_desk,
        assignee=personas.agent_desk,
    )


def test_a_new_ticket_says_when_we_will_reply_by_the_sla_not_the_ola(rita, personas):
    sla_policy()
    ola()
    ticket = make_ticket(personas)
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    text = next_step(page)
    assert text.startswith("What happens next We have received it")
    assert "The service desk will look at it and reply." in text
    assert "We aim to reply by" in text and " — in 2 hours" in text
    sla = SlaClock.objects.get(
        ticket=ticket, policy_type="sla", metric="first_response"
    ).due_at.isoformat()
    assert when(page)[:16] == sla[:16]
    assert "Desk OLA" not in page
    # Staff opening the portal see the requester's promise too, not their own OLA.
    rita.force_login(personas.agent_desk)
    assert when(rita.get(f"/portal/t/{ticket.reference}/").content.decode())[:16] == sla[:16]


def test_once_answered_it_says_who_works_on_it_and_when_it_should_be_solved(rita, personas):
    sla_policy()
    ticket = make_ticket(personas)
    assign(personas, ticket)
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="Looking into it.")
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    text = next_step(page)
    assert "We are working on it" in text and "Dana (Service Desk) is working on it." in text
    assert "We aim to solve it by" in text
    due = SlaClock.objects.get(ticket=ticket, metric="resolution").due_at.isoformat()
    assert when(page)[:16] == due[:16]
    assert re.search(r"data-handled-by>Dana · Service Desk<", page)
    # Staff are signed with their first name in the conversation, never in full.
    assert "Dana Desk" not in page and "<strong>Dana</strong>" in page


def test_a_missed_target_is_admitted(rita, personas):
    sla_policy()
    ticket = make_ticket(personas)
    SlaClock.objects.filter(ticket=ticket).update(due_at=timezone.now() - timedelta(minutes=5))
    text = next_step(rita.get(f"/portal/t/{ticket.reference}/").content.decode())
    assert "We aimed to reply by" in text and "Sorry for the wait" in text
    assert " — in " not in text


def test_without_an_sla_it_promises_no_time(rita, personas):
    ticket = make_ticket(personas)
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "We will keep you posted here and by email." in next_step(page)
    assert "data-next-when" not in page


@pytest.mark.parametrize(
    ("reason", "title"),
    [
        ("awaiting_requester", "We are waiting for your answer"),
        ("awaiting_vendor", "We are waiting for a supplier"),
        ("awaiting_change", "We are waiting for a planned change"),
    ],
)
def test_on_hold_says_what_we_wait_for(rita, personas, reason, title):
    sla_policy()
    ticket = make_ticket(personas)
    services.ticket_transition(
        actor=personas.agent_desk, ticket=ticket, transition="hold", values={"hold_reason": reason}
    )
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert title in next_step(page)
    assert "data-next-when" not in page  # the clock is paused: no time to promise


def _resolve(personas, ticket, code="workaround"):
    services.ticket_transition(
        actor=personas.agent_desk,
        ticket=ticket,
        transition="resolve",
        values={"resolution_code": code, "resolution_notes": "Use the **spare** printer."},
    )


def test_resolved_asks_to_confirm_and_says_when_it_closes_by_itself(rita, personas, settings):
    settings.SERVIO_INCIDENT_AUTOCLOSE_DAYS = 5
    settings.SERVIO_INCIDENT_REOPEN_DAYS = 7
    ticket = make_ticket(personas)
    assign(personas, ticket)
    _resolve(personas, ticket)
    ticket.refresh_from_db()
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    text = next_step(page)
    assert "We think this is solved" in text
    assert "If we do not hear back, it closes by itself on" in text and " — in 4 days" in text
    assert when(page)[:16] == (ticket.resolved_at + timedelta(days=5)).isoformat()[:16]
    assert "You can reopen it until" in text
    resolution = page.split('id="resolution"', 1)[1]
    assert "A workaround is in place" in resolution and "<strong>spare</strong>" in resolution
    assert 'data-action="close"' in resolution and 'data-action="reopen"' in resolution
    assert "data-handled-by>Dana · Service Desk<" in page


def test_the_resolution_stays_after_closure(rita, personas):
    ticket = make_ticket(personas)
    assign(personas, ticket)
    _resolve(personas, ticket, "fixed")
    rita.post(f"/portal/t/{ticket.reference}/close/")
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    text = next_step(page)
    assert text.startswith("What happens next Closed") and "Closed on" in text
    assert f"mention {ticket.reference}" in text
    resolution = page.split('id="resolution"', 1)[1].split("</section>", 1)[0]
    assert "Fixed" in resolution and "<strong>spare</strong>" in resolution
    assert 'data-action="close"' not in resolution and 'data-action="reopen"' not in resolution


def test_cancelled_says_nothing_more_will_happen(rita, personas):
    ticket = make_ticket(personas)
    rita.post(f"/portal/t/{ticket.reference}/cancel/", {"reason": "It works again"})
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "Cancelled" in next_step(page) and 'id="resolution"' not in page
    # The reason is on the conversation, with the step.
    assert '<span class="fw-bold">Reason:</span> It works again' in page


def test_the_installation_may_show_the_team_only(rita, personas, settings):
    settings.SERVIO_PORTAL_AGENT_NAME = "team"
    ticket = make_ticket(personas)
    assign(personas, ticket)
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="On my way.")
    services.ticket_transition(actor=personas.agent_desk, ticket=ticket, transition="start")
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert "Dana" not in page
    assert "Service Desk is working on it." in next_step(page)
    assert re.search(r"data-handled-by>Service Desk<", page)
    assert "<strong>Service Desk</strong>" in page  # the reply is signed by the team
    assert "<strong>Rita Acme</strong>" in page  # the requester keeps her own name


def test_an_agent_without_a_name_is_never_shown_by_email(rita, personas):
    dana = personas.agent_desk
    dana.full_name = ""
    dana.save()
    ticket = make_ticket(personas)
    assign(personas, ticket)
    services.comment_add(actor=dana, ticket=ticket, body="Hello")
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert dana.email not in page
    assert re.search(r"data-handled-by>Service Desk<", page)


def test_only_the_requester_confirms_or_reopens(client, personas):
    personas.acme.requesters_see_org_tickets = True
    personas.acme.save()
    ticket = make_ticket(personas)
    assign(personas, ticket)
    _resolve(personas, ticket)
    client.force_login(personas.colleague_acme)
    page = client.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert 'data-action="close"' not in page and 'data-action="reopen"' not in page
    for action in ("close", "reopen", "cancel"):
        response = client.post(f"/portal/t/{ticket.reference}/{action}/")
        assert told(response) == 409, action
        assert 'id="action-error"' in response.content.decode()
    client.force_login(personas.requester_globex)
    for action in ("close", "reopen"):
        assert client.post(f"/portal/t/{ticket.reference}/{action}/").status_code == 404
    assert client.get(f"/portal/t/{ticket.reference}/").status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.reopen_count == 0


def test_reopening_after_the_window_is_refused_beside_the_resolution(rita, personas, settings):
    settings.SERVIO_INCIDENT_REOPEN_DAYS = 7
    ticket = make_ticket(personas)
    _resolve(personas, ticket)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    page = rita.get(f"/portal/t/{ticket.reference}/").content.decode()
    assert 'data-action="reopen"' not in page and 'data-action="close"' in page
    assert "You can reopen it until" not in page
    response = rita.post(f"/portal/t/{ticket.reference}/reopen/", {"reason": "Still broken"})
    assert told(response) == 409
    assert "can no longer be reopened" in response.content.decode()


def test_reopening_with_a_reason_records_it(rita, personas):
    ticket = make_ticket(personas)
    _resolve(personas, ticket)
    rita.post(f"/portal/t/{ticket.reference}/reopen/", {"reason": "The spare jams too."})
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert ticket.comments.get().body == "The spare jams too."


# Session and user; the ticket with its people; the configuration token; the survey; the SLA
# clocks; the conversation (comments, files, history, and the names history refers to: people,
# teams, organisations); the rating; the navigation's unread count.
TICKET_QUERIES = 14


def test_the_ticket_page_costs_the_same_however_long_the_conversation(
    rita, personas, django_assert_num_queries
):
    sla_policy()
    ticket = make_ticket(personas)
    assign(personas, ticket)
    services.comment_add(actor=personas.agent_desk, ticket=ticket, body="One")
    survey_invite(ticket=ticket, event_id=uuid.uuid4())
    url = f"/portal/t/{ticket.reference}/"
    rita.get(url)  # fills the per-process configuration caches
    with django_assert_num_queries(TICKET_QUERIES):
        rita.get(url)
    for n in range(5):
        services.comment_add(actor=personas.agent_desk, ticket=ticket, body=f"More {n}")
        services.comment_add(actor=personas.requester_acme, ticket=ticket, body=f"Reply {n}")
    with django_assert_num_queries(TICKET_QUERIES):
        rita.get(url)
