"""The security log in the Django admin: read, filter and search; nothing to add or change."""

from __future__ import annotations

import ipaddress

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from servio.audit.admin_base import ReadOnlyAdmin
from servio.security.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Rows are written by the request middleware and pruned by the retention job only."""

    list_display = (
        "at", "kind", "user_repr", "client_ip", "method", "path", "status", "object_type",
        "object_id",
    )  # fmt: skip
    list_filter = ("kind", "at", "status", "object_type")
    search_fields = ("user_repr", "path", "object_id", "request_id")
    ordering = ("-at", "-id")
    show_full_result_count = False  # no COUNT(*) over the whole log on every page
    list_per_page = 100

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """An address (192.0.2.7, 2001:db8::1) finds that client's events; other text searches
        who, path, object and request id (an address column cannot be compared with text)."""
        term = (search_term or "").strip()
        try:
            address = ipaddress.ip_address(term)
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(client_ip=str(address)), False
