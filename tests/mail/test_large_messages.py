"""Large messages: the parser keeps big encoded bodies out of the standard library's line
reader (servio.mail.blobs), so that ingesting a 40 MB message peaks well under three times its
size in memory; what comes out is byte for byte what was sent."""

from __future__ import annotations

import random
import tracemalloc
from email.message import EmailMessage

import pytest

from servio.mail import services
from servio.mail.blobs import MIN_RUN, skeleton
from servio.mail.parsing import parse_message


def _message(content: bytes, *, linesep: str = "\n", filename: str = "dump.bin") -> bytes:
    msg = EmailMessage()
    msg["From"] = "rita@acme.example"
    msg["To"] = "servicedesk@provider.example"
    msg["Subject"] = "Memory dump"
    msg.set_content("Dump attached.")
    msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes(policy=msg.policy.clone(linesep=linesep))


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
@pytest.mark.parametrize("extra", [0, 1, 2, 57, 100])  # the last base64 line's length varies
def test_a_large_attachment_comes_out_intact(linesep, extra):
    content = random.Random(extra).randbytes(MIN_RUN + 4096 + extra)
    raw = _message(content, linesep=linesep)
    small, blobs = skeleton(raw)
    assert len(blobs.spans) == 1 and len(small) < 2000
    parsed = parse_message(raw)
    (attachment,) = parsed.attachments
    assert attachment.content == content and attachment.filename == "dump.bin"
    assert parsed.reply_text == "Dump attached." and not parsed.defects


def test_a_forwarded_message_keeps_its_large_attachment():
    content = random.Random(5).randbytes(MIN_RUN * 2)
    inner = _message(content)
    raw = (
        b"From: carl@acme.example\nSubject: Fwd: Memory dump\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=OUT\n\n--OUT\nContent-Type: text/plain\n\n"
        b"See the forwarded mail.\n--OUT\nContent-Type: message/rfc822\n\n" + inner + b"\n--OUT--\n"
    )
    parsed = parse_message(raw)
    eml = next(a for a in parsed.attachments if a.content_type == "message/rfc822")
    assert b"servio-blob" not in eml.content
    (again,) = parse_message(eml.content).attachments
    assert again.content == content
    assert parsed.forwarded is not None and parsed.forwarded.subject == "Memory dump"


def test_a_run_with_bad_padding_decodes_what_is_there():
    body = b"QUJD" * 19 + b"\n"  # "ABC" * 19 per line
    raw = (
        b"From: a@example.com\nSubject: x\nMIME-Version: 1.0\n"
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + body * (MIN_RUN // len(body) + 10)
        + b"QQ\n"  # a truncated last group
    )
    assert len(skeleton(raw)[1].spans) == 1
    (attachment,) = parse_message(raw).attachments
    assert attachment.content == b"ABC" * 19 * (MIN_RUN // len(body) + 10) + b"A"


def _peak(fn) -> tuple[object, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_parsing_a_large_message_allocates_about_its_size():
    raw = _message(random.Random(1).randbytes(8 * 1024 * 1024))
    parsed, peak = _peak(lambda: parse_message(raw))
    assert parsed.attachments[0].size == 8 * 1024 * 1024
    assert peak < 1.5 * len(raw), f"{peak / len(raw):.2f}x the message size"


@pytest.mark.django_db
def test_ingesting_a_40_mb_message_peaks_under_three_times_its_size(personas, mailbox, settings):
    settings.SERVIO_ATTACHMENT_MAX_BYTES = settings.SERVIO_TICKET_ATTACHMENTS_MAX_BYTES = 64 << 20
    raw = _message(random.Random(2).randbytes(30 * 1024 * 1024), filename="disk.img")
    assert len(raw) > 40_000_000
    message, peak = _peak(lambda: services.inbound_ingest(raw=raw, mailbox=mailbox))
    assert message.status == "ticket_created", message.reason
    assert message.ticket.attachments.get().size == 30 * 1024 * 1024
    # Python's allocations on top of the message itself: the message plus at most twice its
    # size more is the "3x" of the issue (measured: about 1x; bench.mail_memory gives RSS).
    assert peak < 2 * len(raw), f"{peak / len(raw):.2f}x the message size"
