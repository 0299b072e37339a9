"""Mail goes out with no database transaction open (issue 13, item 5; decision 24).

The SMTP server here is real (aiosmtpd on 127.0.0.1). While it holds each message it writes to
Servio's database from a connection of its own, as any API request would: when delivery held a
transaction (and so, on SQLite, the write lock) through the SMTP conversation, that write failed.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import pytest
from django.core import mail as django_mail
from django.db import connection, transaction

from servio.accounts.services import password_reset_request
from servio.core import network, outbox
from servio.core.models import JobState, OutboxMessage, ProcessedEvent
from servio.mail import outbound
from servio.mail.models import OutboundMessage, OutboundStatus
from servio.tickets.services import ticket_create
from tests.mail.servers import SmtpCollector, send_through, smtp_running

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class WritingSmtp(SmtpCollector):
    """Accepts mail; before answering DATA, writes a row through a connection of its own."""

    writes: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        self.writes.append(await loop.run_in_executor(None, self._write))
        return await super().handle_DATA(server, session, envelope)

    @staticmethod
    def _write() -> str:
        try:
            with transaction.atomic():
                JobState.objects.create(name=f"written-during-smtp-{uuid.uuid4()}")
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        return "ok"


@pytest.fixture
def registry_snapshot(monkeypatch):
    """The handler registry as it is; what a test registers is gone after it."""
    monkeypatch.setattr(outbox, "_handlers", dict(outbox._handlers))


@pytest.fixture
def writing_smtp(settings):
    server = WritingSmtp()
    with smtp_running(server) as port:
        send_through(settings, port)
        yield server


def test_other_writers_go_on_while_the_mail_server_holds_a_message(personas, writing_smtp):
    ticket = ticket_create(actor=personas.requester_acme, title="Printer on fire")
    outbox.drain()

    [sent] = writing_smtp.messages
    assert sent.rcpt_tos == ["rita@acme.example"]
    assert writing_smtp.writes == ["ok"], "a write waited on (or failed behind) mail delivery"
    queued = OutboundMessage.objects.get(ticket=ticket)
    assert queued.status == OutboundStatus.SENT
    assert sent.message["Message-ID"] == queued.message_id
    delivery = OutboxMessage.objects.get(handler="mail.deliver")
    assert (delivery.status, delivery.event_id) == ("delivered", queued.delivery_event_id)


def test_a_redelivered_send_is_recognised_by_its_event(personas, writing_smtp):
    """Sent, then the process died before recording the row delivered: nothing goes out twice."""
    ticket_create(actor=personas.requester_acme, title="Printer on fire")
    outbox.drain()
    queued = OutboundMessage.objects.get()
    row = OutboxMessage.objects.get(handler="mail.deliver")
    ProcessedEvent.objects.filter(event_id=row.event_id).delete()
    OutboxMessage.objects.filter(pk=row.pk).update(status="pending", attempts=0)

    outbox.drain()
    assert len(writing_smtp.messages) == 1
    assert OutboundMessage.objects.get(pk=queued.pk).status == OutboundStatus.SENT
    assert OutboxMessage.objects.get(pk=row.pk).status == "delivered"


def test_a_handler_that_mails_inside_its_transaction_fails_and_sends_nothing(
    personas, writing_smtp, registry_snapshot
):
    """The class of fault: a handler declared transactional that sends mail is refused at once,
    with a message saying to declare it external, instead of holding the database's locks."""
    ticket_create(actor=personas.requester_acme, title="Printer on fire")

    def misdeclared(event: outbox.Event) -> None:
        outbound.deliver(outbound_id=event.payload["outbound_id"])

    outbox.handler(outbound.OUTBOUND_TOPIC, name="mail.deliver")(misdeclared)  # not external
    outbox.drain()

    assert writing_smtp.messages == []
    row = OutboxMessage.objects.get(handler="mail.deliver")
    assert row.status == "pending" and row.attempts == 1
    assert "TransactionHeld: Sending mail inside a database transaction" in row.last_error
    queued_id = OutboundMessage.objects.get().pk
    with pytest.raises(network.TransactionHeld), transaction.atomic():
        outbound.deliver(outbound_id=queued_id)


def test_the_password_reset_email_goes_out_outside_transactions_and_is_retried(
    personas, writing_smtp, settings
):
    """It used to be sent inside the delivery transaction, and a failure was logged and dropped
    (Django's form swallows it): now it is retried, under a Message-ID taken from the event."""
    writing_smtp.fail_next = 1
    assert password_reset_request(email="rita@acme.example", client_ip="192.0.2.1")
    outbox.drain()
    row = OutboxMessage.objects.get(handler="accounts.password_reset_email")
    assert row.status == "pending" and "451" in row.last_error
    assert writing_smtp.messages == []

    OutboxMessage.objects.filter(pk=row.pk).update(available_at=row.created_at)
    outbox.drain()
    [sent] = writing_smtp.messages
    assert sent.rcpt_tos == ["rita@acme.example"]
    assert sent.message["Message-ID"] == (
        f"<reset.{row.event_id}.{personas.requester_acme.pk}@localhost>"
    )
    assert writing_smtp.writes == ["ok", "ok"]
    assert django_mail.outbox == []  # really over SMTP, not pytest-django's locmem backend
