"""Outbound notifications through the outbox to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import uuid

import pytest

from servio.core import outbox
from servio.core.models import OutboxMessage
from servio.mail import handlers
from servio.mail.models import MailTemplate, OutboundMessage
from servio.tickets.services import (
    comment_add,
    ticket_assign,
    ticket_create,
    ticket_transition,
    watcher_add,
)
from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_ticket(personas, mailbox, ingest, drain):
    message = ingest(
        make_email(
            sender="Rita Acme <rita@acme.example>",
            subject="Laptop will not boot",
            message_id="<first@acme.example>",
        )
    )
    return message.ticket


def test_acknowledgement_threads_under_the_original_mail(email_ticket, smtp_server, drain):
    drain()
    [ack] = smtp_server.to("rita@acme.example")
    msg = ack.message
    assert f"[{email_ticket.reference}]" in msg["Subject"]
    assert msg["In-Reply-To"] == "<first@acme.example>"
    assert "<first@acme.example>" in msg["References"]
    assert msg["From"] == "Provider Service Desk <servicedesk@provider.example>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Servio-Ticket"] == email_ticket.reference
    assert email_ticket.reference in ack.text
    assert msg.get_body(preferencelist=("html",)) is not None
    logged = OutboundMessage.objects.get(template="ticket_created")
    assert logged.status == "sent" and logged.message_id == msg["Message-ID"]


def test_who_hears_about_replies_notes_and_status(personas, email_ticket, smtp_server, drain):
    p = personas
    watcher_add(actor=p.agent_desk, ticket=email_ticket, user=p.colleague_acme)
    ticket_assign(actor=p.lead_desk, ticket=email_ticket, team=p.team_desk, assignee=p.agent_desk)
    drain()
    assert [m.message["Subject"] for m in smtp_server.to("dana@provider.example")] == [
        f"[{email_ticket.reference}] Assigned to you: Laptop will not boot"
    ]
    smtp_server.messages.clear()

    comment_add(actor=p.agent_desk, ticket=email_ticket, body="Internal: BIOS issue", internal=True)
    comment_add(actor=p.agent_desk, ticket=email_ticket, body="Please hold **F2** while booting.")
    drain()
    recipients = sorted(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert recipients == ["carl@acme.example", "rita@acme.example"]  # never the author
    assert all("BIOS" not in m.raw.decode() for m in smtp_server.messages)
    reply = smtp_server.to("rita@acme.example")[0]
    assert "Please hold **F2** while booting." in reply.text
    assert "<strong>F2</strong>" in reply.message.get_body(preferencelist=("html",)).get_content()
    smtp_server.messages.clear()

    comment_add(actor=p.requester_acme, ticket=email_ticket, body="That worked, thanks")
    drain()
    assert [m.rcpt_tos for m in smtp_server.messages] == [["dana@provider.example"]]
    smtp_server.messages.clear()

    ticket_transition(actor=p.agent_desk, ticket=email_ticket, transition="start")
    ticket_transition(
        actor=p.agent_desk,
        ticket=email_ticket,
        transition="hold",
        values={"hold_reason": "awaiting_requester"},
    )
    ticket_transition(actor=p.agent_desk, ticket=email_ticket, transition="resume")
    ticket_transition(
        actor=p.agent_desk,
        ticket=email_ticket,
        transition="resolve",
        values={"resolution_code": "fixed", "resolution_notes": "Reset the BIOS."},
    )
    ticket_transition(actor=p.requester_acme, ticket=email_ticket, transition="close")
    drain()
    subjects = [m.message["Subject"] for m in smtp_server.to("rita@acme.example")]
    ref = email_ticket.reference
    assert subjects == [
        f"[{ref}] We need your answer: Laptop will not boot",
        f"[{ref}] Resolved: Laptop will not boot",
    ]  # not for starting or resuming, nor for the close the requester made herself
    resolved = smtp_server.to("rita@acme.example")[1]
    assert "/survey/" in resolved.text and "Reset the BIOS." in resolved.text


def test_sla_warning_and_breach_reach_the_assignee(personas, smtp_server, drain):
    ticket = ticket_create(
        actor=personas.agent_desk,
        title="Server room too hot",
        requester=personas.requester_acme,
        team=personas.team_desk,
        assignee=personas.agent_desk,
    )
    drain()
    smtp_server.messages.clear()
    for topic, percent in (("sla.warning", 75), ("sla.breached", 100)):
        outbox.publish(
            topic,
            {
                "ticket_id": ticket.pk,
                "reference": ticket.reference,
                "metric": "resolution",
                "policy": "Gold",
                "percent": percent,
                "due_at": "2026-01-01T12:00:00+00:00",
            },
        )
    drain()
    subjects = [m.message["Subject"] for m in smtp_server.to("dana@provider.example")]
    assert subjects == [
        f"[{ticket.reference}] SLA warning: 75% of the resolution time used",
        f"[{ticket.reference}] SLA breached: resolution target missed",
    ]


def test_preferences_switch_email_off(personas, email_ticket, smtp_server, drain, api_as):
    drain()
    smtp_server.messages.clear()
    client = api_as(personas.requester_acme)
    prefs = {p["event"]: p["email"] for p in client.get("mail/preferences").json()}
    assert prefs["agent_reply"] is True and "sla_warning" not in prefs
    bad = client.request("PUT", "mail/preferences", json={"preferences": {"sla_warning": False}})
    assert bad.status_code == 422
    ok = client.request("PUT", "mail/preferences", json={"preferences": {"agent_reply": False}})
    assert {p["event"]: p["email"] for p in ok.json()}["agent_reply"] is False
    comment_add(actor=personas.agent_desk, ticket=email_ticket, body="Any news?")
    drain()
    assert smtp_server.messages == []


def test_a_redelivered_event_sends_once(personas, email_ticket, smtp_server, drain):
    drain()
    smtp_server.messages.clear()
    comment = comment_add(actor=personas.agent_desk, ticket=email_ticket, body="On our way.")
    event = outbox.Event(
        uuid.uuid4(),
        "ticket.commented",
        {
            "ticket_id": email_ticket.pk,
            "comment_id": comment.pk,
            "internal": False,
            "by_requester": False,
        },
    )
    handlers.ticket_commented(event)
    handlers.ticket_commented(event)  # redelivered (e.g. a worker died before acknowledging)
    drain()
    assert len(smtp_server.to("rita@acme.example")) == 2  # the real event, and ours once


def test_smtp_failures_retry_with_backoff_and_show_to_admins(
    personas, email_ticket, smtp_server, drain, settings, api_as
):
    settings.SERVIO_OUTBOX_MAX_ATTEMPTS = 2
    smtp_server.fail_next = 5
    drain()  # the acknowledgement is queued; its delivery fails (451)
    row = OutboxMessage.objects.get(handler="mail.deliver")
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    admin = api_as(personas.admin)
    [logged] = admin.get("mail/outbound").json()["items"]
    assert logged["delivery"] == "retrying" and "451" in logged["last_error"]
    OutboxMessage.objects.filter(pk=row.pk).update(available_at=row.created_at)
    drain()
    failed = admin.get("mail/outbound?status=failed").json()["items"]
    assert [f["delivery"] for f in failed] == ["failed"]
    assert api_as(personas.agent_desk).get("mail/outbound").status_code == 403

    smtp_server.fail_next = 0
    retried = admin.post(f"mail/outbound/{logged['id']}/retry")
    assert retried.status_code == 200, retried.content
    drain()
    assert len(smtp_server.to("rita@acme.example")) == 1
    assert admin.get("mail/outbound").json()["items"][0]["delivery"] == "sent"


def test_headers_cannot_be_injected_and_html_is_escaped(personas, smtp_server, drain):
    ticket = ticket_create(
        actor=personas.requester_acme,
        title="Help\r\nBcc: victim@evil.example\r\n<script>alert(1)</script>",
    )
    drain()
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["rita@acme.example"]
    msg = mail.message
    assert msg["Bcc"] is None and "\n" not in msg["Subject"]
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ticket.reference in msg["Subject"]


def test_admins_edit_templates(personas, smtp_server, drain):
    template = MailTemplate.objects.get(key="ticket_created")
    template.subject = "Got it: {{ ticket.title }} ({{ ticket.reference }})"
    template.text = "Thanks {{ recipient.name }}!"
    template.save()
    ticket = ticket_create(actor=personas.requester_acme, title="Mouse")
    drain()
    [mail] = smtp_server.messages
    assert mail.message["Subject"] == f"Got it: Mouse ({ticket.reference})"
    assert mail.text.strip() == "Thanks Rita Acme!"
    template.is_active = False
    template.save()
    smtp_server.messages.clear()
    ticket_create(actor=personas.requester_acme, title="Keyboard")
    drain()
    assert smtp_server.messages == []


@pytest.mark.parametrize("shared", [True, False])
def test_children_of_a_major_incident_hear_once(personas, smtp_server, drain, shared):
    """The requester hears the major incident's number only when they may see it (decision
    16): here when Acme shares its tickets among its people."""
    p = personas
    p.acme.requesters_see_org_tickets = shared
    p.acme.save()
    major = ticket_create(
        actor=p.agent_desk, title="Email is down", requester=p.colleague_acme, is_major=True
    )
    child = ticket_create(actor=p.requester_acme, title="Cannot send mail")
    from servio.tickets.services import ticket_set_parent

    ticket_set_parent(actor=p.agent_desk, ticket=child, parent=major)
    drain()
    smtp_server.messages.clear()
    ticket_transition(
        actor=p.agent_desk,
        ticket=major,
        transition="resolve",
        values={"resolution_code": "fixed", "resolution_notes": "Mail relay restarted."},
    )
    drain()
    [mail] = smtp_server.to("rita@acme.example")
    named = major.reference if shared else "a major incident"
    assert mail.message["Subject"] == f"[{child.reference}] Resolved with {named}: Cannot send mail"
    assert (major.reference in mail.text) is shared
    assert "Mail relay restarted." in mail.text and "/survey/" in mail.text


def test_links_lead_requesters_to_the_portal_and_agents_to_the_workspace(
    personas, smtp_server, drain, settings
):
    settings.SERVIO_BASE_URL = "https://desk.example"
    ticket = ticket_create(
        actor=personas.agent_desk,
        title="Wi-Fi",
        requester=personas.requester_acme,
        team=personas.team_desk,
        assignee=personas.lead_desk,
    )
    drain()
    [ack] = smtp_server.to("rita@acme.example")
    [assigned] = smtp_server.to("lena@provider.example")
    assert f"https://desk.example/portal/t/{ticket.reference}/" in ack.text
    assert f"https://desk.example/desk/t/{ticket.reference}/" in assigned.text
