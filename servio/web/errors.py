"""Turning domain errors into messages beside the form fields they name, and the error page of
an unexpected exception: a database outage is a 503 page, not a 500 (handler500)."""

from __future__ import annotations

import sys

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from servio.core import outages
from servio.core.errors import DomainError, ValidationFailed


def add_errors(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put each reason of `exc` beside its field (or above the form when no field matches)."""
    aliases = aliases or {}
    if isinstance(exc, ValidationFailed):
        for name, reasons in exc.errors.items():
            target = aliases.get(name, name)
            for reason in reasons:
                form.add_error(target if target in form.fields else None, sentence(reason))
        return
    fields = [aliases.get(f, f) for f in exc.extra.get("fields") or []]
    named = [f for f in fields if f in form.fields]
    if named:
        for name in named:
            form.add_error(name, exc.detail)
    else:
        form.add_error(None, exc.detail)


def sentence(reason: str) -> str:
    """ "is required." -> "This field is required."; whole sentences stay as they are."""
    if reason[:1].islower():
        return f"This field {reason}" if reason.startswith(("is ", "must ")) else reason
    return reason


REFUSALS = (409, 422)  # a form's errors, a conflict: shown to the person, not failures of the page


def answer_status(status: int) -> int:
    """The status a page or an HTMX part answers with: form errors (422) and conflicts (409) as
    200, because browsers log every 4xx response as a console error, a whole page's as much as
    an HTMX swap's. The real outcome travels in X-Servio-Status (tests, tools, security log)."""
    return 200 if status in REFUSALS else status


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """Render a page or part that may show refusals: see `answer_status`."""
    response = render(request, template, context, status=answer_status(status))
    response["X-Servio-Status"] = str(status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 view, except for a database outage: 503 with Retry-After, as a page that
    needs no database, or as problem+json under /api/ (mapped there, in api.errors)."""
    exc = sys.exc_info()[1]
    unavailable = outages.database_unavailable(exc) if exc is not None else None
    if unavailable is None:
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        from servio.api.errors import database_error

        return database_error(request, exc)  # type: ignore[arg-type]
    page = loader.render_to_string("503.html", {"detail": unavailable.detail})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(unavailable.retry_after)
    return response
