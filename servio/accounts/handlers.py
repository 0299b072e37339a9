"""Outbox handlers of accounts: the password-reset email, sent after the request answered."""

from __future__ import annotations

from servio.accounts import services
from servio.core.outbox import Event, handler


@handler(services.PASSWORD_RESET_TOPIC, name="accounts.password_reset_email")
def password_reset_email(event: Event) -> None:
    services.password_reset_send(email=event.payload["email"])
