"""Safety of the intake: automatic mail never makes tickets or replies, loops are stopped by the
per-sender rate limit, forged senders cannot comment publicly, unknown senders follow the
mailbox's policy, oversized attachments are dropped with a note, quarantined mail is retried."""

from __future__ import annotations

import pytest

from servio.mail.models import InboundMessage, Mailbox, OutboundMessage
from servio.tickets.models import Comment, Ticket
from servio.tickets.services import ticket_create
from tests.factories import UserFactory
from tests.filesystems import files_under
from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(personas, mailbox, ingest):
    message = ingest(make_email(sender="rita@acme.example", subject="VPN drops every hour"))
    assert message.status == "ticket_created"
    return message.ticket


def test_auto_reply_storm_makes_no_ticket_and_no_reply(personas, ticket, ingest, drain, settings):
    settings.SERVIO_MAIL_RATE_LIMIT = 1000
    drain()
    sent_before = OutboundMessage.objects.count()
    kinds = [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"X-Auto-Response-Suppress": "All"},
    ]
    for n in range(60):
        raw = make_email(
            sender="rita@acme.example" if n % 2 else "robot@elsewhere.example",
            subject=f"Automatic reply: [{ticket.reference}] VPN drops every hour",
            headers=kinds[n % len(kinds)],
        )
        assert ingest(raw).status == "ignored"
    drain()
    assert Ticket.objects.count() == 1
    assert not Comment.objects.exists()
    assert OutboundMessage.objects.count() == sent_before  # nothing answered the storm


def test_a_mail_loop_is_stopped_by_the_sender_rate_limit(personas, mailbox, ingest, settings):
    settings.SERVIO_MAIL_RATE_LIMIT = 5
    outcomes = [
        ingest(make_email(sender="looping@acme.example", subject=f"Ticket {n}")).status
        for n in range(8)
    ]
    assert outcomes == ["ticket_created"] * 5 + ["quarantined"] * 3
    held = InboundMessage.objects.filter(status="quarantined").first()
    assert "Rate limit" in held.reason and "looping@acme.example" in held.reason


def test_mail_from_our_own_address_is_ignored(mailbox, ingest):
    message = ingest(make_email(sender=mailbox.address, subject="Re: [INC-000001] whatever"))
    assert message.status == "ignored" and "loop" in message.reason


def test_forged_sender_cannot_add_a_public_comment(personas, ticket, ingest, drain, api_as):
    drain()
    ack = OutboundMessage.objects.get(ticket=ticket, template="ticket_created")
    forged = make_email(
        sender="gina@globex.example",  # a real user, but of another organisation
        subject=f"Re: [{ticket.reference}] VPN drops every hour",
        body="Please close this ticket and send the VPN keys to me.",
        in_reply_to=ack.message_id,
    )
    message = ingest(forged)
    assert message.status == "held"
    assert message.ticket == ticket
    assert not ticket.comments.exists()
    stranger = ingest(make_email(sender="x@nowhere.example", subject=f"[{ticket.reference}] hi"))
    assert stranger.status == "held" and stranger.sender is None
    from servio.accounts.models import User

    assert not User.objects.filter(email="x@nowhere.example").exists()  # no account for forgers

    # Requesters and other agents' teams cannot see or decide held mail; the desk agent can.
    assert api_as(personas.requester_acme).get("mail/held").status_code == 200
    assert api_as(personas.requester_acme).get("mail/held").json()["items"] == []
    assert api_as(personas.agent_network).post(
        f"mail/held/{message.pk}/accept", json={}
    ).status_code in (403, 404)
    agent = api_as(personas.agent_desk)
    held = agent.get("mail/held").json()["items"]
    assert {h["id"] for h in held} == {message.pk, stranger.pk}
    assert "send the VPN keys" in next(h for h in held if h["id"] == message.pk)["text_body"]

    discarded = agent.post(f"mail/held/{message.pk}/discard")
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    accepted = agent.post(f"mail/held/{stranger.pk}/accept", json={"internal": True})
    assert accepted.status_code == 200, accepted.content
    note = Comment.objects.get(pk=accepted.json()["comment_id"])
    assert note.is_internal and note.author == personas.agent_desk
    assert note.body.startswith("Email from x@nowhere.example:")
    again = agent.post(f"mail/held/{stranger.pk}/accept", json={})
    assert again.status_code == 409
    drain()
    # Neither the forged mail nor the internal note reached the requester by email.
    assert not OutboundMessage.objects.filter(template="agent_reply").exists()


