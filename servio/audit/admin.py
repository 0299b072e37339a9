from django.contrib import admin

from servio.audit.admin_base import ReadOnlyAdmin
from servio.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: there is no add, change or delete path for audit rows."""

    list_display = ("seq", "at", "actor_repr", "action", "object_type", "object_id", "client_ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_repr", "object_id", "object_repr", "request_id")
    ordering = ("-seq",)
