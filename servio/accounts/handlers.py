"""Outbox handlers of accounts: the password-reset email, sent after the request answered."""

from __future__ import annotations

from servio.accounts import services
from servio.core.outbox import Event, handler


@handler(services.PASSWORD_RESET_TOPIC, name="accounts.password_reset_email", external=True)
def password_reset_email(event: Event) -> None:
    """SMTP, with no transaction open; the event id keys the email's Message-ID."""
    services.password_reset_send(email=event.payload["email"], event_id=event.id)