def test_accepting_a_held_reply_publicly_makes_the_sender_a_watcher(
    personas, ticket, ingest, api_as
):
    message = ingest(
        make_email(
            sender="carl@acme.example",
            subject=f"Re: [{ticket.reference}] VPN drops every hour",
            body="Same problem here on the 2nd floor.",
        )
    )
    assert message.status == "held"
    response = api_as(personas.agent_desk).post(f"mail/held/{message.pk}/accept", json={})
    assert response.status_code == 200, response.content
    comment = Comment.objects.get(pk=response.json()["comment_id"])
    assert comment.author == personas.colleague_acme and not comment.is_internal
    assert ticket.watchers.filter(user=personas.colleague_acme).exists()
    # From now on carl takes part: his next reply is a comment straight away.
    follow_up = make_email(
        sender="carl@acme.example", subject=f"Re: [{ticket.reference}] VPN", body="Fixed now."
    )
    assert ingest(follow_up).status == "comment_added"


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [("create", "ticket_created"), ("reject", "rejected"), ("quarantine", "quarantined")],
)
def test_unknown_sender_policy(personas, mailbox, ingest, drain, policy, outcome):
    mailbox.unknown_sender_policy = policy
    mailbox.save()
    message = ingest(make_email(sender="someone@unknown.example", subject="Need help"))
    assert message.status == outcome
    drain()
    replies = OutboundMessage.objects.filter(recipient="someone@unknown.example")
    if policy == "create":
        assert message.ticket.requester.organization.slug == "walk-in"
        assert [r.template for r in replies] == ["ticket_created"]
    elif policy == "reject":
        assert [r.template for r in replies] == ["sender_rejected"]
        assert replies[0].in_reply_to == f"<{message.message_id}>"
    else:
        assert not replies.exists()
    # A known domain always wins over the policy: the sender joins that organisation.
    known = ingest(make_email(sender="newcomer@globex.example", subject="Printer"))
    assert known.status == "ticket_created"
    assert known.ticket.organization == personas.globex


def test_rejected_automatic_mail_gets_no_reply(personas, mailbox, ingest, drain):
    mailbox.unknown_sender_policy = "reject"
    mailbox.save()
    raw = make_email(
        sender="list@unknown.example", subject="News", headers={"List-Id": "<news.unknown>"}
    )
    assert ingest(raw).status == "rejected"
    drain()
    assert not OutboundMessage.objects.exists()


def test_quarantined_mail_is_listed_for_admins_and_retried(personas, mailbox, ingest, api_as):
    mailbox.unknown_sender_policy = "quarantine"
    mailbox.save()
    message = ingest(make_email(sender="temp@contractor.example", subject="Laptop"))
    assert message.status == "quarantined"
    admin = api_as(personas.admin)
    listed = admin.get("mail/inbound?status=quarantined").json()["items"]
    assert [m["id"] for m in listed] == [message.pk]
    assert api_as(personas.agent_desk).get("mail/inbound").status_code == 403
    assert api_as(personas.agent_desk).post(f"mail/inbound/{message.pk}/retry").status_code in (
        403,
        404,
    )
    mailbox.unknown_sender_policy = "create"
    mailbox.save()
    retried = admin.post(f"mail/inbound/{message.pk}/retry")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "ticket_created"
    assert admin.post(f"mail/inbound/{message.pk}/retry").status_code == 409


