"""Mail from a staff address acts as that person only when it is authenticated: a forged agent
reply (open or closed ticket), a forged new request with colleagues in Cc, are held for an
agent with the reason, never posted or mailed on; authenticated mail (a trusted receiving
host's Authentication-Results, or a DKIM signature verified here) works as before. Agents see
unauthenticated mail flagged."""

from __future__ import annotations

import pytest
from django.test import Client

from servio.mail.models import InboundMessage, OutboundMessage
from servio.tickets.models import Comment, Ticket
from servio.tickets.services import ticket_create
from tests.mail.dkimkeys import LOOKUP, PUBLISHED, make_key
from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db

AGENT = "dana@provider.example"
MX = "mx.provider.example"
RECEIVED = b"Received: from mail.sender.example by mx.provider.example; Mon, 7 Dec 2026 10:00\n"
FORGED = (
    b"Authentication-Results: mx.provider.example; spf=fail smtp.mailfrom=provider.example;"
    b" dkim=none; dmarc=fail header.from=provider.example\n" + RECEIVED
)
PASSED = b"Authentication-Results: mx.provider.example; dmarc=pass header.from=provider.example\n"


@pytest.fixture(scope="module")
def key():
    return make_key()


@pytest.fixture(autouse=True)
def _dns(settings):
    settings.SERVIO_MAIL_DKIM_DNSFUNC = LOOKUP
    PUBLISHED.clear()
    yield
    PUBLISHED.clear()


@pytest.fixture
def trusting(mailbox):
    mailbox.trusted_authserv_ids = MX
    mailbox.save()
    return mailbox


@pytest.fixture
def ticket(personas, mailbox, ingest, drain):
    message = ingest(make_email(sender="rita@acme.example", subject="VPN drops every hour"))
    drain()
    return message.ticket


def _reply(
    ticket: Ticket, *, sender: str = AGENT, body: str = "Reset it here: https://evil.example/r"
):
    return make_email(sender=sender, subject=f"Re: [{ticket.reference}] VPN", body=body)


def test_a_forged_agent_reply_is_held_and_never_mailed(personas, trusting, ticket, ingest, drain):
    message = ingest(FORGED + _reply(ticket))
    assert message.status == "held" and message.ticket == ticket
    assert message.sender == personas.agent_desk
    assert "is a staff address, but the message is not authenticated" in message.reason
    assert "dmarc=fail" in message.reason
    assert message.authentication == "fail" and message.unauthenticated
    assert not ticket.comments.exists()
    drain()
    assert not OutboundMessage.objects.filter(template="agent_reply").exists()
    assert "evil.example" not in "".join(OutboundMessage.objects.values_list("text", flat=True))


def test_without_any_evidence_agent_mail_is_held_too(personas, mailbox, ticket, ingest):
    message = ingest(_reply(ticket))  # no trusted host configured, no signature
    assert message.status == "held" and message.authentication == "none"
    assert "no DKIM signature" in message.reason
    assert not ticket.comments.exists()


def test_a_forged_agent_reply_on_a_closed_ticket_is_held(personas, trusting, ingest, drain):
    closed = ticket_create(actor=None, title="Old", requester=personas.requester_acme)
    Ticket.objects.filter(pk=closed.pk).update(status="closed")
    message = ingest(FORGED + _reply(closed))
    assert message.status == "held" and message.ticket == closed
    assert Ticket.objects.count() == 1  # no follow-up ticket either
    assert not Comment.objects.exists()
    drain()
    assert not OutboundMessage.objects.exclude(template="ticket_created").exists()


def test_a_forged_request_from_an_agent_is_held_with_its_cc(personas, trusting, ingest, drain):
    raw = FORGED + make_email(
        sender=AGENT,
        subject="Please reset the CFO's password",
        cc=["lena@provider.example"],
    )
    message = ingest(raw)
    assert message.status == "held" and message.ticket is None
    assert not Ticket.objects.exists()
    drain()
    assert not OutboundMessage.objects.exists()
    # The desk's agents find it (it came in through their team's mailbox); others do not.
    assert message.pk in _held_ids(personas.agent_desk)
    assert message.pk not in _held_ids(personas.agent_network)


def test_an_attackers_own_authentication_results_do_not_count(personas, trusting, ticket, ingest):
    # The header claims the trusted host, but arrives with the message (below the
    # receiving host's Received line, which reported nothing).
    raw = RECEIVED + PASSED + _reply(ticket)
    message = ingest(raw)
    assert message.status == "held" and message.authentication == "none"
    untrusted = ingest(
        b"Authentication-Results: mx.evil.example; dmarc=pass header.from=provider.example\n"
        + RECEIVED
        + _reply(ticket, body="Second try.")
    )
    assert untrusted.status == "held"


