"""Periodic jobs of the email channel: poll the IMAP mailboxes, finish interrupted intake."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from servio.core.jobs import periodic
from servio.mail import services

POLL_EVERY = timedelta(seconds=int(getattr(settings, "SERVIO_MAIL_POLL_SECONDS", 60)))


@periodic("mail.poll", every=POLL_EVERY, lane="mail")
def poll_mailboxes() -> dict[str, str]:
    """Fetch new mail from every active IMAP mailbox that is not backing off. Its own lane: a
    hung mail server must not hold up outbox delivery or the other jobs."""
    return services.mailboxes_poll()


@periodic("mail.process_stored", every=timedelta(minutes=5))
def process_stored() -> int:
    """Process messages that were stored but whose processing was interrupted."""
    return services.inbound_process_pending()
