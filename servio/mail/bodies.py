"""Walk a parsed MIME tree: collect the text and HTML bodies and the attachments.

The walk is our own (not ``get_body``/``iter_attachments``) so that it is bounded in depth and
part count, never raises on broken structure, and keeps everything that is not a body as an
attachment: nothing the sender sent is lost.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message

from servio.mail.blobs import Blobs
from servio.mail.blobs import payload as blob_payload
from servio.mail.charsets import decode_bytes, html_meta_charset
from servio.mail.filenames import clean_filename
from servio.mail.headers import (
    decode_header_text,
    header_text,
    raw_items,
    raw_values,
    undo_8bit,
)

logger = logging.getLogger(__name__)

MAX_DEPTH = 25
MAX_PARTS = 500
_BODY_TYPES = ("text/plain", "text/html")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SERIALISE_POLICY = policy.compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class ParsedAttachment:
    """One file carried by a message: inline image, document, forwarded message, winmail.dat."""

    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    content_id: str | None = None
    is_inline: bool = False


@dataclass
class CollectedParts:
    """What the walk found, before the bodies are finished off."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    embedded_messages: list[bytes] = field(default_factory=list)
    report_types: set[str] = field(default_factory=set)
    has_delivery_status: bool = False
    defects: set[str] = field(default_factory=set)
    parts_seen: int = 0
    blobs: Blobs = field(default_factory=Blobs)  # large bodies kept out of the parser


