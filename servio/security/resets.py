"""Password-reset throttle (decision 22): so many requests per account and per client address
in SERVIO_PASSWORD_RESET_WINDOW_MINUTES; beyond that no email is sent, and the page answers
exactly as it does otherwise."""

from __future__ import annotations

from django.conf import settings

from servio.security import limits, log
from servio.security.models import SecurityEvent

ACCOUNT = "reset-account"
ADDRESS = "reset-address"


def reset_refused(*, email: str, address: str) -> str | None:
    """Count this request; the scope whose limit it is over (then send nothing), or None.

    Addresses without an account are counted like the others, so being refused says nothing
    about whether the account exists. The first refusal of a scope in a window is logged.
    """
    window = settings.SERVIO_PASSWORD_RESET_WINDOW_MINUTES * 60
    if (
        limits.count(ADDRESS, address, window=window, sliding=False)
        > settings.SERVIO_PASSWORD_RESET_ADDRESS_LIMIT
    ):
        scope, ident = ADDRESS, address
    elif (
        limits.count(ACCOUNT, email, window=window, sliding=False)
        > settings.SERVIO_PASSWORD_RESET_ACCOUNT_LIMIT
    ):
        scope, ident = ACCOUNT, email
    else:
        return None
    if limits.first(scope, ident, window=window):
        log.note(SecurityEvent.Kind.RESET_THROTTLED, detail={"scope": scope, "email": email})
    return scope
