"""Read header values from real-world mail without ever raising.

Values are taken raw (``Message.raw_items``) and decoded here, so that encoded words in unknown
charsets, raw 8-bit bytes and broken syntax degrade to readable text instead of exceptions.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from servio.mail.charsets import decode_bytes

logger = logging.getLogger(__name__)

MAX_MESSAGE_ID = 998  # the RFC 5322 line limit
MAX_REFERENCES = 100
MAX_HEADER_TEXT = 16 * 1024  # characters of an unstructured header that are decoded
_STRICT_ADDRESS_LIMIT = 4096
_SURROGATE = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,998})>")


def raw_items(message: Message) -> list[tuple[str, str]]:
    """All ``(name, raw value)`` header pairs, in order; empty when unreadable."""
    try:
        return [(str(key), str(value)) for key, value in message.raw_items()]
    except Exception:
        return []


def raw_values(message: Message, name: str) -> list[str]:
    """All raw values of header ``name`` (case-insensitive), in order."""
    wanted = name.lower()
    return [value for key, value in raw_items(message) if key.lower() == wanted]


def clean_header(text: str) -> str:
    """Collapse folding and whitespace runs to single spaces; drop control characters."""
    return _CONTROL.sub("", " ".join(text.split())).strip()


def decode_header_text(raw: str) -> str:
    """Decode an unstructured header value: RFC 2047 encoded words and raw 8-bit bytes."""
    text = raw[:MAX_HEADER_TEXT]  # the stdlib's encoded-word regex is quadratic on junk
    if _SURROGATE.search(text):
        # 8-bit bytes the parser kept as surrogates: decode them with the charset fallback chain.
        text = decode_bytes(text.encode("utf-8", "surrogateescape"))
    if "=?" in text:
        try:
            text = "".join(
                _decoded_word(word, charset, text) for word, charset in decode_header(text)
            )
        except Exception:  # a broken encoded word stays as written
            logger.debug("undecodable encoded word in %r", raw, exc_info=True)
    return clean_header(text)


def _decoded_word(word: bytes | str, charset: str | None, original: str) -> str:
    if isinstance(word, str):
        return word
    if charset is None:
        # decode_header turns unencoded runs into raw-unicode-escape bytes.
        if all(ord(ch) < 256 for ch in original):
            return word.decode("latin-1")
        return word.decode("raw-unicode-escape", "replace")
    return decode_bytes(word, charset)


def header_text(message: Message, name: str) -> str | None:
    """The decoded text of the first ``name`` header, or None when there is none."""
    values = raw_values(message, name)
    return decode_header_text(values[0]) if values else None


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, lower-cased address)`` pairs of an address header; empty when unusable."""
    values = raw_values(message, name)
    if not values:
        return []
    found: list[tuple[str, str]] = []
    # The policy's strict parser is slow on huge lists and loses raw 8-bit bytes: use the
    # lenient parser for those.
    lenient = any(
        _SURROGATE.search(value) or len(value) > _STRICT_ADDRESS_LIMIT for value in values
    )
    try:
        for header_value in () if lenient else message.get_all(name) or ():
            for address in getattr(header_value, "addresses", ()):
                found.append((clean_header(address.display_name), address.addr_spec))
    except Exception:
        found = []
    if not found or any("\ufffd" in display for display, _ in found):
        # Raw 8-bit bytes, a strict-parser failure, or undecodable words: parse decoded text.
        try:
            found = [
                (decode_header_text(display), address)
                for display, address in getaddresses([undo_8bit(value) for value in values])
            ]
        except Exception:
            found = []
    result = []
    for display, address in found:
        cleaned = _clean_address(address)
        if cleaned:
            result.append((clean_header(display), cleaned))
    return result


def undo_8bit(raw: str) -> str:
    """Decode raw 8-bit bytes kept as surrogates; encoded words are left for later."""
    if _SURROGATE.search(raw):
        return decode_bytes(raw.encode("utf-8", "surrogateescape"))
    return raw


def _clean_address(address: str) -> str:
    """Lower-cased, without folding whitespace or brackets. Other control characters become
    U+FFFD (storable anywhere), so that the intake refuses such an address
    (servio.mail.addresses) instead of reading a different one (`rit\x01a@` is not `rita@`)."""
    return _CONTROL.sub("\ufffd", "".join(address.split())).strip("<>").lower()


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a Date header, or None when it cannot be read."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" means "UTC, origin unknown"
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a Message-ID/In-Reply-To/References value, without angle brackets."""
    if not value:
        return []
    value = _CONTROL.sub("", value.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    found = _MESSAGE_ID.findall(value)
    if not found:  # some mailers omit the brackets; a stray one inside a token is dropped too
        found = [token.replace("<", "").replace(">", "").strip(",;") for token in value.split()]
    return [item for item in dict.fromkeys(item[:MAX_MESSAGE_ID] for item in found) if item]


def first_message_id(message: Message, name: str) -> str | None:
    """The first Message-ID in header ``name``."""
    values = raw_values(message, name)
    ids = message_ids(values[0]) if values else []
    return ids[0] if ids else None


def references(message: Message) -> list[str]:
    """The References chain, oldest first; bounded to the root plus the most recent entries."""
    found: dict[str, None] = {}
    for value in raw_values(message, "references"):
        found.update(dict.fromkeys(message_ids(value)))
    ids = list(found)
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ids