def normalise_text(text: str) -> str:
    """Unix newlines, no NUL or other control characters (tabs and newlines stay)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def collect_parts(message: Message, blobs: Blobs | None = None) -> CollectedParts:
    """Walk ``message`` and sort its leaves into bodies and attachments (``blobs``: the large
    bodies `servio.mail.blobs.skeleton` took out before parsing)."""
    out = CollectedParts(blobs=blobs or Blobs())
    _visit(message, 0, out)
    return out


def _visit(part: Message, depth: int, out: CollectedParts) -> None:
    if out.parts_seen >= MAX_PARTS:
        out.defects.add("TooManyParts")
        return
    out.parts_seen += 1
    try:
        _sort_part(part, depth, out)
    finally:  # decoding adds defects (bad base64 ...), so read them afterwards
        out.defects.update(type(defect).__name__ for defect in getattr(part, "defects", ()))


def _sort_part(part: Message, depth: int, out: CollectedParts) -> None:
    ctype = _content_type(part)
    maintype = ctype.split("/", 1)[0]
    if maintype == "message":
        _add_message_part(part, ctype, out)
        return
    if part.is_multipart():
        if depth >= MAX_DEPTH:
            out.defects.add("NestingTooDeep")
            return
        if ctype == "multipart/report":
            report_type = _param(part, "report-type")
            if report_type:
                out.report_types.add(report_type.lower())
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else ():
            if isinstance(sub, Message):
                _visit(sub, depth + 1, out)
        return
    disposition = _disposition(part)
    filename = _filename(part)
    if maintype == "multipart":
        # Declared multipart but the boundary is missing: keep the raw text as the body.
        out.plain.append(_decode_text(part, "text/plain", out))
        return
    if ctype in _BODY_TYPES and disposition != "attachment" and not filename:
        text = _decode_text(part, ctype, out)
        (out.plain if ctype == "text/plain" else out.html).append(text)
        return
    _add_attachment(part, ctype, disposition, filename, _payload_bytes(part, out), out)


def _add_message_part(part: Message, ctype: str, out: CollectedParts) -> None:
    if ctype == "message/delivery-status":
        out.has_delivery_status = True
    content = out.blobs.restore(_serialise_embedded(part))
    filename = _filename(part)
    if ctype in ("message/rfc822", "message/global"):
        out.embedded_messages.append(content)
        if not filename:
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            subject = _safe_get(inner_msg, "subject") if isinstance(inner_msg, Message) else ""
            filename = f"{subject}.eml" if subject else ""
    _add_attachment(part, ctype, _disposition(part), filename, content, out)


def _add_attachment(
    part: Message,
    ctype: str,
    disposition: str | None,
    filename: str | None,
    content: bytes,
    out: CollectedParts,
) -> None:
    index = len(out.attachments) + 1
    content_id = _content_id(part)
    is_inline = disposition == "inline" or (disposition is None and content_id is not None)
    out.attachments.append(
        ParsedAttachment(
            filename=clean_filename(filename, index=index, content_type=ctype),
            content_type=ctype,
            size=len(content),
            content=content,
            content_id=content_id,
            is_inline=is_inline,
        )
    )


def _decode_text(part: Message, ctype: str, out: CollectedParts) -> str:
    data = _payload_bytes(part, out)
    charset = _charset(part)
    if charset is None and ctype == "text/html":
        charset = html_meta_charset(data)
    return normalise_text(decode_bytes(data, charset))


def _payload_bytes(part: Message, out: CollectedParts) -> bytes:
    span = out.blobs.span_of(part.get_payload())
    if span is not None:
        return blob_payload(out.blobs, span, str(part.get("content-transfer-encoding", "")))
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # the stdlib decoders are lenient, but a broken part must not stop us
        logger.info("undecodable part payload", exc_info=True)
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _serialise_embedded(part: Message) -> bytes:
    """The bytes of a message/* part's payload (an .eml for message/rfc822)."""
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    chunks = []
    for sub in payload if isinstance(payload, list) else ():
        if not isinstance(sub, Message):
            continue
        try:
            chunks.append(sub.as_bytes(policy=_SERIALISE_POLICY))
        except Exception:  # the generator refuses some broken headers: write them as parsed
            logger.info("embedded message serialised raw", exc_info=True)
            chunks.append(_raw_bytes(sub, 0))
    return b"\r\n".join(chunks)


def _raw_bytes(message: Message, depth: int) -> bytes:
    """Last-resort serialisation: header lines as parsed, then the body as the parser kept it."""
    head = "".join(f"{name}: {value}\r\n" for name, value in raw_items(message))
    payload = message.get_payload()
    if isinstance(payload, list) and depth < MAX_DEPTH:
        boundary = (_param(message, "boundary") or "servio-raw-boundary").encode("ascii", "replace")
        body = b"".join(
            b"--" + boundary + b"\r\n" + _raw_bytes(sub, depth + 1) + b"\r\n"
            for sub in payload
            if isinstance(sub, Message)
        )
        body += b"--" + boundary + b"--\r\n"
    else:
        body = str(payload if isinstance(payload, str) else "").encode("utf-8", "surrogateescape")
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:
        return None
    return value.lower() if value else None


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    """The filename as sent: RFC 2231 (any charset), RFC 2047 words, or raw 8-bit bytes."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = raw_values(part, header)
        if not raw:
            continue
        # Read the parameter from the raw header (compat32), not the policy's decoded form, so
        # that RFC 2231 values in charsets the stdlib does not know still reach decode_bytes.
        shim = Message()
        try:
            # Raw 8-bit bytes (kept as surrogates) are decoded first: UTF-8 when they are valid
            # UTF-8, else the charset fallback chain. compat32 would turn each byte into U+FFFD.
            shim[header] = undo_8bit(raw[0])
            value = shim.get_param(param, header=header)
        except Exception:
            logger.info("unreadable %s parameter", param, exc_info=True)
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
            charset, _, text = value
            try:
                encoded = str(text).encode("latin-1")
            except UnicodeEncodeError:
                encoded = str(text).encode("utf-8", "surrogateescape")
            name = decode_bytes(encoded, charset)
        elif isinstance(value, str):
            name = decode_header_text(value)
        else:
            continue
        if name.strip():
            return name
    return None


def _content_id(part: Message) -> str | None:
    value = _safe_get(part, "content-id")
    value = value.strip().strip("<>").strip() if value else ""
    return value or None


def _safe_get(part: Message | None, name: str) -> str:
    if part is None:
        return ""
    return header_text(part, name) or ""