def test_authenticated_agent_mail_works_as_before(personas, trusting, ticket, ingest, drain):
    message = ingest(PASSED + RECEIVED + _reply(ticket, body="Please restart the router."))
    assert message.status == "comment_added", message.reason
    assert message.authentication == "pass" and not message.unauthenticated
    comment = message.comment
    assert comment.author == personas.agent_desk and not comment.is_internal
    drain()
    assert OutboundMessage.objects.filter(template="agent_reply").count() == 1


def test_a_dkim_signed_agent_reply_is_accepted_without_trusted_hosts(
    personas, mailbox, ticket, ingest, key
):
    key.publish("sel", "provider.example")
    signed = key.sign(_reply(ticket, body="Restart the router."), domain="provider.example")
    message = ingest(signed)
    assert message.status == "comment_added", message.reason
    assert message.authentication == "pass" and "verified here" in message.authentication_detail
    tampered = key.sign(_reply(ticket, body="Original."), domain="provider.example").replace(
        b"Original.", b"Changed."
    )
    forged = ingest(tampered)
    assert forged.status == "held" and forged.authentication == "fail"
    other_domain = key.sign(_reply(ticket, body="Other."), domain="evil.example")
    PUBLISHED[b"sel._domainkey.evil.example."] = PUBLISHED[b"sel._domainkey.provider.example."]
    assert ingest(other_domain).status == "held"


def test_requester_mail_is_checked_and_flagged_but_not_held(personas, trusting, ticket, ingest):
    forged = ingest(
        b"Authentication-Results: mx.provider.example; spf=fail smtp.mailfrom=acme.example\n"
        + RECEIVED
        + _reply(ticket, sender="rita@acme.example", body="It works again.")
    )
    assert forged.status == "comment_added"  # the requester's own ticket: as before
    assert forged.authentication == "fail" and forged.unauthenticated
    trusting.trusted_authserv_ids = ""
    trusting.save()
    unchecked = ingest(_reply(ticket, sender="rita@acme.example", body="And again."))
    assert unchecked.status == "comment_added"
    assert unchecked.authentication == "" and not unchecked.unauthenticated


def _held_ids(user) -> set[int]:
    from servio.mail import selectors

    return set(selectors.held_list(user=user).values_list("pk", flat=True))


def test_agents_review_held_staff_mail(personas, trusting, ticket, ingest, drain, api_as):
    reply = ingest(FORGED + _reply(ticket, body="Genuine after all."))
    request = ingest(FORGED + make_email(sender=AGENT, subject="Laptop for the new starter"))
    agent = api_as(personas.agent_desk)
    held = {h["id"]: h for h in agent.get("mail/held").json()["items"]}
    assert set(held) == {reply.pk, request.pk}
    assert held[reply.pk]["authentication"] == "fail"
    assert "not authenticated" in held[reply.pk]["reason"]

    accepted = agent.post(f"mail/held/{reply.pk}/accept", json={})
    assert accepted.status_code == 200, accepted.content
    comment = Comment.objects.get(pk=accepted.json()["comment_id"])
    assert comment.author == personas.agent_desk and comment.inbound_message.unauthenticated

    refused = agent.post(f"mail/held/{request.pk}/accept", json={"internal": True})
    assert refused.status_code == 422
    created = agent.post(f"mail/held/{request.pk}/accept", json={})
    assert created.status_code == 200, created.content
    assert created.json()["comment_id"] is None
    new = Ticket.objects.get(title="Laptop for the new starter")
    assert created.json()["email"]["ticket"] == new.reference
    assert new.requester == personas.agent_desk
    assert InboundMessage.objects.get(pk=request.pk).status == "ticket_created"
    assert agent.post(f"mail/held/{request.pk}/accept", json={}).status_code == 409


def test_unauthenticated_mail_is_flagged_in_the_admin_list(personas, trusting, ticket, ingest):
    ingest(FORGED + _reply(ticket))
    client = Client()
    client.force_login(personas.admin)
    listing = client.get("/admin/mail/inboundmessage/?authentication__exact=fail")
    assert listing.status_code == 200
    assert "⚠ FAILED AUTHENTICATION" in listing.content.decode()
    form = client.get(f"/admin/mail/mailbox/{trusting.pk}/change/")
    assert b"trusted_authserv_ids" in form.content


def test_the_workspace_timeline_flags_unauthenticated_email(
    personas, trusting, ticket, ingest, api_as
):
    forged = ingest(FORGED + _reply(ticket, body="Accepted after a phone call."))
    api_as(personas.agent_desk).post(f"mail/held/{forged.pk}/accept", json={})
    ingest(PASSED + RECEIVED + _reply(ticket, body="Signed and sealed."))
    client = Client()
    client.force_login(personas.lead_desk)
    page = client.get(f"/desk/t/{ticket.reference}/part/timeline/").content.decode()
    entries = page.split('<li class="timeline-entry')[1:]
    flagged = [e for e in entries if ">Unauthenticated</span>" in e]
    assert len(flagged) == 1 and "Accepted after a phone call." in flagged[0]
    assert any("Signed and sealed." in e and "Unauthenticated" not in e for e in entries)
