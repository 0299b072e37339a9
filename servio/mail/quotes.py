# ruff: noqa: RUF001 - the patterns are multilingual on purpose
"""Find the new text of a reply, and what a forward forwards.

``extract_reply`` works on the plain text body, line by line, and is deliberately conservative:
losing a customer's words is worse than keeping a quoted line.

1. It cuts everything from the first *history marker*: a reply intro whose quote is not
   ``>``-prefixed (``On ... wrote:`` and its German, French, Spanish, Portuguese, Italian, Dutch,
   Scandinavian, Polish, Russian and Japanese forms, also when wrapped over two or three lines),
   an ``-----Original Message-----`` separator (several languages), a forward marker, an Outlook
   ``____`` rule followed by a header block, or an Outlook ``From: / Sent: / To: / Subject:``
   header block (several languages).
2. A reply intro that is followed by ``>`` lines is removed with them, but text after the quote
   is kept, so bottom-posted and interleaved answers survive.
3. ``>`` lines are removed wherever they are.
4. The signature from a ``-- `` separator line on is removed, and so are "Sent from my iPhone"
   style lines. Sign-offs ("Best regards") are kept: they are cheap, and matching them loses text.

``detect_forward`` uses quotequail to unwrap an inline forward (its header parsing handles
several languages and wrapped lines).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr

import quotequail

logger = logging.getLogger(__name__)

_PROBE_LIMIT = 400  # history markers are short lines; longer lines are never markers
_UNWRAP_MAX_LINES = 1000
_UNWRAP_LINE_LIMIT = 1000
_I = re.IGNORECASE

_REPLY_INTROS = [
    re.compile(pattern, _I)
    for pattern in (
        r"^on\b.{3,300}\bwrote\s?:?$",
        r"^am\b.{3,300}\bschrieb\b.{0,300}:$",
        r"^.{3,300}\bschrieb am\b.{3,300}:$",
        r"^le\b.{3,300}\ba écrit\s?:$",
        r"^el\b.{3,300}\bescribió\s?:$",
        r"^em\b.{3,300}\bescreveu\s?:$",
        r"^il\b.{3,300}\bha scritto\s?:$",
        r"^op\b.{3,300}\b(schreef|geschreven)\b.{0,300}:$",
        r"^(den|på)\b.{3,300}\bskrev\b.{0,300}:$",
        r"^w dniu\b.{3,300}\bnapisał(\(a\))?\s?:$",
        r"^.{3,300}\bнаписал(\(а\))?\s?:$",
        r"^.{0,100}\d{4}年\d{1,2}月\d{1,2}日.{0,300}:$",
        r"^\d{4}[/.-]\d{1,2}[/.-]\d{1,2}.{0,300}<[^<>\s]+@[^<>\s]+>\s?:?$",
    )
]
# "X wrote:" alone is too common in prose to cut on; it only counts when '>' lines follow.
_WEAK_INTRO = re.compile(r"^.{1,200}\b(wrote|schrieb|a écrit|escribió|ha scritto)\s?:$", _I)
_SEPARATORS = [
    re.compile(pattern, _I)
    for pattern in (
        r"^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|"
        r"mensaje original|messaggio originale|oorspronkelijk bericht|oprindelig meddelelse|"
        r"ursprungligt meddelande|původní zpráva|wiadomość oryginalna|исходное сообщение)"
        r"\s*-{2,}$",
        r"^-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|"
        r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|пересылаемое сообщение)"
        r"\s*-{2,}$",
        r"^(begin forwarded message|anfang der weitergeleiteten (e-mail|nachricht)|"
        r"début du message réexpédié|inicio del mensaje reenviado|inizio messaggio inoltrato)"
        r"\s?:?$",
    )
]
_FORWARD_MARKERS = re.compile(
    r"^(-{2,}\s*)?(forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|пересылаемое сообщение|"
    r"begin forwarded message|anfang der weitergeleiteten|début du message réexpédié|"
    r"inicio del mensaje reenviado)",
    _I | re.MULTILINE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|wg|tr|rv|enc|doorst|vs)\s*:", _I)
_RULE = re.compile(r"^_{20,}$")
_FROM_LINE = re.compile(r"^\*?(from|von|de|van|da|od|från|fra|от)\s?\*?:\*?\s*\S", _I)
_DATE_LINE = re.compile(
    r"^\*?(sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|skickat|sendt|wysłano|"
    r"отправлено|data)\s?\*?:",
    _I,
)
_TO_SUBJECT_LINE = re.compile(
    r"^\*?(to|an|à|para|a|aan|till|til|do|кому|subject|betreff|objet|asunto|oggetto|"
    r"onderwerp|ämne|emne|temat|тема|cc)\s?\*?:",
    _I,
)
_MOBILE_SIGNATURE = re.compile(
    r"^(sent from my \w[\w\s'’.-]{0,40}|sent from (mail|outlook) for \w+|get outlook for \w+|"
    r"sent from (yahoo mail|outlook|gmail)\b.{0,40}|sent from \w+ mobile|"
    r"von meinem \w[\w\s-]{0,30} gesendet|gesendet von meinem \w[\w\s-]{0,30}|"
    r"envoyé de mon \w[\w\s-]{0,30}|enviado desde mi \w[\w\s-]{0,30}|"
    r"inviato da(l mio)? \w[\w\s-]{0,30}|verzonden (vanaf|met) mijn \w[\w\s-]{0,30}|"
    r"skickat från min \w[\w\s-]{0,30})$",
    _I,
)


@dataclass(frozen=True)
class ForwardedInfo:
    """What a forward forwards: the original sender, subject, date and text.

    ``date`` is as written in the body for inline forwards, ISO 8601 UTC for attached ones.
    """

    kind: str  # "inline" (pasted into the body) or "attachment" (a message/rfc822 part)
    from_address: str
    from_name: str
    subject: str
    date: str | None
    text: str


def _probe(line: str) -> str:
    """A line as markers are matched: no-break spaces as spaces, bold stars gone, bounded."""
    line = line[:_PROBE_LIMIT].replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(line.split())


def _is_quoted(probe: str) -> bool:
    return probe.startswith(">")


def extract_reply(text: str) -> str:
    """The new text of a reply: quoted history, ``>`` quotes and signatures removed."""
    lines = text.split("\n")
    probes = [_probe(line) for line in lines]
    keep: list[str] = []
    n = 0
    while n < len(lines):
        probe = probes[n]
        if _is_quoted(probe):
            n += 1
            continue
        intro_end = _reply_intro_end(probes, n)
        if intro_end is not None:
            following = _next_non_blank(probes, intro_end + 1)
            if following is not None and _is_quoted(probes[following]):
                n = following  # drop the intro; the quote lines are skipped above
                continue
            if _is_strong_intro(probes, n, intro_end):
                break
        if _is_history_marker(probes, n):
            break
        keep.append(lines[n])
        n += 1
    return _tidy(_strip_signature(keep))


def _is_strong_intro(probes: list[str], start: int, end: int) -> bool:
    joined = " ".join(probes[start : end + 1])
    return any(pattern.match(joined) for pattern in _REPLY_INTROS)


def _reply_intro_end(probes: list[str], n: int) -> int | None:
    """If a reply intro starts on line n (possibly wrapped over 3 lines), its last line."""
    if not probes[n] or probes[n].endswith((".", "!", "?")):
        return None
    joined = ""
    for end in range(n, min(n + 3, len(probes))):
        if not probes[end] or _is_quoted(probes[end]):
            return None
        joined = f"{joined} {probes[end]}".strip()
        if len(joined) > _PROBE_LIMIT:
            return None
        if any(pattern.match(joined) for pattern in _REPLY_INTROS) or _WEAK_INTRO.match(joined):
            return end
    return None


def _next_non_blank(probes: list[str], start: int) -> int | None:
    for index in range(start, len(probes)):
        if probes[index]:
            return index
    return None


def _is_history_marker(probes: list[str], n: int) -> bool:
    probe = probes[n]
    if any(pattern.match(probe) for pattern in _SEPARATORS):
        return True
    if _RULE.match(probe):
        following = _next_non_blank(probes, n + 1)
        return following is not None and _is_header_block(probes, following)
    return _is_header_block(probes, n)


def _is_header_block(probes: list[str], n: int) -> bool:
    """An Outlook-style ``From:`` line followed by a date line and a To/Subject line."""
    if not _FROM_LINE.match(probes[n]):
        return False
    window = [probe for probe in probes[n + 1 : n + 12] if probe][:6]
    return any(_DATE_LINE.match(line) for line in window) and any(
        _TO_SUBJECT_LINE.match(line) for line in window
    )


def _strip_signature(lines: list[str]) -> list[str]:
    result = []
    for line in lines:
        if line.rstrip() == "--" or line == "-- ":
            break
        if _MOBILE_SIGNATURE.match(_probe(line)):
            continue
        result.append(line)
    return result


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def is_forward_subject(subject: str) -> bool:
    """True when the subject starts with a forward prefix (Fwd:, FW:, WG:, TR:, RV: ...)."""
    return bool(_FORWARD_SUBJECT.match(subject))


def detect_forward(text: str, subject: str) -> ForwardedInfo | None:
    """Unwrap an inline forward from a plain text body, or None when it is not one.

    quotequail calls an Outlook ``-----Original Message-----`` reply a forward too, so a
    forward needs a forward subject prefix or an explicit forward marker in the text. Only the
    first 1,000 lines (each cut to 1,000 characters) are unwrapped; later lines are appended.
    """
    if not (is_forward_subject(subject) or _FORWARD_MARKERS.search(text)):
        return None
    # quotequail is quadratic in runs of header-like lines and some of its patterns backtrack on
    # long lines: give it a bounded head of the text and append the rest of the body unchanged.
    lines = text.split("\n")
    head = [line[:_UNWRAP_LINE_LIMIT] for line in lines[:_UNWRAP_MAX_LINES]]
    tail = "\n".join(lines[_UNWRAP_MAX_LINES:])
    try:
        unwrapped = quotequail.unwrap("\n".join(head))
    except Exception:
        logger.info("quotequail could not unwrap a forward", exc_info=True)
        return None
    if not unwrapped or unwrapped.get("type") != "forward":
        return None
    name, address = split_address(unwrapped.get("from", ""))
    return ForwardedInfo(
        kind="inline",
        from_address=address,
        from_name=name,
        subject=" ".join(unwrapped.get("subject", "").split()),
        date=unwrapped.get("date") or None,
        text="\n".join(filter(None, (unwrapped.get("text", ""), tail))),
    )


_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(\.[\w-]+)+")


def split_address(value: str) -> tuple[str, str]:
    """``(name, lower-cased address)`` from ``Name <a@b>`` or Outlook's ``Name [mailto:a@b]``."""
    value = " ".join(value.replace("mailto:", "").split())
    match = _ADDRESS.search(value)
    if not match:
        return value.strip("\"' "), ""
    address = match.group(0).lower()
    name = parseaddr(value)[0]
    if not name:
        name = value[: match.start()].rstrip(" <[(").strip("\"' ")
    return name, address
