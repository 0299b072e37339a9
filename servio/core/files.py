"""Uploaded files: clean names, sniff the real type, choose a safe type to serve them with."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

import filetype

MAX_NAME = 150
_WINDOWS_RESERVED = {
    "con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}  # fmt: skip
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
# Types a browser may be told; everything else is served as application/octet-stream.
SAFE_TYPES = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff",
    "application/pdf", "text/plain", "text/csv", "application/zip", "application/gzip",
    "application/x-7z-compressed", "application/vnd.ms-outlook", "message/rfc822",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/json", "audio/mpeg", "video/mp4",
}  # fmt: skip


def clean_filename(name: str | None, fallback: str = "attachment") -> str:
    """A name safe on every file system and in a header: no paths, controls or bidi tricks."""
    name = name or ""
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"})
    name = _UNSAFE.sub("_", name).strip().strip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    ext = ext[:16]
    stem = stem[: MAX_NAME - len(ext) - 1]
    name = f"{stem}.{ext}" if ext and stem else stem or ext
    return name or fallback


def sniff_content_type(head: bytes, filename: str = "") -> str:
    """The type the bytes really are (magic numbers), else text/plain for readable text."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    sample = head[:4096]
    if b"\x00" not in sample:
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            lowered = filename.lower()
            if lowered.endswith(".csv"):
                return "text/csv"
            if lowered.endswith(".json"):
                return "application/json"
            return "text/plain"
    return "application/octet-stream"


def served_content_type(content_type: str) -> str:
    return content_type if content_type in SAFE_TYPES else "application/octet-stream"
