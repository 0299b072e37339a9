"""The project's URLconf plus one view that is refused inside a transaction it rolls back."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path

from servio import urls as project_urls
from servio.accounts.models import Organization
from servio.core.errors import PermissionDenied


def refused_in_a_transaction(request: HttpRequest) -> HttpResponse:
    try:
        with transaction.atomic():
            Organization.objects.create(name="Doomed", slug="doomed")
            raise PermissionDenied("Refused after a write; the write is rolled back.")
    except PermissionDenied as exc:
        return HttpResponse(exc.detail, status=403)


urlpatterns = [
    path("refused-in-a-transaction/", refused_in_a_transaction),
    *project_urls.urlpatterns,
]
