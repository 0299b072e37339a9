"""Writes each request's refusals to the security log once its answer is built."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from servio.core import refusals
from servio.security import log
from servio.security.signin import pause_of


class RefusalMiddleware:
    """Collects what the request refused (403s, lookups answered 404, sign-in failures and
    throttles) and writes it after the view, outside the view's transactions. A sign-in form
    shown again because a throttle paused the attempt is answered 429 with Retry-After.

    Placed outside every middleware that opens a transaction (idempotency), so a failed request's
    rollback cannot take the rows along; writing never changes or breaks the answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with refusals.collecting() as noted:
            response = self.get_response(request)
        pause = pause_of(request)
        if pause is not None and response.status_code == 200:
            response.status_code = 429
            response["Retry-After"] = str(pause.seconds)
        status = _status_told(response)
        if noted or status == 403:
            log.record(request, status, noted)
        return response


def _status_told(response: HttpResponse) -> int:
    """The status the caller sees: HTMX swaps refusals as 200 and names the real one in a header
    (workspace `swap_status`)."""
    told = response.get("X-Servio-Status", "")
    return int(told) if told.isdigit() else response.status_code
