"""Make attachment filenames from strangers safe to store, show and download."""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME_BYTES = 180  # UTF-8 bytes; leaves room under the usual 255-byte filesystem limit
_MAX_EXTENSION = 16
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "CONIN$",
    "CONOUT$",
    *(f"COM{n}" for n in range(1, 10)),
    *(f"LPT{n}" for n in range(1, 10)),
}
# A fixed table, so fallback names do not depend on the host's /etc/mime.types.
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "text/calendar": ".ics",
    "text/rfc822-headers": ".txt",
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/json": ".json",
    "application/xml": ".xml",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
}


def fallback_filename(index: int, content_type: str) -> str:
    """Name an attachment that came without a usable name: ``attachment-<index><ext>``."""
    return f"attachment-{index}{_EXTENSIONS.get(content_type, '.bin')}"


def clean_filename(name: str | None, *, index: int, content_type: str) -> str:
    """Return a safe filename: no path, no control or bidi characters, no leading dots, bounded.

    ``index`` (1-based position among the attachments) and ``content_type`` make the fallback
    name when nothing usable is left.
    """
    cleaned = _clean(name or "")
    return cleaned or fallback_filename(index, content_type)


def _clean(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    # Drop control, format (bidi overrides, zero-width), surrogate, private and unassigned code
    # points, and line/paragraph separators, before looking for path separators.
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029"
    )
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _FORBIDDEN.sub("_", name)
    name = " ".join(name.split())
    name = name.lstrip(". ").rstrip(". ")
    if not name:
        return ""
    stem, _, rest = name.partition(".")
    if stem.strip().upper() in _WINDOWS_RESERVED:
        name = f"{stem}_" + (f".{rest}" if rest else "")
    return _bound(name)


def _bound(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > _MAX_EXTENSION or not ext.isalnum():
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(". ")
    return f"{stem}{suffix}" if stem else ""
