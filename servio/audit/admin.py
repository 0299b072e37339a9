from django.contrib import admin

from servio.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: there is no add, change or delete path for audit rows."""

    list_display = ("seq", "at", "actor_repr", "action", "object_type", "object_id", "client_ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_repr", "object_id", "object_repr", "request_id")
    ordering = ("-seq",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
