"""Fixtures of the email channel tests: a mailbox, ingestion helpers, outbox draining, and the
real servers (aiosmtpd SMTP, Dovecot IMAP) on 127.0.0.1 with free ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from servio.core import outbox
from servio.mail import services
from servio.mail.models import Mailbox
from tests.factories import OrganizationFactory
from tests.filesystems import full_disk  # noqa: F401 - fixture
from tests.mail.servers import (  # noqa: F401 - fixtures
    _smtp_controller,
    dovecot_server,
    imap_account,
    smtp_server,
)

CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"
DESK = "servicedesk@provider.example"


@pytest.fixture
def walk_in(personas):
    """Where unknown senders without a matching email domain become requesters; the desk
    serves it, so the mailbox's default team may take its tickets (decision 16)."""
    organization = OrganizationFactory(name="Walk-in", slug="walk-in")
    personas.team_desk.serves.add(organization)
    return organization


@pytest.fixture
def mailbox(personas, walk_in) -> Mailbox:
    return Mailbox.objects.create(
        name="Provider Service Desk",
        address=DESK,
        default_team=personas.team_desk,
        default_organization=walk_in,
    )


@pytest.fixture
def ingest(mailbox):
    """ingest(raw bytes or a corpus file name) -> InboundMessage, as `servio mail ingest` does."""

    def run(raw: bytes | str, *, into: Mailbox | None = None):
        if isinstance(raw, str):
            raw = (CORPUS / raw).read_bytes()
        return services.inbound_ingest(raw=raw, mailbox=into or mailbox, via="pipe")

    return run


@pytest.fixture
def drain():
    """Deliver every due outbox row (ticket events, then the emails they queue)."""

    def run() -> int:
        return outbox.drain()

    return run


@pytest.fixture(autouse=True)
def _mail_urls(settings):
    """The mail and survey API routers and the survey page (see tests/mail/urls.py)."""
    settings.ROOT_URLCONF = "tests.mail.urls"
