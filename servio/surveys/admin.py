"""Django admin: satisfaction survey responses (read only; deleting one is audited)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from servio.audit.admin_base import AuditedAdmin
from servio.surveys.models import SurveyResponse


@admin.register(SurveyResponse)
class SurveyResponseAdmin(AuditedAdmin):
    list_display = ("created_at", "ticket", "rating", "team", "agent")
    list_filter = ("rating", "team")
    readonly_fields = ("invitation", "ticket", "team", "agent", "rating", "comment", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
