"""Against real servers: Dovecot (IMAP) holds the mail Servio polls, aiosmtpd (SMTP) receives what
Servio sends. The full conversation: mail in -> acknowledgement out -> agent reply out ->
requester reply in over IMAP -> resolved -> survey answered."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from servio.mail import tasks
from servio.mail.imap import parse_fetch
from servio.mail.models import InboundMessage, Mailbox
from servio.surveys.models import SurveyResponse
from servio.tickets.models import Comment, Ticket
from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def imap_mailbox(personas, walk_in, imap_account) -> Mailbox:
    return Mailbox.objects.create(
        name="Provider Service Desk",
        address="servicedesk@provider.example",
        imap_host="127.0.0.1",
        imap_port=imap_account.port,
        security=Mailbox.Security.NONE,
        username=imap_account.username,
        password=imap_account.password,
        default_team=personas.team_desk,
        default_organization=walk_in,
    )


def test_polling_stores_marks_seen_and_is_idempotent(imap_mailbox, imap_account):
    first = make_email(sender="rita@acme.example", subject="Monitor flickers")
    imap_account.append(first, first, make_email(sender="carl@acme.example", subject="Dock"))
    assert imap_account.unseen() == 3

    assert tasks.poll_mailboxes() == {imap_mailbox.address: "2 new, 1 duplicate"}

    assert imap_account.unseen() == 0  # marked seen only after being stored
    assert Ticket.objects.count() == 2
    assert set(InboundMessage.objects.values_list("via", "status")) == {("imap", "ticket_created")}
    assert tasks.poll_mailboxes() == {imap_mailbox.address: "0 new, 0 duplicate"}
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.last_polled_at is not None and imap_mailbox.last_error == ""


def test_a_failing_mailbox_is_reported_and_does_not_stop_the_others(imap_mailbox, imap_account):
    Mailbox.objects.create(
        address="broken@provider.example",
        imap_host="127.0.0.1",
        imap_port=imap_account.port,
        security=Mailbox.Security.NONE,
        username="nobody@imap.test",
        password="wrong",
    )
    imap_account.append(make_email(sender="rita@acme.example", subject="Still works"))
    report = tasks.poll_mailboxes()
    assert report[imap_mailbox.address] == "1 new, 0 duplicate"
    assert report["broken@provider.example"].startswith("failed: login")
    assert "login" in Mailbox.objects.get(address="broken@provider.example").last_error


def test_fetch_responses_with_the_uid_after_the_literal_are_read():
    data = [(b"1 (BODY[] {5}", b"hello"), b" UID 42)", (b"2 (UID 43 BODY[] {2}", b"hi"), b")"]
    assert parse_fetch(data) == [("42", b"hello"), ("43", b"hi")]


def test_full_conversation_over_real_smtp_and_imap(
    personas, imap_mailbox, imap_account, smtp_server, drain, api_as
):
    p = personas
    # 1. The requester writes to the desk; the mail lands in the IMAP mailbox and is polled.
    imap_account.append(
        make_email(
            sender="Rita Acme <rita@acme.example>",
            subject="Laptop battery swells",
            body="The battery of my laptop is swelling. Is it dangerous?",
            message_id="<conv-1@acme.example>",
        )
    )
    tasks.poll_mailboxes()
    ticket = Ticket.objects.get()
    assert ticket.source == "email" and ticket.requester == p.requester_acme
    ref = ticket.reference

    # 2. The acknowledgement goes out over SMTP, threaded under her mail.
    drain()
    [ack] = smtp_server.to("rita@acme.example")
    assert ack.message["In-Reply-To"] == "<conv-1@acme.example>"
    assert ref in ack.message["Subject"]

    # 3. The agent answers publicly through the API; the reply goes out by email.
    agent = api_as(p.agent_desk)
    assert (
        agent.post(
            f"tickets/{ref}/assignment", json={"team": p.team_desk.pk, "assignee": p.agent_desk.pk}
        ).status_code
        == 200
    )
    assert agent.post(f"tickets/{ref}/transitions", json={"transition": "start"}).status_code == 200
    answer = agent.post(
        f"tickets/{ref}/comments", json={"body": "Stop using it and bring it to room 12."}
    )
    assert answer.status_code == 201, answer.content
    drain()
    [reply] = [m for m in smtp_server.to("rita@acme.example") if m is not ack]
    assert "bring it to room 12" in reply.text
    reply_id = reply.message["Message-ID"]
    assert "<conv-1@acme.example>" in reply.message["References"]

    # 4. She answers from her mail client: threaded by In-Reply-To alone (no tag in the subject),
    #    quoted history and signature stripped; it arrives over IMAP.
    imap_account.append(
        make_email(
            sender="Rita Acme <rita@acme.example>",
            subject="Re: Laptop battery swells",
            body=(
                "Thanks, I will bring it this afternoon.\n\n"
                "-- \nRita Acme\nAcme Corp\n\n"
                "On Tue, Dana Desk wrote:\n> Stop using it and bring it to room 12.\n"
            ),
            in_reply_to=reply_id,
            references=["<conv-1@acme.example>", reply_id],
        )
    )
    smtp_server.messages.clear()
    tasks.poll_mailboxes()
    comment = Comment.objects.filter(ticket=ticket, author=p.requester_acme).get()
    assert comment.body == "Thanks, I will bring it this afternoon."
    assert comment.source == "email"
    assert "room 12" in comment.inbound_message.text_body  # the full body stays available
    drain()
    assert [m.rcpt_tos for m in smtp_server.messages] == [["dana@provider.example"]]

    # 5. The agent resolves it; she gets the resolution with a survey link.
    resolved = agent.post(
        f"tickets/{ref}/transitions",
        json={
            "transition": "resolve",
            "resolution_code": "fixed",
            "resolution_notes": "Replaced the battery.",
        },
    )
    assert resolved.status_code == 200, resolved.content
    drain()
    [resolution] = smtp_server.to("rita@acme.example")
    assert "Replaced the battery." in resolution.text
    url = re.search(r"https?://\S+/survey/\S+/", resolution.text).group(0)
    path = url.split("://", 1)[1].split("/", 1)[1]

    # 6. She answers the survey without signing in (CSRF enforced, as in a browser).
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/{path}")
    assert page.status_code == 200 and ref.encode() in page.content
    token = browser.cookies["csrftoken"].value
    done = browser.post(
        f"/{path}",
        {"rating": "5", "comment": "Quick and friendly", "csrfmiddlewaretoken": token},
    )
    assert done.status_code == 200 and b"Thank you" in done.content
    response = SurveyResponse.objects.get()
    assert (response.ticket, response.rating, response.agent) == (ticket, 5, p.agent_desk)
    assert browser.get(f"/{path}").status_code == 410  # single use

    report = api_as(p.lead_desk).get("surveys/report?group_by=agent").json()
    assert report == [
        {
            "key": p.agent_desk.pk,
            "label": "Dana Desk",
            "responses": 1,
            "average_rating": 5.0,
            "csat_percent": 100.0,
        }
    ]
    assert imap_account.unseen() == 0
