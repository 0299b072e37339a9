"""Every corpus message through the intake: the expected ticket, comment, held reply, ignored
automatic mail or quarantine entry (tests/data/email/intake_expected.json), and a second
delivery of the same message changes nothing."""

from __future__ import annotations

import json

import pytest

from servio.core.models import OutboxMessage
from servio.mail.models import InboundMessage, OutboundMessage
from servio.mail.parsing import parse_message
from servio.tickets.models import Attachment, Comment, Ticket
from tests.mail import world
from tests.mail.conftest import CORPUS

pytestmark = pytest.mark.django_db

PARSING = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
INTAKE = json.loads((CORPUS / "intake_expected.json").read_text(encoding="utf-8"))


def test_every_corpus_file_has_an_intake_expectation():
    assert sorted(INTAKE) == sorted(p.name for p in CORPUS.glob("*.eml"))


def _counts():
    return (
        Ticket.objects.count(),
        Comment.objects.count(),
        Attachment.objects.count(),
        InboundMessage.objects.count(),
        OutboxMessage.objects.count(),
    )


@pytest.mark.parametrize("name", sorted(INTAKE))
def test_corpus_intake(name, personas, ingest, drain):
    spec, parsing = INTAKE[name], PARSING[name]
    the_world = world.build(personas)
    tickets_before = set(Ticket.objects.values_list("pk", flat=True))
    raw = (CORPUS / name).read_bytes()

    message = ingest(name)

    assert message.status == spec["outcome"], message.reason
    assert bytes(message.raw) == raw  # stored as received, before parsing
    for phrase in [spec.get("reason_contains")] if spec.get("reason_contains") else []:
        assert phrase in message.reason
    new_tickets = Ticket.objects.exclude(pk__in=tickets_before)
    outcome = spec["outcome"]
    if outcome == "ticket_created":
        ticket = message.ticket
        assert list(new_tickets) == [ticket]
        assert ticket.source == "email"
        assert (
            ticket.requester.email
            == message.from_address
            == parsing.get("from_address", message.from_address)
        )
        assert ticket.team == personas.team_desk
        if "title" in spec:
            assert ticket.title == spec["title"]
        phrases = spec.get("description_contains") or parsing.get("reply_contains", [])
        for phrase in phrases:
            assert phrase in ticket.description
        for phrase in spec.get("description_excludes", []):
            assert phrase not in ticket.description
        if "attachments" in spec:
            names = list(ticket.attachments.order_by("pk").values_list("filename", flat=True))
            assert names == spec["attachments"]
    elif outcome == "comment_added":
        assert not new_tickets.exists()
        comment = message.comment
        assert comment.ticket == the_world.tickets[spec["ticket"]] == message.ticket
        assert comment.source == "email" and not comment.is_internal
        assert comment.author.email == message.from_address
        assert comment.inbound_message == message  # the full body is linked from the comment
        for phrase in parsing.get("reply_contains", []):
            assert phrase in comment.body
        for phrase in parsing.get("reply_excludes", []):
            assert phrase not in comment.body
        assert message.text_body == parse_message(raw).text_body
    elif outcome == "held":
        assert not new_tickets.exists()
        assert message.ticket == the_world.tickets[spec["ticket"]]
        assert message.comment is None
        assert not message.ticket.comments.exists()
    else:  # ignored, quarantined
        assert not new_tickets.exists()
        assert message.comment is None
        assert not Comment.objects.exists()

    # A second delivery of the same message changes nothing.
    before = _counts()
    again = ingest(name)
    assert again.pk == message.pk and again.status == message.status
    assert _counts() == before

    # Automatic mail never gets an answer; list mail is not acknowledged either.
    drain()
    if outcome in ("ignored", "quarantined", "held"):
        assert not OutboundMessage.objects.filter(recipient=message.from_address).exists()
    if outcome == "ticket_created":
        acks = OutboundMessage.objects.filter(template="ticket_created", ticket=message.ticket)
        assert acks.count() == (0 if spec.get("acknowledged") is False else 1)
