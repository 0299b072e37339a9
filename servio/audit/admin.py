from django.contrib import admin

from servio.audit.admin_base import ReadOnlyAdmin
from servio.audit.models import AuditEvent, AuditSeal


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: there is no add, change or delete path for audit rows."""

    list_display = ("id", "seq", "at", "actor_repr", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_repr", "object_id", "object_repr", "request_id")
    ordering = ("-id",)
    list_select_related = ("seal",)

    @admin.display(description="chain #")
    def seq(self, event: AuditEvent) -> str:
        seal = getattr(event, "seal", None)
        return f"#{seal.seq}" if seal else "(not sealed yet)"


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdmin):
    """Read-only: the chain as the sealer wrote it."""

    list_display = ("seq", "event", "sealed_at", "hash")
    ordering = ("-seq",)
    list_select_related = ("event",)
