"""Build test email the way mail clients send it."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone

_ids = itertools.count(1)


def make_email(
    *,
    sender: str,
    subject: str,
    body: str = "Hello, something is broken.",
    to: str = "servicedesk@provider.example",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
    cc: list[str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or f"<test-{next(_ids)}-{id(msg)}@client.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content, ctype in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
