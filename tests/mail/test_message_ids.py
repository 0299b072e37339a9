"""A Message-ID is the sender's word: deliveries are the same message only when the Message-ID
*and* the content hash match. A different message reusing a Message-ID is stored and processed
(never dropped, never reported as the earlier ticket), and it cannot take over the threading of
the conversation the Message-ID belongs to."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from servio.mail import services
from servio.mail.models import InboundMessage, Mailbox
from servio.tickets.models import Ticket
from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db

MID = "<reused-1@client.example>"


def _deliver(*, raw: bytes, mailbox: Mailbox):
    return services.inbound_deliver(raw=raw, mailbox=mailbox)


def _command(raw: bytes) -> str:
    out = io.StringIO()
    call_command("mail", "ingest", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def test_the_same_message_again_is_a_duplicate_and_says_so(personas, mailbox):
    raw = make_email(sender="rita@acme.example", subject="Printer jam", message_id=MID)
    first = _command(raw)
    assert "ticket_created INC-" in first and "duplicate" not in first
    again = _command(raw)
    assert again.startswith(f"{mailbox.address}: message #")
    assert "duplicate" in again and "ticket_created INC-" in again
    assert InboundMessage.objects.count() == 1 and Ticket.objects.count() == 1


def test_trace_headers_and_line_endings_do_not_make_another_message(personas, mailbox, ingest):
    raw = make_email(sender="rita@acme.example", subject="Printer jam", message_id=MID)
    relayed = (
        b"Received: from relay2.provider.example by mx.provider.example; Mon, 7 Dec 2026\r\n"
        b"Delivered-To: servicedesk@provider.example\r\n"
        b"Authentication-Results: mx.provider.example; spf=pass\r\n" + raw
    )
    as_lf = raw.replace(b"\r\n", b"\n") + b"\n\n"
    from servio.mail.identity import content_hash

    assert content_hash(relayed) == content_hash(raw) == content_hash(as_lf)
    delivered = [_deliver(raw=r, mailbox=mailbox) for r in (raw, relayed, as_lf)]
    assert [d.duplicate for d in delivered] == [False, True, True]
    assert InboundMessage.objects.count() == 1 and Ticket.objects.count() == 1


def test_a_reused_message_id_with_other_content_is_stored_and_processed(personas, mailbox, ingest):
    first = ingest(make_email(sender="rita@acme.example", subject="Printer jam", message_id=MID))
    other = make_email(
        sender="gina@globex.example",
        subject="Please reset my password",
        body="A different message.",
        message_id=MID,
    )
    out = _command(other)
    assert "duplicate" not in out and "ticket_created" in out, out
    second = InboundMessage.objects.exclude(pk=first.pk).get()
    assert bytes(second.raw) == other  # its bytes are stored
    assert second.message_id == first.message_id and second.content_hash != first.content_hash
    assert second.status == "ticket_created" and second.ticket != first.ticket
    assert second.ticket.requester == personas.requester_globex
    assert second.ticket.title == "Please reset my password"
    assert f"already used by message #{first.pk}" in second.reason
    assert f"already used by message #{first.pk}" in out
    # Its own second delivery is a duplicate of it, not of the first message.
    again = _deliver(raw=other, mailbox=mailbox)
    assert again.duplicate and again.message.pk == second.pk


def test_a_reused_message_id_does_not_take_over_the_thread(personas, mailbox, ingest):
    original = ingest(make_email(sender="rita@acme.example", subject="VPN", message_id=MID))
    hijack = ingest(make_email(sender="gina@globex.example", subject="Mine", message_id=MID))
    assert hijack.ticket != original.ticket
    reply = ingest(
        make_email(
            sender="rita@acme.example", subject="Re: VPN", body="Still broken.", in_reply_to=MID
        )
    )
    assert reply.status == "comment_added" and reply.ticket == original.ticket


def test_another_mailbox_ignores_only_the_same_message(personas, mailbox, ingest):
    other = Mailbox.objects.create(address="it@provider.example", default_team=personas.team_desk)
    raw = make_email(sender="rita@acme.example", subject="Both", message_id=MID, to="x@y.example")
    first = ingest(raw)
    same = ingest(raw, into=other)
    assert same.status == "ignored" and same.ticket == first.ticket
    different = ingest(
        make_email(sender="carl@acme.example", subject="Not the same", message_id=MID),
        into=other,
    )
    assert different.status == "ticket_created" and different.ticket != first.ticket
    assert Ticket.objects.count() == 2


def test_the_peeked_message_id_is_the_parsers_for_every_corpus_message():
    from servio.mail.identity import peek_message_id
    from servio.mail.parsing import MessageParseError, parse_message
    from tests.mail.conftest import CORPUS

    for path in sorted(CORPUS.glob("*.eml")):
        raw = path.read_bytes()
        try:
            parsed = parse_message(raw)
        except MessageParseError:
            continue
        assert peek_message_id(raw) == parsed.message_id, path.name
