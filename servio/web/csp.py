"""Content-Security-Policy on every response, so that markup slipped into a page (or a file
opened in the browser) cannot run script, load from elsewhere, be framed or post elsewhere.

Pages run only the scripts and style sheets we serve as files: no inline <script>, no event
handler attributes, no inline styles (decision 20). Anything that is not a page (JSON, problem
documents, attachments) may run and load nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
PAGE_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Tabler's CSS draws its icons from data: SVGs
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
OTHER_DIRECTIVES = {
    "default-src": "'none'",
    "frame-ancestors": "'none'",
    "sandbox": "",
}


def header_value(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


PAGE_POLICY = header_value(PAGE_DIRECTIVES)
OTHER_POLICY = header_value(OTHER_DIRECTIVES)


def is_page(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().lower() == "text/html"


class ContentSecurityPolicyMiddleware:
    """Adds the page policy to text/html responses and the closed policy to everything else
    (a response that already carries a policy keeps it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = PAGE_POLICY if is_page(response) else OTHER_POLICY
        return response
