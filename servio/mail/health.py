"""The email channel's part of /api/v1/health: mailboxes whose latest poll failed."""

from __future__ import annotations

from servio.core.health import check
from servio.mail.models import Mailbox


@check(
    "mailboxes_failing",
    problem="{count} mailbox(es) failed their latest poll; see Mailboxes in the admin.",
)
def mailboxes_failing() -> int:
    """Active IMAP mailboxes whose latest poll failed (the admin shows which, and why)."""
    return Mailbox.objects.filter(is_active=True, poll_failures__gt=0).exclude(imap_host="").count()
