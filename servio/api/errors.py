"""Maps domain errors, validation errors and framework errors to problem+json, once."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from servio.api.problems import problem_response
from servio.core.errors import DomainError, RateLimited, ValidationFailed

log = logging.getLogger(__name__)
CONTAINER_LOCS = {"body", "query", "path", "header", "cookie", "form", "file", "payload", "data"}


def field_name(loc: list | tuple) -> str:
    """('body', 'payload', 'title') -> 'title'; nested -> 'address.city'; lists keep indexes."""
    parts = [str(p) for p in loc]
    while len(parts) > 1 and parts[0] in CONTAINER_LOCS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError):
        errors = None
        if isinstance(exc, ValidationFailed):
            errors = [
                {"field": f, "message": m} for f, messages in exc.errors.items() for m in messages
            ]
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        extra = {k: v for k, v in exc.extra.items() if k not in {"retry_after"}}
        return problem_response(
            request, exc.status, exc.detail, code=exc.code, errors=errors, headers=headers, **extra
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError):
        errors = []
        for err in exc.errors:
            loc = err.get("loc", [])
            message = err.get("msg", "is invalid")
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            errors.append({"field": field_name(loc), "message": message})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request."
        return problem_response(request, 422, detail, code="validation_failed", errors=errors)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError):
        return problem_response(
            request,
            401,
            "Authentication required: send 'Authorization: Bearer <token>' with a personal API "
            "token (create one in your settings), or sign in.",
            code="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="servio"'},
        )

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled):
        wait = max(1, int(getattr(exc, "wait", None) or 1))
        return problem_response(
            request,
            429,
            f"Rate limit exceeded for this token. Retry in {wait} seconds.",
            code="rate_limited",
            headers={"Retry-After": str(wait)},
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError):
        return problem_response(request, exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404):
        return problem_response(request, 404, "Nothing matches that identifier.", code="not_found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig):
        return problem_response(
            request,
            413,
            "The request body is larger than the server accepts. Send a smaller body or file.",
            code="payload_too_large",
        )

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception):
        log.exception("Unhandled API error", exc_info=exc)
        return problem_response(
            request,
            500,
            "An unexpected error happened. It has been logged; quote the request id when you "
            "report it.",
            code="internal_error",
        )
