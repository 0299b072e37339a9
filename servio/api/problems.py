"""RFC 9457 problem documents: the one shape every API error takes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
    507: "Insufficient storage",
}


def problem_response(
    request: HttpRequest | None,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": f"https://servio.dev/problems/{code or status}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.path
        if request_id := getattr(request, "request_id", None):
            body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
