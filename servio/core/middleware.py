"""Binds a request id and the client address for the audit trail and echoes X-Request-ID;
pins the configuration token for the length of a read."""

from __future__ import annotations

import contextlib
import re

from django.http import HttpRequest, HttpResponse

from servio.core import configcache, context

READS = frozenset({"GET", "HEAD"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else context.new_request_id()
        # A read sees one configuration: the caches check the token once per request.
        pin = configcache.pinned() if request.method in READS else contextlib.nullcontext()
        with context.bind(request_id=request_id, client_ip=client_ip(request)), pin:
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
