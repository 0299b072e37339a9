"""Keep large encoded bodies out of the standard library's parser.

`email.parser` reads a message as text, line by line, and joins each part's lines again: a
40 MB attachment cost about eight times its size in memory. Before parsing, `skeleton`
replaces every long run of base64-looking lines (the body of a large attachment) by one
placeholder line naming where the run lies in the raw bytes; the parser then sees a small
message with the same structure, and the attachment is decoded straight from the raw bytes
(`payload`). Boundary lines start with `--`, which base64 never contains, so a run never
swallows the structure. Messages shorter than `MIN_RUN` are parsed as they are.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass, field

MIN_RUN = 256 * 1024  # bytes of base64 lines worth keeping out of the parser
# Possessive (++, ?+): the engine keeps no backtracking state per line (a plain + kept about
# 270 bytes per line, 150 MB for a 40 MB attachment). The last line of a run may be short.
_RUN = re.compile(
    rb"(?m)^(?:[A-Za-z0-9+/]{16,998}+={0,2}\r?\n)++(?:[A-Za-z0-9+/]{1,15}+={0,2}\r?\n)?+"
)


@dataclass
class Blobs:
    """The runs taken out of a message: placeholder index -> (start, end) in `data`."""

    data: bytes = b""
    token: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)

    def placeholder(self, index: int) -> str:
        return f"servio-blob-{self.token}-{index}"

    def span_of(self, payload: object) -> tuple[int, int] | None:
        """The raw span a part's payload stands for, when it is one of our placeholders."""
        if not self.spans or not isinstance(payload, str) or len(payload) > 80:
            return None
        prefix = f"servio-blob-{self.token}-"
        text = payload.strip()
        if not text.startswith(prefix) or not text[len(prefix) :].isdigit():
            return None
        index = int(text[len(prefix) :])
        return self.spans[index] if index < len(self.spans) else None

    def restore(self, serialised: bytes) -> bytes:
        """Put the runs back into a serialised part (an embedded message kept as .eml)."""
        if not self.spans or self.token.encode() not in serialised:
            return serialised
        pattern = re.compile(rb"servio-blob-" + self.token.encode() + rb"-(\d+)\r?\n?")
        return pattern.sub(lambda m: self._run(int(m.group(1))), serialised)

    def _run(self, index: int) -> bytes:
        start, end = self.spans[index]
        return self.data[start:end]


def skeleton(data: bytes) -> tuple[bytes, Blobs]:
    """`data` with its long base64 runs replaced by placeholder lines, and where they were."""
    blobs = Blobs(data=data, token=secrets.token_hex(8))
    if len(data) < MIN_RUN:
        return data, blobs
    pieces: list[bytes] = []
    last = 0
    for match in _RUN.finditer(data):
        start, end = match.span()
        if end - start < MIN_RUN:
            continue
        newline = b"\r\n" if data[end - 2 : end] == b"\r\n" else b"\n"
        pieces.append(data[last:start])
        pieces.append(blobs.placeholder(len(blobs.spans)).encode() + newline)
        blobs.spans.append((start, end))
        last = end
    if not blobs.spans:
        return data, blobs
    pieces.append(data[last:])
    return b"".join(pieces), blobs


def payload(blobs: Blobs, span: tuple[int, int], transfer_encoding: str) -> bytes:
    """The decoded bytes of a run, read from the raw message without copying it first."""
    view = memoryview(blobs.data)[span[0] : span[1]]
    encoding = transfer_encoding.strip().lower()
    if encoding == "base64":
        try:
            return binascii.a2b_base64(view)  # skips the line breaks
        except binascii.Error:  # bad padding: pad it, as the standard library does
            cleaned = bytes(view).translate(None, b"\r\n")
            try:
                return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))
            except binascii.Error:  # one stray character: decode the whole groups
                return binascii.a2b_base64(cleaned[: len(cleaned) - len(cleaned) % 4])
    if encoding == "quoted-printable":
        return binascii.a2b_qp(view)
    return bytes(view)
