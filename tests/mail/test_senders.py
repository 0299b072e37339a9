"""Sender addresses are validated (length and syntax) before anything is looked up or an
account created, with the same outcome on SQLite and PostgreSQL; attachments keep names sent
as raw UTF-8."""

from __future__ import annotations

import pytest

from servio.accounts.models import User
from servio.mail.models import InboundMessage
from servio.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db

INVALID = [
    ("a" * 65 + "@acme-new.example", "local part"),
    ("x@" + "d" * 64 + ".example", "domain"),
    ("x@" + ".".join(["d" * 60] * 5) + ".example", "characters long"),
    ("u" * 60 + "@" + ".".join(["d" * 60] * 4) + ".ex", "at most 254"),
    ("nobody.example", "has no @"),
    ("nul\x00byte@acme-new.example", "control characters"),
    ("rit\ufffda@acme.example", "undecodable bytes"),
    ("bell\x07@acme-new.example", "control characters"),
    ('"quoted person"@acme-new.example', "quoted"),
    ("back\\slash@acme-new.example", "quoted or escaped"),
    ("a..b@acme-new.example", "misplaced dot"),
    (".a@acme-new.example", "misplaced dot"),
    ("a@localhost", "no dot"),
    ("a@-bad-.example", "not a valid domain"),
    ("a@under_score.example", "not a valid domain"),
    ("a@[192.0.2.1]", "address literal"),
    ("a@192.0.2.1", "ends in a number"),
]
# Only as values: in a From header the parser reads them otherwise (a comment, no address).
UNPARSED = [("a(b)c@acme-new.example", "character"), ("@acme-new.example", "nothing before")]
VALID = [
    "o'brien+desk@acme-new.example",
    "jürgen.müller@firma-neu.example",
    "info@bücher.example",
    "x@sub.domain.acme-new.example",
    "a" * 64 + "@acme-new.example",
]


@pytest.mark.parametrize(("address", "why"), INVALID + UNPARSED)
def test_invalid_addresses_are_named(address, why):
    from servio.mail.addresses import address_problem

    problem = address_problem(address)
    assert problem is not None and why in problem, problem
    assert "\x00" not in problem and "\x07" not in problem


@pytest.mark.parametrize("address", VALID)
def test_valid_addresses_pass(address):
    from servio.mail.addresses import address_problem

    assert address_problem(address) is None


def _raw(address: bytes, subject: bytes = b"Help") -> bytes:
    return (
        b"From: " + address + b"\r\nTo: servicedesk@provider.example\r\nSubject: " + subject
        + b"\r\nMessage-ID: <" + subject.replace(b" ", b"-") + b"@client.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nSomething is broken.\r\n"
    )  # fmt: skip


@pytest.mark.parametrize(("address", "why"), INVALID)
def test_an_invalid_sender_is_quarantined_before_any_account(
    personas, mailbox, ingest, address, why
):
    header = address.encode("utf-8")
    if address.startswith('"'):
        header = b"<" + header + b">"
    message = ingest(_raw(header, subject=f"Case {INVALID.index((address, why))}".encode()))
    assert message.status == "quarantined", (message.status, message.reason)
    assert why in message.reason and "No account is created" in message.reason
    assert "\x00" not in message.from_address and "\x00" not in message.reason
    assert User.objects.count() == 8  # the personas only
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("address", VALID)
def test_a_valid_unknown_sender_becomes_a_requester(personas, mailbox, ingest, address):
    message = ingest(_raw(address.encode("utf-8")))
    assert message.status == "ticket_created", message.reason
    assert message.ticket.requester.email == address


def test_a_raw_utf8_attachment_name_reaches_the_ticket(personas, mailbox, ingest):
    raw = (
        b"From: rita@acme.example\r\nTo: servicedesk@provider.example\r\nSubject: Invoice\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--XX\r\n"
        b'Content-Type: application/pdf; name="' + "Überweisung März.pdf".encode() + b'"\r\n'
        b"Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK\r\n--XX--\r\n"
    )
    message = ingest(raw)
    assert message.status == "ticket_created"
    assert [a.filename for a in Attachment.objects.filter(ticket=message.ticket)] == [
        "Überweisung März.pdf"
    ]
    assert InboundMessage.objects.count() == 1
