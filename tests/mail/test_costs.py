"""What one message costs: the intake's statements are pinned, so that a change that adds
queries to every email is a decision, not an accident (see docs/email.md, benchmark)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.mail.messages import make_email

pytestmark = pytest.mark.django_db

# Statements (savepoints and releases included: here the intake runs inside the test's
# transaction, so storing takes a savepoint of its own that a server's autocommitted INSERT
# does not) for: storing, locking, the configuration token, the rate limit and duplicate
# look-up (one statement), the sender, [threading,] the writes through the ORM (decision 27),
# the message's outcome, the audit append. Counted on SQLite, whose audit append takes two
# statements more than PostgreSQL's.
NEW_TICKET = 17
NEW_TICKET_NEW_SENDER = 18
REPLY = 21
IGNORED = 8


def statements(ingest, raw: bytes, status: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        message = ingest(raw)
    assert message.status == status, message.reason
    return [q["sql"] for q in ctx.captured_queries]


def test_statements_per_message(personas, mailbox, ingest):
    # Warm the caches (mailboxes, mail domains, priorities, SLA policies) as a running intake has.
    ingest(make_email(sender="rita@acme.example", subject="Warm-up"))
    ingest(make_email(sender="first@walk-in.example", subject="Warm-up"))

    new = make_email(sender="rita@acme.example", subject="Printer", message_id="<p@acme.example>")
    assert len(statements(ingest, new, "ticket_created")) <= NEW_TICKET
    new_sender = make_email(sender="second@walk-in.example", subject="Hello")
    assert len(statements(ingest, new_sender, "ticket_created")) <= NEW_TICKET_NEW_SENDER
    reply = make_email(sender="rita@acme.example", subject="Re: x", in_reply_to="<p@acme.example>")
    assert len(statements(ingest, reply, "comment_added")) <= REPLY
    automatic = make_email(
        sender="rita@acme.example", subject="Out", headers={"Auto-Submitted": "auto-replied"}
    )
    assert len(statements(ingest, automatic, "ignored")) <= IGNORED


def test_the_intake_writes_through_the_orm(personas, mailbox, ingest):
    """Storing and recording the outcome are `save()`s (decision 27): receivers see both."""
    from django.db.models.signals import post_save

    from servio.mail.models import InboundMessage

    seen: list[tuple[bool, str]] = []

    def after(sender, instance, created, **kwargs):
        seen.append((created, instance.status))

    post_save.connect(after, sender=InboundMessage, dispatch_uid="test-intake-orm")
    try:
        ingest(make_email(sender="rita@acme.example", subject="Printer"))
    finally:
        post_save.disconnect(sender=InboundMessage, dispatch_uid="test-intake-orm")
    assert seen == [(True, "received"), (False, "ticket_created")]
