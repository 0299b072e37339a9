"""Django admin: the portal's questions in the requester's words and what each answer means."""

from __future__ import annotations

from django.contrib import admin

from servio.audit.admin_base import AuditedAdmin
from servio.portal.models import PortalAnswer
from servio.tickets.models import Level


@admin.register(PortalAnswer)
class PortalAnswerAdmin(AuditedAdmin):
    """The answers of "How bad is it?" (urgency) and "Who is affected?" (impact).

    Changes apply to tickets reported afterwards. Answers are switched off rather than deleted,
    so a code once sent is never reused for another meaning.
    """

    list_display = ("question", "order", "wording", "level", "means", "is_active")
    list_editable = ("order", "wording", "level", "is_active")
    list_display_links = ("question",)
    list_filter = ("question", "is_active")
    ordering = ("question", "order", "id")
    fields = ("question", "code", "wording", "level", "order", "is_active")

    @admin.display(description="sets")
    def means(self, obj: PortalAnswer) -> str:
        what = "urgency" if obj.question == PortalAnswer.Question.HOW_BAD else "impact"
        return f"{what} {Level(obj.level).label}" if obj.level in Level.values else what

    def get_readonly_fields(self, request, obj=None):
        return ("question", "code") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # switch an answer off instead (its code keeps its meaning)
