"""Classify inbound mail: automatic replies, bounces, mailing-list mail and ticket references.

Rules (the first that matches gives ``reason``):

Bounces (``is_bounce``; a bounce is also an automatic message, so ``is_auto_reply`` is set too):
  ``multipart/report; report-type=delivery-status``, a ``message/delivery-status`` part, a sender
  whose local part is ``mailer-daemon``/``postmaster`` (or Exchange's ``MicrosoftExchange329e...``
  NDR sender), an ``X-Failed-Recipients`` header.

Automatic replies (``is_auto_reply``):
  ``Auto-Submitted`` with any value but ``no`` (RFC 3834); ``X-Autoreply``/``X-Autorespond``/
  ``X-AutoReply-From``/``X-Mail-Autoreply``; ``X-Auto-Response-Suppress`` containing ``All`` or
  ``OOF`` (Exchange sets it on its own automatic mail); ``Precedence: bulk|junk|list|auto_reply``;
  a read receipt (``multipart/report; report-type=disposition-notification``); a null
  ``Return-Path: <>`` (RFC 5321 reserves it for DSNs, MDNs and auto-replies); and, last, a subject
  that starts with a client's automatic-reply prefix (``Automatic reply:``, ``Out of Office:``,
  ``Automatische Antwort:``, ``Réponse automatique :`` ...), for Exchange OOFs that carry none
  of the headers.

``List-Id`` alone does not make a message automatic: Google Groups and Microsoft 365 groups used as
support addresses add it to real requests. It sets ``is_list_mail`` instead, and the intake must
not send automatic acknowledgements to such mail (RFC 3834 section 2). Note that Google Groups
also sends ``Precedence: list``, which counts as automatic, as the brief for this layer requires.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

TICKET_REF = re.compile(r"\[(INC|REQ|PRB|CHG|TSK)-(\d{6,})\]", re.IGNORECASE)

_BOUNCE_LOCAL_PARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_EXCHANGE_NDR_SENDER = "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e"
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply")
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office( reply)?|"
    r"automatische antwort|abwesenheitsnotiz|réponse automatique|respuesta automática|"
    r"risposta automatica|automatisch antwoord|autosvar|automaattinen vastaus)\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Classification:
    """How automatic a message is, and why."""

    is_auto_reply: bool = False
    is_bounce: bool = False
    reason: str | None = None
    is_list_mail: bool = False


def ticket_ref(subject: str) -> str | None:
    """The first ``[INC-000123]``-style reference in a subject, upper-cased, e.g. ``INC-000123``."""
    match = TICKET_REF.search(subject)
    return f"{match.group(1).upper()}-{match.group(2)}" if match else None


def classify(
    *,
    header: Callable[[str], str | None],
    from_address: str,
    subject: str,
    content_type: str,
    report_types: Collection[str],
    has_delivery_status: bool,
) -> Classification:
    """Apply the rules in this module's docstring; ``header(name)`` returns a header or None."""
    is_list_mail = bool(header("list-id"))
    bounce = _bounce_reason(header, from_address, content_type, report_types, has_delivery_status)
    if bounce:
        return Classification(True, True, f"bounce: {bounce}", is_list_mail)
    auto = _auto_reason(header, subject, report_types)
    if auto:
        return Classification(True, False, auto, is_list_mail)
    return Classification(is_list_mail=is_list_mail)


def _bounce_reason(
    header: Callable[[str], str | None],
    from_address: str,
    content_type: str,
    report_types: Collection[str],
    has_delivery_status: bool,
) -> str | None:
    if content_type == "multipart/report" and "delivery-status" in report_types:
        return "multipart/report delivery-status"
    if has_delivery_status:
        return "message/delivery-status part"
    local_part = from_address.rsplit("@", 1)[0]
    if local_part in _BOUNCE_LOCAL_PARTS or local_part.startswith(_EXCHANGE_NDR_SENDER):
        return f"sender {local_part}"
    if header("x-failed-recipients"):
        return "x-failed-recipients"
    return None


def _auto_reason(
    header: Callable[[str], str | None], subject: str, report_types: Collection[str]
) -> str | None:
    auto_submitted = _token(header("auto-submitted"))
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted: {auto_submitted}"
    for name in _AUTOREPLY_HEADERS:
        value = header(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{name}: {value.strip().lower() or 'present'}"
    suppress = {
        item.strip().lower() for item in (header("x-auto-response-suppress") or "").split(",")
    }
    if suppress & {"all", "oof"}:
        return f"x-auto-response-suppress: {', '.join(sorted(suppress & {'all', 'oof'}))}"
    precedence = _token(header("precedence"))
    if precedence in _AUTO_PRECEDENCE:
        return f"precedence: {precedence}"
    if "disposition-notification" in report_types:
        return "read receipt (disposition-notification)"
    if (header("return-path") or "").replace(" ", "") == "<>":
        return "return-path: <>"
    if _AUTO_SUBJECT.match(subject):
        return "subject: automatic reply"
    return None


def _token(value: str | None) -> str:
    """The first token of a header like ``auto-replied; owner-email=...``, lower-cased."""
    return (value or "").split(";", 1)[0].strip().lower()
