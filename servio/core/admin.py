"""Django admin of the background machinery: dead letters of every handler, with an audited
requeue (the mail admin's outbound log shows the same failures for email)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from servio.audit.admin_base import AuditedAdmin
from servio.core.errors import DomainError
from servio.core.models import DeadLetter
from servio.core.services import dead_letters_requeue


@admin.register(DeadLetter)
class DeadLetterAdmin(AuditedAdmin):
    """Read only; requeue (audited, per row) once the cause is fixed, or delete (audited)."""

    list_display = ("id", "handler", "topic", "attempts", "created_at", "error")
    list_filter = ("handler", "topic")
    search_fields = ("handler", "topic", "last_error", "event_id")
    readonly_fields = tuple(f.name for f in DeadLetter._meta.get_fields() if f.concrete)
    actions = ("requeue",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="last error")
    def error(self, obj: DeadLetter) -> str:
        return obj.last_error.strip().splitlines()[-1][:200] if obj.last_error.strip() else ""

    @admin.action(description="Requeue the selected dead letters (fresh attempts, due now)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        try:
            done = dead_letters_requeue(
                actor=request.user, ids=list(queryset.values_list("id", flat=True))
            )
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        self.message_user(request, f"{len(done)} dead letter(s) requeued.")
