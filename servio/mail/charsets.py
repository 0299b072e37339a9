"""Turn the bytes of a mail part into text, whatever charset the sender claimed.

Real mail lies about its charset: ``us-ascii`` or ``utf-8`` labels on windows-1252 bytes, UTF-8
labelled ``iso-8859-1``, names no codec knows (``x-unknown``, ``unknown-8bit``). The chain below
never raises and always returns text:

1. stateful or wide encodings (``iso-2022-*``, ``utf-7``, ``utf-16``/``32``) are tried as declared
   first, because their bytes can look like plain ASCII;
2. pure ASCII bytes are ASCII;
3. bytes that are valid UTF-8 are UTF-8, whatever the label says (valid multi-byte UTF-8 is very
   unlikely to be anything else, and UTF-8 mislabelled as latin-1 is common);
4. the declared charset, widened to the superset real mailers mean (``iso-8859-1`` is decoded as
   windows-1252, ``gb2312`` as GB18030, ``shift_jis`` as cp932, ...);
5. a guess: windows-1252 when the result reads like Latin-script text, else charset-normalizer
   restricted to the common non-Latin code pages, else windows-1252 with replacement characters.
"""

from __future__ import annotations

import codecs
import logging
import re

from charset_normalizer import from_bytes

logger = logging.getLogger(__name__)

# Labels that mailers use for a narrower charset than the bytes they send (as WHATWG does).
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
# Charset names that codecs does not know but real mail uses.
_ALIASES = {
    "windows-874": "cp874",
    "iso-8859-8-i": "iso8859-8",
    "x-sjis": "cp932",
    "x-euc-jp": "euc_jp",
    "ms932": "cp932",
    "ansi_x3.4-1968": "ascii",
}
# Codecs that are not charsets, or that would turn text into something else.
_REFUSED = {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "charmap"}
# Decode these as declared before anything else: their bytes may be pure ASCII or non-UTF-8.
_DECLARED_FIRST_PREFIXES = ("iso2022", "utf-7", "hz", "utf-16", "utf-32")

# Non-Latin code pages charset-normalizer may choose from when the bytes do not read as Latin.
_NON_LATIN_CANDIDATES = [
    "koi8_r",
    "cp1251",
    "iso8859_5",
    "cp866",
    "cp1253",
    "iso8859_7",
    "cp1255",
    "cp1256",
    "cp874",
    "gb18030",
    "big5",
    "cp932",
    "euc_jp",
    "cp949",
]
_GUESS_SAMPLE = 64 * 1024
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]{1,40})""", re.I
)


def codec_for(label: str | None) -> str | None:
    """Return the Python codec name for a charset label, or None when it is unknown or unsafe."""
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if not name or len(name) > 40:
        return None
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError, TypeError):
        return None
    return None if codec in _REFUSED else codec


def html_meta_charset(data: bytes) -> str | None:
    """Return the charset an HTML document declares in a ``<meta>`` tag, if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` to text using the declared charset when it fits; never raises."""
    codec = codec_for(declared)
    if codec and codec.startswith(_DECLARED_FIRST_PREFIXES):
        text = _try(data, codec)
        if text is not None:
            return text
    if data.isascii():
        return data.decode("ascii")
    text = _try(data, "utf-8")
    if text is not None:
        return text.removeprefix("\ufeff")
    if codec and codec not in ("utf-8", "ascii"):
        text = _try(data, _SUPERSETS.get(codec, codec))
        if text is not None:
            return text
    return guess_decode(data)


def guess_decode(data: bytes) -> str:
    """Decode bytes whose charset is unknown or wrong."""
    latin = data.decode("cp1252", errors="replace")
    if _reads_as_latin(latin):
        return latin
    try:
        best = from_bytes(data[:_GUESS_SAMPLE], cp_isolation=_NON_LATIN_CANDIDATES).best()
    except Exception:  # a detector bug must not lose the message
        logger.warning("charset detection failed", exc_info=True)
        best = None
    if best is not None:
        text = _try(data, best.encoding, errors="replace")
        if text is not None:
            return text
    return latin


def _reads_as_latin(text: str) -> bool:
    """True when text decoded as windows-1252 looks like Latin-script prose, not mojibake."""
    if "\ufffd" in text:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    accented = sum(1 for ch in letters if not ch.isascii())
    # A handful of accented letters is too little for a detector; Western text is then likelier.
    return accented <= 4 or accented / len(letters) < 0.3


def _try(data: bytes, codec: str, errors: str = "strict") -> str | None:
    try:
        return data.decode(codec, errors)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
