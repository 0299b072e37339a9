"""`servio mail ingest [--mailbox ADDRESS] < message.eml` (for an MTA pipe) and `servio mail poll`.

The line it prints names the outcome, or "duplicate" when the mailbox already had the message
(same Message-ID and content; another message reusing a Message-ID is processed as a new one).
Exit codes follow sysexits.h, which MTAs understand: 0 the message is stored (whatever the
outcome: ticket, comment, held, quarantined, ignored, or a duplicate that changed nothing);
65 the input is empty or too large (the MTA bounces it); 75 a temporary failure on our side
(database unreachable, no such mailbox configured, an unexpected error): the MTA keeps the
message and retries, so nothing is lost.
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Email channel: ingest one message from standard input, or poll the IMAP mailboxes."
    stealth_options = ("stdin",)
    requires_system_checks: list[str] = []  # an MTA runs this per message: start fast

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        ingest = actions.add_parser(
            "ingest", help="read one RFC 5322 message from standard input (for an MTA pipe)"
        )
        ingest.add_argument(
            "--mailbox", help="the mailbox address (default: the one the recipients name)"
        )
        poll = actions.add_parser(
            "poll", help="poll the active IMAP mailboxes now (also those backing off)"
        )
        poll.add_argument("--mailbox", help="only this mailbox")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "ingest":
            self._ingest(options)
        else:
            self._poll(options)

    def _ingest(self, options: dict[str, Any]) -> None:
        from servio.core.errors import DomainError
        from servio.mail import services

        stream = options.get("stdin") or sys.stdin.buffer
        limit = int(getattr(settings, "SERVIO_MAIL_MAX_MESSAGE_MB", 50)) * 1024 * 1024
        raw = stream.read(limit + 1)
        if not raw or not raw.strip():
            raise CommandError("No message on standard input.", returncode=EX_DATAERR)
        if len(raw) > limit:
            raise CommandError(
                f"The message is larger than {limit // 1048576} MB (SERVIO_MAIL_MAX_MESSAGE_MB).",
                returncode=EX_DATAERR,
            )
        try:
            mailbox = services.mailbox_for_delivery(raw=raw, address=options.get("mailbox"))
            delivered = services.inbound_deliver(raw=raw, mailbox=mailbox, via="pipe")
        except DomainError as exc:
            raise CommandError(exc.detail, returncode=EX_TEMPFAIL) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"The database is not available ({exc}); the MTA should retry later.",
                returncode=EX_TEMPFAIL,
            ) from exc
        except Exception as exc:
            raise CommandError(
                f"Unexpected error: {type(exc).__name__}: {exc}", returncode=EX_TEMPFAIL
            ) from exc
        message = delivered.message
        ticket = f" {message.ticket.reference}" if message.ticket_id and message.ticket else ""
        reason = f": {message.reason}" if message.reason else ""
        outcome = f"{message.status}{ticket}{reason}"
        if delivered.duplicate:  # only the same Message-ID with the same content
            outcome = f"duplicate, nothing changed (first copy: {outcome})"
        self.stdout.write(f"{mailbox.address}: message #{message.pk} {outcome}")

    def _poll(self, options: dict[str, Any]) -> None:
        from servio.mail import services
        from servio.mail.models import Mailbox

        if options.get("mailbox"):
            mailbox = Mailbox.objects.filter(address__iexact=options["mailbox"]).first()
            if mailbox is None:
                raise CommandError(f"No mailbox {options['mailbox']}.", returncode=EX_TEMPFAIL)
            try:
                result = services.mailbox_poll(mailbox=mailbox)
            except Exception as exc:
                raise CommandError(f"Polling failed: {exc}", returncode=EX_TEMPFAIL) from exc
            self.stdout.write(
                f"{mailbox.address}: {result.stored} new, {result.duplicates} duplicate, "
                f"{result.outcomes}"
            )
            return
        for address, outcome in services.mailboxes_poll(waiting_too=True).items():
            self.stdout.write(f"{address}: {outcome}")