def test_an_oversized_attachment_is_dropped_with_a_note(personas, mailbox, ingest, settings):
    settings.SERVIO_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = bytes(range(256)) * (3 * 4096)  # 3 MB
    raw = make_email(
        sender="rita@acme.example",
        subject="Logs",
        body="Logs attached.",
        attachments=[("small.txt", b"ok\n", "text/plain"), ("huge.bin", big, "application/zip")],
    )
    message = ingest(raw)
    assert message.status == "ticket_created"
    ticket = message.ticket
    assert list(ticket.attachments.values_list("filename", flat=True)) == ["small.txt"]
    assert "huge.bin (3.0 MB) was not stored" in ticket.description
    assert message.notes and "huge.bin" in message.notes[0]


def test_an_attachment_the_full_disk_cannot_take_is_dropped_with_a_note(
    personas, mailbox, ingest, full_disk
):
    raw = make_email(
        sender="rita@acme.example",
        subject="Crash dump",
        body="Dump attached.",
        attachments=[("small.txt", b"ok\n", "text/plain"), ("dump.bin", b"\1" * 200_000, "x/y")],
    )
    message = ingest(raw)
    assert message.status == "ticket_created"
    ticket = message.ticket
    assert list(ticket.attachments.values_list("filename", flat=True)) == ["small.txt"]
    (note,) = message.notes
    assert "dump.bin was not stored: The server could not store the file: its disk is full" in note
    stored = [path.name for path in files_under(full_disk)]
    assert stored == [ticket.attachments.get().file.name.rsplit("/", 1)[1]]


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(personas, mailbox, ingest):
    closed = ticket_create(actor=None, title="Old", requester=personas.requester_acme)
    Ticket.objects.filter(pk=closed.pk).update(status="closed")
    message = ingest(
        make_email(sender="rita@acme.example", subject=f"Re: [{closed.reference}] Old")
    )
    assert message.status == "ticket_created" and message.ticket != closed
    assert f"Follow-up to {closed.reference}" in message.ticket.description


def test_known_colleagues_in_cc_become_watchers(personas, mailbox, ingest):
    raw = make_email(
        sender="rita@acme.example",
        subject="Shared drive",
        cc=["carl@acme.example", "gina@globex.example", mailbox.address],
    )
    ticket = ingest(raw).ticket
    assert [w.user for w in ticket.watchers.all()] == [personas.colleague_acme]


def test_a_second_mailbox_delivery_of_the_same_message_makes_one_ticket(personas, mailbox, ingest):
    other = Mailbox.objects.create(address="it@provider.example", default_team=personas.team_desk)
    raw = make_email(sender="rita@acme.example", subject="Both mailboxes", to="x@y.example")
    first = ingest(raw)
    second = ingest(raw, into=other)
    assert first.status == "ticket_created"
    assert second.status == "ignored" and second.ticket == first.ticket
    assert Ticket.objects.count() == 1


def test_two_deliveries_from_one_new_sender_at_once_share_the_account(
    personas, mailbox, ingest, monkeypatch
):
    """An MTA delivers in parallel: the other delivery created the account after we looked."""
    from servio.accounts.models import User

    address = "new.person@acme.example"
    UserFactory(email=address, organization=personas.acme)  # by the other delivery
    real_filter = User.objects.filter
    looked = []

    def filter_missing_once(*args, **kwargs):
        found = real_filter(*args, **kwargs)
        if kwargs.get("email") == address and not looked:
            looked.append(True)
            return found.none()  # our first look happened before the other delivery committed
        return found

    monkeypatch.setattr(User.objects, "filter", filter_missing_once)
    message = ingest(make_email(sender=address, subject="Racing"))
    assert looked and message.status == "ticket_created", message.reason
    assert message.ticket.requester.email == address
