"""Parse raw inbound email into a ParsedMessage: the one entry point of the mail intake.

``parse_message`` never raises for something that is an email, however broken: every stage
degrades (unknown charsets are guessed, broken MIME is read as far as it goes, a failing stage
falls back to the raw text). It raises ``MessageParseError`` only when the bytes are not an email
at all: empty, or without any header a message has.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser

from servio.mail import headers as hdr
from servio.mail import mailpolicy
from servio.mail.blobs import Blobs
from servio.mail.blobs import skeleton as blob_skeleton
from servio.mail.bodies import (
    CollectedParts,
    ParsedAttachment,
    collect_parts,
    normalise_text,
)
from servio.mail.charsets import decode_bytes
from servio.mail.classify import Classification, classify, ticket_ref
from servio.mail.htmltext import html_to_text, sanitize_html
from servio.mail.identity import SYNTHETIC_ID_DOMAIN
from servio.mail.quotes import ForwardedInfo, detect_forward, extract_reply

__all__ = [
    "ForwardedInfo",
    "MessageParseError",
    "ParsedAttachment",
    "ParsedMessage",
    "parse_message",
]

logger = logging.getLogger(__name__)

_MAX_EMBEDDED_DEPTH = 2  # a forward of a forward is parsed; deeper ones stay attachments
# At least one of these must be present for bytes to count as an email.
_EMAIL_HEADERS = {
    "from",
    "sender",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "delivered-to",
    "reply-to",
    "in-reply-to",
    "references",
    "mime-version",
}


class MessageParseError(ValueError):
    """The bytes are not an email at all (empty, or no headers)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedMessage:
    """An inbound email reduced to what the service desk needs; all text is clean Unicode."""

    message_id: str
    message_id_synthesised: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str
    from_name: str
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    text_body: str
    html_body: str | None
    attachments: tuple[ParsedAttachment, ...]
    is_auto_reply: bool
    auto_reason: str | None
    is_bounce: bool
    is_list_mail: bool
    ticket_ref: str | None
    reply_text: str
    forwarded: ForwardedInfo | None
    defects: tuple[str, ...]

    @property
    def thread_message_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers, most specific first (In-Reply-To, then newest ref)."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids.extend(reversed(self.references))
        return tuple(dict.fromkeys(ids))

    @property
    def suppress_autoresponse(self) -> bool:
        """True when the intake must not send an automatic acknowledgement (RFC 3834)."""
        return self.is_auto_reply or self.is_bounce or self.is_list_mail


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raise MessageParseError only when they are not an email."""
    return _parse(bytes(raw), depth=0)


def _parse(raw: bytes, *, depth: int) -> ParsedMessage:
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    if not data.strip():
        raise MessageParseError("empty message")
    skeleton, blobs = blob_skeleton(data)
    message, structured = _read(skeleton)
    names = {key.lower() for key, _ in hdr.raw_items(message)}
    if not names & _EMAIL_HEADERS:
        raise MessageParseError("no email headers found")
    try:
        return _build(message, raw, data, depth=depth, structured=structured, blobs=blobs)
    except Exception:  # a bug in one stage must not lose the message: keep headers and raw text
        logger.exception("mail parsing failed; falling back to headers and raw text")
        headers_only = BytesHeaderParser(policy=mailpolicy.POLICY).parsebytes(data)
        return _build(headers_only, raw, data, depth=depth, structured=False)


def _read(data: bytes) -> tuple[Message, bool]:
    """Parse the MIME structure; on a parser failure, parse the headers alone."""
    try:
        return BytesParser(policy=mailpolicy.POLICY).parsebytes(data), True
    except Exception:  # e.g. RecursionError on absurd nesting
        logger.warning("MIME parsing failed; reading headers only", exc_info=True)
        return BytesHeaderParser(policy=mailpolicy.POLICY).parsebytes(data), False


def _build(
    message: Message,
    raw: bytes,
    data: bytes,
    *,
    depth: int,
    structured: bool,
    blobs: Blobs | None = None,
) -> ParsedMessage:
    message_id = hdr.first_message_id(message, "message-id")
    synthesised = message_id is None
    if message_id is None:
        message_id = f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_ID_DOMAIN}"
    subject = hdr.header_text(message, "subject") or ""
    sender = (
        hdr.addresses(message, "from")
        or hdr.addresses(message, "sender")
        or hdr.addresses(message, "return-path")
    )
    from_name, from_address = sender[0] if sender else ("", "")
    reply_to = hdr.addresses(message, "reply-to")

    parts = _collect(message, data, structured, blobs)
    text_body = "\n".join(parts.plain).strip("\n")
    html_source = "\n".join(parts.html)
    html_body = sanitize_html(html_source).strip() if html_source.strip() else None
    html_body = html_body or None
    if not text_body and html_body:
        text_body = html_to_text(html_body)

    classification = _classify(message, from_address, subject, parts)
    forwarded = _forwarded(text_body, subject, parts, classification, depth)
    return ParsedMessage(
        message_id=message_id,
        message_id_synthesised=synthesised,
        in_reply_to=hdr.first_message_id(message, "in-reply-to"),
        references=tuple(hdr.references(message)),
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to[0][1] if reply_to else None,
        to=tuple(address for _, address in hdr.addresses(message, "to")),
        cc=tuple(address for _, address in hdr.addresses(message, "cc")),
        date=hdr.parse_date(hdr.header_text(message, "date")),
        text_body=text_body,
        html_body=html_body,
        attachments=tuple(parts.attachments),
        is_auto_reply=classification.is_auto_reply,
        auto_reason=classification.reason,
        is_bounce=classification.is_bounce,
        is_list_mail=classification.is_list_mail,
        ticket_ref=ticket_ref(subject),
        reply_text=_reply_text(text_body),
        forwarded=forwarded,
        defects=tuple(sorted(parts.defects)),
    )


def _collect(
    message: Message, data: bytes, structured: bool, blobs: Blobs | None
) -> CollectedParts:
    if structured:
        try:
            return collect_parts(message, blobs)
        except Exception:
            logger.warning("MIME walk failed; using the raw body as text", exc_info=True)
    parts = CollectedParts(defects={"UnparsedBody"})
    body = data.replace(b"\r\n", b"\n").partition(b"\n\n")[2]
    parts.plain.append(normalise_text(decode_bytes(body)))
    return parts


def _classify(
    message: Message, from_address: str, subject: str, parts: CollectedParts
) -> Classification:
    try:
        content_type = message.get_content_type().lower()
    except Exception:
        content_type = "text/plain"
    try:
        return classify(
            header=lambda name: hdr.header_text(message, name),
            from_address=from_address,
            subject=subject,
            content_type=content_type,
            report_types=parts.report_types,
            has_delivery_status=parts.has_delivery_status,
        )
    except Exception:
        logger.warning("auto-reply classification failed", exc_info=True)
        return Classification()


def _reply_text(text_body: str) -> str:
    try:
        return extract_reply(text_body)
    except Exception:
        logger.warning("reply extraction failed; using the whole body", exc_info=True)
        return text_body


def _forwarded(
    text_body: str,
    subject: str,
    parts: CollectedParts,
    classification: Classification,
    depth: int,
) -> ForwardedInfo | None:
    if classification.is_bounce:
        return None  # a bounce carries the original message, but it forwards nothing
    if parts.embedded_messages and depth < _MAX_EMBEDDED_DEPTH:
        try:
            inner = _parse(parts.embedded_messages[0], depth=depth + 1)
        except MessageParseError:
            inner = None
        if inner is not None:
            return ForwardedInfo(
                kind="attachment",
                from_address=inner.from_address,
                from_name=inner.from_name,
                subject=inner.subject,
                date=inner.date.isoformat() if inner.date else None,
                text=inner.text_body,
            )
    return detect_forward(text_body, subject)
