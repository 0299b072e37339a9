"""Safety net: any error response under /api/ that is not problem+json becomes one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from servio.api.problems import PROBLEM_CONTENT_TYPE, problem_response

DETAILS = {
    403: "Forbidden. For session requests, send the CSRF token; otherwise use a bearer token.",
    404: "There is no API endpoint at this address. See /api/v1/docs.",
    405: "This endpoint does not accept that HTTP method. See /api/v1/docs.",
}


class ApiProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            detail = DETAILS.get(response.status_code, "The request failed.")
            problem = problem_response(request, response.status_code, detail)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    problem[header] = response[header]
            return problem
        return response
