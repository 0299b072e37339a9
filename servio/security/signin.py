"""Sign-in throttles (decision 22), for every `authenticate()` with a request: /login/ and
/admin/login/ alike.

Three counts of failed sign-ins, each forgotten SERVIO_LOGIN_COOLOFF_MINUTES after its last
failure:

- one account from one address: SERVIO_LOGIN_FAILURE_LIMIT failures pause that pair for the
  cool-off (the owner elsewhere is not affected);
- one address across accounts: SERVIO_LOGIN_ADDRESS_FAILURE_LIMIT failures pause the address
  (trying one password on many accounts, "spraying");
- one account from anywhere: from SERVIO_LOGIN_FAILURE_LIMIT failures on, each failure pauses the
  account for 1, 2, 4 ... seconds up to SERVIO_LOGIN_MAX_DELAY_SECONDS, never longer: a stranger
  can slow an account down but not lock its owner out; a password reset lifts it.

Accounts that do not exist are counted the same, so a pause says nothing about existence. A
paused attempt is refused before any password is checked and does not count as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

from servio.core.middleware import client_ip
from servio.security import limits, log
from servio.security.models import SecurityEvent

PAIR = "signin-pair"
ADDRESS = "signin-address"
ACCOUNT = "signin-account"
# What the request carries when an attempt was refused by a pause.
REQUEST_ATTRIBUTE = "servio_sign_in_pause"


@dataclass(frozen=True)
class Pause:
    """Why and for how long sign-in attempts are refused."""

    scope: str
    seconds: int

    @property
    def message(self) -> str:
        wait = _duration(self.seconds)
        if self.scope == ADDRESS:
            return (
                f"Too many failed sign-ins from your network address; try again in {wait}. "
                "If you have forgotten your password, reset it."
            )
        whose = "for this account from your address" if self.scope == PAIR else "for this account"
        return (
            f"Too many failed sign-ins {whose}; try again in {wait}, or reset your password "
            "(which lifts the pause)."
        )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{-(-seconds // 60)} minutes"


def account_name(username: object) -> str:
    """The account name as counted: trimmed and lower case (addresses match either way)."""
    return username.strip().lower()[:254] if isinstance(username, str) else ""


def _keys(account: str, address: str) -> dict[str, tuple[str, str]]:
    return {
        PAIR: (PAIR, f"{account}\x1f{address}"),
        ADDRESS: (ADDRESS, address),
        ACCOUNT: (ACCOUNT, account),
    }


def current_pause(*, account: str, address: str) -> Pause | None:
    """The longest pause that applies to this account from this address, if any."""
    waits = limits.paused(_keys(account, address))
    if not waits:
        return None
    scope = max(waits, key=lambda name: waits[name])
    return Pause(scope, waits[scope])


def record_failure(*, account: str, address: str) -> list[Pause]:
    """Count one failed sign-in; returns the pauses it started."""
    cooloff = settings.SERVIO_LOGIN_COOLOFF_SECONDS
    limit = settings.SERVIO_LOGIN_FAILURE_LIMIT
    keys = _keys(account, address)
    started = []
    for scope, threshold in ((PAIR, limit), (ADDRESS, settings.SERVIO_LOGIN_ADDRESS_FAILURE_LIMIT)):
        if limits.count(*keys[scope], window=cooloff) >= threshold:
            limits.pause(*keys[scope], cooloff)
            started.append(Pause(scope, cooloff))
    failures = limits.count(*keys[ACCOUNT], window=cooloff)
    if failures >= limit:
        delay = min(settings.SERVIO_LOGIN_MAX_DELAY_SECONDS, 2 ** min(failures - limit, 30))
        limits.pause(*keys[ACCOUNT], delay)
        started.append(Pause(ACCOUNT, delay))
    return started


def forgive(*, account: str, address: str) -> None:
    """After a sign-in or a password reset: the account's counts start again (the address's
    count across accounts does not: signing in to one's own account must not reset it)."""
    keys = _keys(account, address)
    limits.clear(*keys[PAIR])
    limits.clear(*keys[ACCOUNT])


class ThrottleBackend:
    """First in AUTHENTICATION_BACKENDS: refuses an attempt while a pause applies, before any
    password is checked (Django then stops and sends `user_login_failed`). It has no `get_user`:
    it never signs anyone in, so sessions never name it."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:  # no client to throttle (a management command, a test's login())
            return None
        pause = current_pause(account=account_name(username), address=client_ip(request) or "")
        if pause is None:
            return None
        setattr(request, REQUEST_ATTRIBUTE, pause)
        raise PermissionDenied(pause.message)


def pause_of(request: HttpRequest | None) -> Pause | None:
    """The pause that refused this request's sign-in attempt, if one did."""
    return getattr(request, REQUEST_ATTRIBUTE, None)


@receiver(user_login_failed, dispatch_uid="servio.security.signin.failed")
def _failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is None or pause_of(request) is not None:
        return  # nothing to throttle, or refused by a pause (not a failure of its own)
    from servio.accounts.models import User

    account = account_name(credentials.get("username"))
    user_id = User.objects.filter(email=account).values_list("pk", flat=True).first()
    target = {"object_type": "accounts.user", "object_id": str(user_id or "")}
    log.note(SecurityEvent.Kind.SIGN_IN_FAILED, detail={"username": account}, **target)
    for pause in record_failure(account=account, address=client_ip(request) or ""):
        detail = {"username": account, "scope": pause.scope, "seconds": pause.seconds}
        log.note(SecurityEvent.Kind.LOCKOUT, detail=detail, **target)


@receiver(user_logged_in, dispatch_uid="servio.security.signin.succeeded")
def _succeeded(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None:
        forgive(account=account_name(user.email), address=client_ip(request) or "")
