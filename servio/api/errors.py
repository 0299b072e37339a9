"""Maps domain errors, validation errors and framework errors to problem+json, once."""

from __future__ import annotations

import logging
import math

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import Error as DbError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from servio.api.problems import problem_response
from servio.core import outages
from servio.core.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)
# Where ninja says a value came from; the client only needs the field's own name.
LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}
# Handlers name their body schema parameter `payload` (a convention of every router); it is our
# name, not the client's, so it is dropped from error locations.
BODY_PARAM = "payload"
# Likewise the names under which handlers group query parameters (`filters: Query[...]`).
QUERY_PARAMS = {"filters", "page", "query"}


def field_name(loc: list | tuple) -> str:
    """('body', 'payload', 'title') -> 'title'; ('query', 'limit') -> 'limit'; nested joined.

    A location with nothing left ('body', 'payload') means the body as a whole.
    """
    parts = [str(p) for p in loc if p != "[key]"]
    where = "body"
    if parts and parts[0] in LOCATIONS:
        where, parts = parts[0], parts[1:]
        if where == "body" and parts[:1] == [BODY_PARAM]:
            parts = parts[1:]
        if where == "query":
            if len(parts) > 1 and parts[0] in QUERY_PARAMS:
                parts = parts[1:]
            while len(parts) > 1 and parts[-1].isdigit():  # team.0 -> team
                parts = parts[:-1]
    return ".".join(parts) or where


def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [
            {"field": f, "message": m} for f, messages in exc.errors.items() for m in messages
        ]
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    extra = {k: v for k, v in exc.extra.items() if k != "retry_after"}
    return problem_response(
        request, exc.status, exc.detail, code=exc.code, errors=errors, headers=headers, **extra
    )


def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        field = field_name(err.get("loc", ()))
        message = err.get("msg", "is invalid")
        if field == "body" and err.get("type") in {"missing", "model_attributes_type"}:
            message = "Send a JSON object as the request body."
        errors.append({"field": field, "message": message})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request."
    return problem_response(request, 422, detail, code="validation_failed", errors=errors)


def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        request,
        401,
        "Authentication required: send 'Authorization: Bearer <token>' with a personal API "
        "token (create one in your settings), or sign in.",
        code="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="servio"'},
    )


def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = max(1, math.ceil(getattr(exc, "wait", None) or 1))
    return problem_response(
        request,
        429,
        f"Rate limit exceeded for this token. Retry in {wait} seconds.",
        code="rate_limited",
        headers={"Retry-After": str(wait)},
    )


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps whatever the body parser raises in a generic 400; our parser raises domain
    # errors on purpose (415, malformed JSON), so answer with those instead.
    if isinstance(exc.__cause__, DomainError):
        return domain_error(request, exc.__cause__)
    return problem_response(request, exc.status_code, str(exc))


def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, 404, "Nothing matches that identifier.", code="not_found")


def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem_response(
        request,
        413,
        "The request body is larger than the server accepts. Send a smaller body or file.",
        code="payload_too_large",
    )


def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Django raises these for malformed requests (too many query fields, bad multipart...).
    return problem_response(request, 400, f"The request is malformed: {exc}", code="bad_request")


def overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # SQLite cannot bind integers beyond 64 bits (e.g. `?priority=10**30` in an IN filter); the
    # parameter should declare its range so the error names it, but it is never a 500.
    log.warning("Out-of-range number reached the database: %s", exc)
    return problem_response(
        request, 422, "A number in the request is out of range.", code="validation_failed"
    )


def database_error(request: HttpRequest, exc: DbError) -> HttpResponse:
    """A database outage (down, restarting, locked) is 503 with Retry-After; anything else is
    ours to fix. Also answers for errors raised outside the API's views (web.errors)."""
    unavailable = outages.database_unavailable(exc)
    if unavailable is None:
        return unexpected(request, exc)
    log.warning("Database unavailable: %s", exc)
    return domain_error(request, unavailable)


def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled API error", exc_info=exc)
    return problem_response(
        request,
        500,
        "An unexpected error happened. It has been logged; quote the request id when you "
        "report it.",
        code="internal_error",
    )


HANDLERS = {
    DomainError: domain_error,
    NinjaValidationError: validation_error,
    AuthenticationError: auth_error,
    Throttled: throttled,
    HttpError: http_error,
    Http404: not_found,
    RequestDataTooBig: too_big,
    SuspiciousOperation: suspicious,
    OverflowError: overflow,
    DbError: database_error,
    Exception: unexpected,
}


def install(api: NinjaAPI) -> None:
    """Register every handler; ninja picks the most specific class of the raised error."""
    for exc_class, handler in HANDLERS.items():
        api.add_exception_handler(exc_class, handler)
