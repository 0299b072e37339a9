"""Pages show times in the reader's zone: activated per request from `effective_zone`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servio.accounts.timezones import effective_zone

API_PREFIX = "/api/"


class TimeZoneMiddleware:
    """After authentication: desk, portal and admin pages render aware times in the signed-in
    person's effective zone (templates' `date` filter, `localtime`, Python's
    `timezone.localtime`). The API is left in UTC: it answers ISO 8601 in UTC for everyone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        timezone.activate(effective_zone(user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
