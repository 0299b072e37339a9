"""API authentication: personal bearer tokens (scoped) and the UI's session (with CSRF)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from ninja.throttling import SimpleRateThrottle

from servio.accounts.services import token_authenticate
from servio.core.errors import PermissionDenied, Unauthorized
from servio.core.middleware import client_ip

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_TOKEN_LENGTH = 200


class TokenAuth(HttpBearer):
    """`Authorization: Bearer svo_...`; a read-scoped token may only use safe methods."""

    def authenticate(self, request: HttpRequest, token: str):
        token = token.strip()
        # Garbage (control characters, huge values) never reaches the database.
        if len(token) > MAX_TOKEN_LENGTH or not (token.isascii() and token.isprintable()):
            raise Unauthorized("The API token is malformed. Copy it again from your settings.")
        api_token = token_authenticate(plaintext=token, client_ip=client_ip(request))
        if request.method not in SAFE_METHODS and api_token.scope != api_token.Scope.WRITE:
            raise PermissionDenied(
                "This token is read-only. Create a token with the 'write' scope to make changes."
            )
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class ActiveSessionAuth(SessionAuth):
    """The signed-in UI user; unsafe methods need the CSRF token (ninja checks it)."""

    def authenticate(self, request: HttpRequest, key: str | None):
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None


class TokenRateThrottle(SimpleRateThrottle):
    """Per-token (or per-session-user) requests per minute, from SERVIO_API_RATE_LIMIT.

    One instance serves every request on every thread, so the per-request figures live in a
    thread-local (ninja's base class keeps them on `self`, where concurrent requests would mix
    up each other's keys and waits).
    """

    scope = "api"

    def __init__(self) -> None:
        self._state = threading.local()
        super().__init__(rate=self.get_rate())

    def get_rate(self) -> str:
        return f"{settings.SERVIO_API_RATE_LIMIT}/m"

    def allow_request(self, request: HttpRequest) -> bool:
        limit, duration = settings.SERVIO_API_RATE_LIMIT, 60
        key = self.get_cache_key(request)
        now = self.timer()
        # Requests per whole second of the window: at most 60 entries whatever the rate (a
        # list of timestamps grew to thousands on a busy token, copied on every request).
        current = int(now)
        counts = {
            second: n
            for second, n in self.cache.get(key, {}).items()
            if second > current - duration
        }
        used = sum(counts.values())
        if used >= limit:
            # Free again when enough of the oldest seconds leave the window.
            over = used - limit + 1
            for second in sorted(counts):
                over -= counts[second]
                if over <= 0:
                    self._state.wait = max(0.0, second + duration - now)
                    break
            return False
        counts[current] = counts.get(current, 0) + 1
        self.cache.set(key, counts, duration)
        self._state.wait = None
        return True

    def wait(self) -> float | None:
        return getattr(self._state, "wait", None)

    def get_cache_key(self, request: HttpRequest) -> str:
        token = getattr(request, "api_token", None)
        if token is not None:
            ident = f"token:{token.pk}"
        elif request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


token_auth = TokenAuth()
session_auth = ActiveSessionAuth()
DEFAULT_AUTH = [token_auth, session_auth]
