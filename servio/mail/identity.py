"""What makes two deliveries the same message: its Message-ID and a hash of its content.

A Message-ID is chosen by the sender, so another message can carry one we already have (a
broken mailer, or on purpose). The intake therefore keys stored messages by the Message-ID *and*
`content_hash`: the body and the headers that say what the message is (From, To, Subject, Date,
the threading and MIME headers), without the trace headers that every hop adds (Received,
Delivered-To, Return-Path, Authentication-Results, ...) and with line endings normalised. The
same message delivered by the MTA pipe and fetched over IMAP, or received again through another
relay, hashes the same; another message that reuses the Message-ID does not.

Only the header block is parsed (never the body), and the body is hashed in slices of the raw
bytes, so neither function copies a large message.
"""

from __future__ import annotations

import hashlib
import re

from servio.mail import headers as hdr

SYNTHETIC_ID_DOMAIN = "message-id.servio.invalid"
MAX_HEAD = 1024 * 1024  # a header block longer than this is read (and hashed) this far only
_CHUNK = 1024 * 1024
_FIELD_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]+$")
# Headers that say what the message is; trace headers (added on the way) are left out.
CONTENT_HEADERS = (
    "from", "sender", "reply-to", "to", "cc", "subject", "date", "in-reply-to", "references",
    "mime-version", "content-type", "content-transfer-encoding",
)  # fmt: skip


def body_offset(raw: bytes) -> tuple[int, int]:
    """(start of the header block, start of the body) in `raw`; the body is empty when there is
    no blank line. The start skips a UTF-8 byte-order mark and leading blank lines, as the
    parser does."""
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    while raw.startswith(b"\n", start) or raw.startswith(b"\r\n", start):
        start += 1 if raw[start] == 0x0A else 2
    ends = [
        (index, index + len(separator))
        for separator in (b"\r\n\r\n", b"\n\n", b"\n\r\n")
        if (index := raw.find(separator, start, start + MAX_HEAD)) >= 0
    ]
    if not ends:
        return start, min(len(raw), start + MAX_HEAD)
    return start, min(ends)[1]


def head_of(raw: bytes) -> bytes:
    """The header block of a raw message (without the body)."""
    start, body = body_offset(raw)
    return raw[start:body]


def header_fields(raw: bytes) -> list[tuple[str, str]]:
    """The (name, value) header fields of a raw message, in order, values unfolded; read as the
    parser reads them (a name is printable ASCII without a colon or space; the first line that
    is neither a field nor a continuation ends the header), without building a message."""
    fields: list[tuple[str, str]] = []
    for line in head_of(raw).splitlines():
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            if fields:
                last_name, last_value = fields[-1]
                more = line.strip().decode("ascii", "surrogateescape")
                fields[-1] = (last_name, f"{last_value} {more}")
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _FIELD_NAME.match(name):
            if fields or not line.startswith(b"From "):  # an mbox From_ line may come first
                break
            continue
        fields.append((name.decode("ascii"), value.strip().decode("ascii", "surrogateescape")))
    return fields


def peek_message_id(raw: bytes) -> str:
    """The Message-ID without parsing the body; the same synthetic id parse_message would give."""
    value = next((v for n, v in header_fields(raw) if n.lower() == "message-id"), None)
    ids = hdr.message_ids(value)
    return ids[0] if ids else f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_ID_DOMAIN}"


def content_hash(raw: bytes) -> str:
    """SHA-256 (hex) of what the message says: its content headers and its body."""
    digest = hashlib.sha256()
    _, body = body_offset(raw)
    for name, value in header_fields(raw):
        if name.lower() in CONTENT_HEADERS:
            line = f"{name.lower()}:{' '.join(value.split())}\n"
            digest.update(line.encode("utf-8", "surrogateescape"))
    digest.update(b"\n")
    end = len(raw)
    while end > body and raw[end - 1] in b"\r\n \t":  # trailing blank lines are transport
        end -= 1
    view = memoryview(raw)
    carry = b""
    for offset in range(body, end, _CHUNK):
        chunk = carry + bytes(view[offset : min(offset + _CHUNK, end)])
        carry = b"\r" if chunk.endswith(b"\r") and offset + _CHUNK < end else b""
        if carry:
            chunk = chunk[:-1]
        digest.update(chunk.replace(b"\r\n", b"\n"))
    digest.update(carry)
    return digest.hexdigest()
